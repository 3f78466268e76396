// From what the users saw under each balancer mode and phase, one verdict among exactly four.
export const VERDICTS = ['stateless', 'needs affinity', 'breaks even with affinity', 'loses state on restart'];

export const EXIT = { stateless: 0, notStateless: 1, cannotJudge: 2 };

/**
 * Whether a balancer's users saw a failure in `phase`: an answer that was not what the step expects, or no answer
 * within kura-check's timeout (a replica that stalls where the session is missing shows nothing else; a run where
 * no check was answered at all, or where even affinity's steady traffic had only unanswered requests, is not
 * judged: run.js says so first).
 */
const failed = (mode, phase) => (mode?.phases[phase]?.failures ?? 0) + (mode?.phases[phase]?.timeouts ?? 0) > 0;

/**
 * Whether round robin's steady traffic asked some replica for a session it did not make: a step answered by a
 * replica other than its user's login, or one that failed or had no answer. With none, round robin showed nothing
 * either way (its users each kept to their login's replica), and "stateless" would be the absence of evidence.
 */
export const sessionsMoved = (rr) => (rr?.phases.steady?.elsewhere ?? 0) > 0 || failed(rr, 'steady');

/**
 * `modes` maps 'round-robin' and 'cookie-affinity' to their recorded counts (see Recorder).
 * - breaks even with affinity: a loss while every request of a user goes to one replica and none is restarted;
 * - needs affinity: losses under round robin while nothing is restarted (and none with affinity);
 * - loses state on restart: round robin is fine until a replica is killed or rolled;
 * - stateless: nothing lost anywhere.
 */
export function verdictOf(modes) {
  const rr = modes['round-robin'];
  const affinity = modes['cookie-affinity'];
  if (failed(affinity, 'steady')) return 'breaks even with affinity';
  if (failed(rr, 'steady')) return 'needs affinity';
  if ([rr, affinity].some((mode) => failed(mode, 'kill') || failed(mode, 'rolling'))) return 'loses state on restart';
  return 'stateless';
}

/**
 * Whether a "loses state on restart" comes only from replicas still warming up: no failure (nor request with no
 * answer) while nothing was restarted, and every failure after the kill and in the rolling restart a 503 from a
 * replica that had just joined the balancer (Recorder's `warming`). A stateless app whose new replicas answer 503
 * for a moment after their ready path passes lost nothing; its `ready` path answers too early (run.js says so).
 */
export function onlyWarmingUp(modes) {
  const all = Object.values(modes);
  const later = all.flatMap((mode) => ['kill', 'rolling'].map((phase) => mode.phases[phase]).filter(Boolean));
  const failures = later.reduce((sum, phase) => sum + phase.failures, 0);
  return (
    failures > 0 &&
    all.every((mode) => !failed(mode, 'steady')) &&
    later.every((phase) => (phase.timeouts ?? 0) === 0 && (phase.warming ?? 0) === phase.failures)
  );
}

/**
 * Whether a "loses state on restart" comes only from requests with no answer in time: nothing failed (nor went
 * unanswered) while nothing was restarted, and after the kill and in the rolling restart no answer at all was a
 * wrong one, only some came too late. A replica that stopped answering (deadlocked, stuck in a graceful shutdown
 * that never ends) loses nobody's session by that: a stateless app with one stuck replica was judged "loses state
 * on restart", exit 1 (run.js says it cannot judge instead).
 */
export function onlyUnanswered(modes) {
  const all = Object.values(modes);
  const later = all.flatMap((mode) => ['kill', 'rolling'].map((phase) => mode.phases[phase]).filter(Boolean));
  return later.some((phase) => (phase.timeouts ?? 0) > 0) && all.every((mode) => !failed(mode, 'steady')) && later.every((phase) => phase.failures === 0);
}

/**
 * The replica addresses that answered 5xx to every step they were sent and passed none, when every failure of the
 * run came from them (and no request went unanswered): replicas broken from their start (a database they could
 * not reach), which answer everyone alike, not sessions lost. A stateless app with one such replica was judged
 * "breaks even with affinity", exit 1: its users pinned to it failed while nothing was restarted (run.js says it
 * cannot judge instead). Else undefined. An app answering 500 where a session is missing passes its own users'
 * steps, and is judged by its losses.
 */
export function onlyBrokenReplicas(modes) {
  const all = Object.values(modes);
  const phases = all.flatMap((mode) => Object.values(mode.phases));
  if (phases.some((phase) => (phase.timeouts ?? 0) > 0)) return undefined;
  const byAddress = countsByAddress(modes);
  const broken = Object.keys(byAddress).filter((address) => byAddress[address].passed === 0 && byAddress[address].otherFailures === 0);
  const failures = phases.reduce((sum, phase) => sum + phase.failures, 0);
  const theirs = broken.reduce((sum, address) => sum + byAddress[address].serverErrors, 0);
  return failures > 0 && theirs === failures ? broken : undefined;
}

/**
 * The replica addresses that answered 503, when a run judged "breaks even with affinity" had no other failure (no
 * other status, no request unanswered) and more than one replica answered 503, each of which passed other steps:
 * every replica answering "unavailable" alike while a user's requests all went to one of them is a service they share
 * failing for a while (their store, their database), not sessions lost. An outside review stopped the Redis of an app
 * on KuraStore for 2 s during a run: "breaks even with affinity", and the advice to keep its sessions in KuraStore.
 * Else undefined. 503 alone, not any 5xx: an app answering 500 where a session is missing, its replicas each a cluster
 * of workers that keep sessions apart, fails under affinity with 500s from every replica, and loses sessions (a review
 * of this rule, 2026-12-07, when it took any 5xx). A replica that passed nothing is onlyBrokenReplicas'.
 */
