// From what the users saw under each balancer mode and phase, one verdict among exactly four.
export const VERDICTS = ['stateless', 'needs affinity', 'breaks even with affinity', 'loses state on restart'];

export const EXIT = { stateless: 0, notStateless: 1, cannotJudge: 2 };

const failed = (mode, phase) => (mode?.phases[phase]?.failures ?? 0) > 0;

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
 * What the logout probe found (VirtualUser.logoutProbe), as `--json` gives it: `effective` true (the check with
 * the credentials from before the logout passes on no replica), false (it still passes on some: `stillIn` names
 * them), or null (not judged: `line` says why); `replicas` each replica's check before and after; `line` in words.
 */
export function logoutOf(probe) {
  if (!probe.loggedIn) return { effective: null, line: 'not judged: the probe could not log in' };
  const { logout } = probe;
  const replicas = probe.replicas.map(({ before, after }) => ({ replica: after.replica ?? before.replica, before: before.passed, after: after.passed, status: after.status }));
  const said = (answer) => `replica ${answer.replica ?? '-'} answered ${answer.status}${answer.text ? ` "${answer.text}"` : ''}`;
  if (!logout.passed) return { effective: null, replicas, logout, line: `not judged: the logout, ${logout.request}, ${said(logout)}, not what the scenario's logout expects` };
  const stillIn = probe.replicas.filter(({ after }) => after.passed);
  if (stillIn.length > 0) {
    const first = stillIn[0].after;
    return {
      effective: false,
      stillIn: stillIn.map(({ after }) => after.replica),
      replicas,
      logout,
      line: `NOT effective: after ${logout.request} answered ${logout.status}, the check sent with the cookies and token from before it still passed on ${stillIn.length} of ${replicas.length} replicas (${said(first)}): the session lives on in ${stillIn.length === replicas.length ? 'the cookie or token itself (a signed one, as JWT and cookie-session keep it) or' : ''} those replicas' copies, and whoever holds a copy of it (a stolen cookie) stays logged in`,
    };
  }
  if (!probe.replicas.some(({ before }) => before.passed)) {
    return { effective: null, replicas, logout, line: 'not judged: before the logout, the check passed on no replica when sent to each (the session lives in one replica, and that one was replaced?)' };
  }
  const held = probe.replicas.filter(({ before }) => before.passed).length;
  return { effective: true, replicas, logout, line: `effective: after ${logout.request}, the check sent with the cookies and token from before it passed on none of ${replicas.length} replicas (it passed on ${held} before)` };
}