export function onlySharedFailure(modes) {
  const phases = Object.values(modes).flatMap((mode) => Object.values(mode.phases));
  if (phases.some((phase) => (phase.timeouts ?? 0) > 0 || (phase.unavailable ?? 0) !== phase.failures)) return undefined;
  const byAddress = countsByAddress(modes);
  if (Object.values(byAddress).some((counts) => counts.otherFailures > 0)) return undefined;
  const failing = Object.keys(byAddress).filter((address) => byAddress[address].serverErrors > 0);
  return failing.length > 1 && failing.every((address) => byAddress[address].passed > 0) ? failing : undefined;
}

/** Passed steps, 5xx answers and other failures by replica address, over every mode and phase. */
function countsByAddress(modes) {
  const byAddress = {};
  for (const mode of Object.values(modes)) {
    for (const [address, counts] of Object.entries(mode.byAddress ?? {})) {
      const sum = (byAddress[address] ??= { passed: 0, serverErrors: 0, otherFailures: 0 });
      for (const key of Object.keys(sum)) sum[key] += counts[key];
    }
  }
  return byAddress;
}

/**
 * What the logout probe found (VirtualUser.logoutProbe), as `--json` gives it: `effective` true (the check with
 * the credentials from just before the logout passes on no replica that answered it), false (it still passes on
 * some: `stillIn` names them), or null (not judged, which the run reports as exit 2: `line` says why); `replicas`
 * each replica's check before and after (passed or not, and the status after); `line` in words.
 */
export function logoutOf(probe) {
  const said = (answer) => (answer.status === 0 ? 'had no answer in time' : `replica ${answer.replica ?? '-'} answered ${answer.status}${answer.text ? ` "${answer.text}"` : ''}`);
  if (!probe.loggedIn) return { effective: null, line: `not judged: the probe could not log in${probe.why ? ` (${probe.why.request} answered ${probe.why.status} "${probe.why.body.slice(0, 80)}")` : ''}` };
  if (!probe.current.passed) {
    return {
      effective: null,
      line: `not judged: the check no longer passed with the probe's own cookies and token just before the logout (${said(probe.current)}): an app that replaces its session id at every request leaves no copy to send again; take logout out of the scenario`,
    };
  }
  const { logout } = probe;
  const replicas = probe.replicas.map(({ before, after }) => ({ replica: after.replica ?? before.replica, before: before.passed, after: after.passed, status: after.status }));
  if (!logout.passed) {
    const csrf = [403, 419, 422].includes(logout.status) ? '; a CSRF token? send it as the other requests do ({cookie:NAME}, or a capture)' : '';
    return { effective: null, replicas, logout, line: `not judged: the logout, ${logout.request}, ${said(logout)}, not what the scenario's logout expects${probe.expects ? ` (${probe.expects})` : ''}${csrf}` };
  }
  const answered = probe.replicas.filter(({ after }) => after.status > 0 && after.status < 500);
  const stillIn = answered.filter(({ after }) => after.passed);
  if (stillIn.length > 0) {
    const first = stillIn[0].after;
    // Ended on a replica that took it before: the others hold copies of their own. Ended on none that took it (an app
    // whose replicas each take only their own cookies, signed with a key made at start, took it on one replica before
    // and after): the cookie itself, as when every replica takes it (an outside review's Koa app was told of copies).
    const endedOn = answered.filter(({ before, after }) => before.passed && !after.passed).map(({ after }) => after.replica);
    const took = answered.filter(({ before }) => before.passed).length;
    const where =
      endedOn.length > 0
        ? "those replicas' copies of it (a cache, or a list of ended sessions each keeps for itself)"
        : `the cookie or token itself (a signed one, as JWT and cookie-session keep it), or ${took === replicas.length ? "every replica's copy of it" : 'the copy of the replicas that took it'}, or the store the logout left it in`;
    const some = took < replicas.length ? `; before it, on ${took} of them: the session was taken by ${took === 1 ? 'one replica' : 'some replicas'} only (see the verdict)` : '';
    return {
      effective: false,
      stillIn: stillIn.map(({ after }) => after.replica),
      endedOn,
      replicas,
      logout,
      line: `NOT effective: after ${logout.request} answered ${logout.status}, the check sent with the cookies and token from just before it still passed on ${stillIn.length} of ${replicas.length} replicas (${said(first)})${some}: the session lives on in ${where}, and whoever holds a copy of the ${probe.token ? 'token' : 'cookie'} (a stolen one) stays logged in`,
    };
  }
  if (answered.length === 0) {
    return { effective: null, replicas, logout, line: `not judged: after the logout no replica answered the check with a status below 500 (${said(probe.replicas[0].after)})` };
  }
  const unanswered = replicas.length - answered.length;
  // An app that keeps its sessions in one replica passed on that one alone before the logout: "none after" is
  // then no praise of how it scales out, and the line says so.
  const before = answered.filter(({ before }) => before.passed).length;
  return {
    effective: true,
    replicas,
    logout,
    line: `effective: after ${logout.request}, the check sent with the cookies and token from just before it passed on none of ${answered.length} replicas${unanswered ? ` (${unanswered} gave no answer below 500)` : ''}${before < answered.length ? `; before it, on ${before} of them: the session was taken by ${before === 1 ? 'one replica' : 'some replicas'} only (see the verdict)` : ''}`,
  };
}
