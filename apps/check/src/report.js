// What a run found, three ways: one JSON object (--json), a table for the terminal, a Markdown report (--report).
import { nextStepsOf } from './advice.js';
import { keptChart } from './chart.js';
import { cautionsOf } from './scenario.js';
import { EXIT } from './verdict.js';

const PHASES = ['steady', 'kill', 'rolling'];
const KINDS = ['login', 'check', 'write', 'read'];
const MODE_NAMES = { 'round-robin': 'round robin', 'cookie-affinity': 'cookie affinity' };
const PHASE_NAMES = { steady: 'steady', kill: 'after SIGKILL', rolling: 'rolling restart' };

const MEANING = {
  stateless: 'nothing was lost under round robin, a SIGKILL or a rolling restart: any replica serves any user.',
  'needs affinity':
    'sessions or state are one replica\'s own (kept in it, or readable by it alone, as with a key of its own): round robin loses them, and affinity only hides that until the replica dies or is rolled.',
  'breaks even with affinity': 'users lost their session or state even while every request went to the same replica.',
  'loses state on restart': 'round robin is fine, but a killed or restarted replica takes sessions or state with it.',
};

/** Whether the scenario's start command runs Node (its own packages are then worth naming); undefined for an image. */
function runsNode(scenario) {
  if (!scenario.start) return undefined;
  return /(^|[\s/;&|])(node|nodejs|npm|npx|yarn|pnpm|bun|deno|tsx|ts-node|nest)(\s|$)/.test(scenario.start);
}

/** The kinds of step that failed under round robin, in any phase. */
const failedKinds = (recorder) => new Set(Object.values(recorder?.phases ?? {}).flatMap((phase) => Object.entries(phase?.byKind ?? {}).filter(([, count]) => count > 0).map(([kind]) => kind)));

/** The verdict's meaning, said more precisely where the run shows more. */
function meaningOf({ verdict, modes, workers }) {
  const lost = failedKinds(modes['round-robin']);
  if (verdict === 'needs affinity' && lost.size === 1 && lost.has('login')) {
    return 'under round robin the login itself failed where it reached another replica than the request before it, and nothing else was lost: what the login needs from an earlier request (the account `setup` made, a CSRF token, a login flow\'s state) is one replica\'s own, while under affinity nothing was lost.';
  }
  if (verdict === 'needs affinity' && ['kill', 'rolling'].every((phase) => (modes['cookie-affinity']?.phases[phase]?.failures ?? 0) === 0)) {
    return 'round robin reads state missing or stale on other replicas (a per-replica copy or cache), while under affinity nothing was lost, not even through the kill and the rolling restart.';
  }
  if (verdict === 'breaks even with affinity' && workers) {
    return `${MEANING[verdict].slice(0, -1)}: each replica ran ${workers.count} processes with one command line (\`${workers.command}\`), a server's forked workers, and affinity pins a user to a replica, not to one of its processes; what one keeps in its memory (sessions, a key made at start) the others lack.`;
  }
  return MEANING[verdict];
}

/** The run as one plain object: the verdict, counts per mode, phase and replica, and the evidence. */
export function toJSON(scenario, result) {
  const modes = {};
  const evidence = [];
  const refusedCookies = {};
  for (const [mode, recorder] of Object.entries(result.modes)) {
    const phases = Object.fromEntries(PHASES.map((phase) => [phase, { requests: 0, failures: 0, timeouts: 0, elsewhere: 0, byKind: {}, ...recorder.phases[phase] }]));
    // The first request with no answer in time: evidence too (counted as a failure of its phase, verdict.js).
    const modeEvidence = [...KINDS.map((kind) => recorder.evidence[kind]), recorder.timeouts?.evidence].filter(Boolean);
    evidence.push(...modeEvidence);
    for (const refused of Object.values(recorder.refusedCookies)) {
      const seen = (refusedCookies[refused.name] ??= { ...refused, count: 0 });
      seen.count += refused.count;
    }
    modes[mode] = {
      logins: recorder.logins,
      usersAffected: recorder.usersAffected.size,
      balancerRetries: recorder.balancerRetries,
      serverErrors: recorder.serverErrors,
      phases,
      perReplica: recorder.perReplica,
      evidence: modeEvidence,
    };
  }
  return {
    tool: 'kura-check',
    app: scenario.name,
    verdict: result.verdict,
    meaning: meaningOf(result),
    // A logout that leaves the session usable is a finding too, whatever the verdict (the scenario's `logout`).
    exitCode: result.logout?.effective === null ? EXIT.cannotJudge : result.verdict === 'stateless' && result.logout?.effective !== false ? EXIT.stateless : EXIT.notStateless,
    replicas: result.replicas,
    users: result.users,
    seconds: result.seconds,
    modes,
    evidence,
    refusedCookies: Object.values(refusedCookies),
    cautions: result.cautions ?? cautionsOf(scenario),
    // What the replicas shared of this machine's files: `private` (each its own view), `sharedHere` (folders the
    // kernel would not overlay), `shared` (the scenario's), `why` (when not private). Absent for an image.
    ...(result.files ? { files: result.files } : {}),
    // The most processes of a replica with one command line (forked workers), when two or more: `count`, `command`.
    ...(result.workers ? { workers: result.workers } : {}),
    // Replicas of the rolling restart that did not end on SIGTERM, killed at the end of their grace period:
    // `killed` (their numbers), `graceSeconds`, `container` (whether they were containers).
    ...(result.shutdown ? { shutdown: { ...result.shutdown, line: shutdownLine(result.shutdown) } } : {}),
    // With the scenario's `logout`: whether a logout ends the session on every replica (run.js logoutOf).
    ...(result.logout ? { logout: result.logout } : {}),
    // A setup request that answered another status than the scenario's (the first): the users went on regardless.
    ...(result.setupFailed ? { setupFailed: result.setupFailed } : {}),
    // The names of the cookies the app set (never their values), and what to do about the verdict (advice.js).
    sessionCookies: result.sessionCookies ?? [],
    // The servers every replica held a connection to while it served (a store they share, likely; replica.js
    // sharedPeers), as addresses; absent for an image.
    ...(result.peers?.length ? { peers: result.peers } : {}),
    nextSteps: nextStepsOf({ verdict: result.verdict, logout: result.logout, sessionCookies: result.sessionCookies, evidence, image: Boolean(scenario.image), node: runsNode(scenario), peers: result.peers }),
    events: result.events,
  };
}

const pad = (cells, widths) => `| ${cells.map((cell, i) => String(cell).padEnd(widths[i])).join(' | ')} |`;
function table(header, rows) {
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => String(row[i]).length)));
  return [pad(header, widths), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map((row) => pad(row, widths))].join('\n');
}

function phaseTable(json) {
  const rows = [];
  for (const [mode, data] of Object.entries(json.modes)) {
    for (const phase of PHASES) {
      const p = data.phases[phase];
      rows.push([MODE_NAMES[mode], PHASE_NAMES[phase], p.requests, p.failures, ...KINDS.map((kind) => p.byKind[kind] ?? 0), p.timeouts ?? 0]);
    }
  }
  return table(['balancer', 'phase', 'requests', 'failed', ...KINDS.map((k) => `failed ${k}`), 'no answer in time'], rows);
}

function replicaTable(json) {
  const names = [...new Set(Object.values(json.modes).flatMap((m) => Object.keys(m.perReplica)))].sort();
  const rows = Object.entries(json.modes).map(([mode, data]) => [
    MODE_NAMES[mode],
    ...names.map((name) => (data.perReplica[name] ? `${data.perReplica[name].requests} (${data.perReplica[name].failures} failed)` : '-')),
  ]);
  return table(['balancer', ...names.map((name) => (name === 'none' ? 'no replica' : `replica ${name}`))], rows);
}

/** Server errors that a second try passed: counted apart, one line per balancer that saw any. */
export function serverErrorLines(json) {
  return Object.entries(json.modes)
    .filter(([, data]) => data.serverErrors?.count > 0)
    .map(([mode, { serverErrors: { count, first } }]) => {
      const example = first ? `; the first: ${first.request}, ${PHASE_NAMES[first.phase]}, replica ${first.replica ?? '-'} answered ${first.status}${first.body ? ` "${first.body}"` : ''}` : '';
      return `- ${MODE_NAMES[mode]}: ${count} answer${count === 1 ? '' : 's'} 5xx that passed when sent again (counted apart, not as losses)${example}`;
    });
}

/** What the replicas share of this machine's files, in words (`files`: as `--json` gives it). */
export function filesLine(files) {
  const { shared = [] } = files;
  const declared = shared.length ? `; shared, as the scenario says: ${shared.join(', ')}` : '';
  if (!files.private) return `each replica has its own copy of the app, TMPDIR and HOME; anything else it writes (a fixed path: /tmp/…, /var/…) every replica shares here, where pods would not (${files.why})${declared}`;
  // A host of container mounts (/var/lib/docker/…) would fill the line: the first few, and how many more (all in --json).
  const [named, more] = [files.sharedHere?.slice(0, 5) ?? [], (files.sharedHere?.length ?? 0) - 5];
  const refused = named.length ? `; shared as they are, the kernel would not overlay them: ${named.join(', ')}${more > 0 ? ` and ${more} more (--json lists them)` : ''}` : '';
  return `each replica's own: it sees this machine's files as they are, and what it writes outside its folder (/tmp/…, /var/…) only it sees, as a pod${refused}${declared}`;
}

/** A setup request that did not answer its `status` while the users still logged in: said, not silently passed over. */
const setupLines = (json) => (json.setupFailed ? [`- ${json.setupFailed} (the first such answer; the users went on, and logged in: is the setup still needed, or its status wrong?)`] : []);

/** Cookies the users' jar refused, as a browser would: one line each. */
export function refusedCookieLines(refused = []) {
  return refused.map((r) => `- cookie refused ${r.count} time${r.count === 1 ? '' : 's'}, as a browser refuses it: Set-Cookie: ${r.header} (${r.reason})`);
}

function evidenceLines(json) {
  if (!json.evidence.length) return ['(no failing request)'];
  return json.evidence.map(
    (e) =>
      e.status === 0
        ? `- ${e.step}: ${e.request} under ${MODE_NAMES[e.mode]}, ${PHASE_NAMES[e.phase]} (${e.atSeconds} s): ${e.note}`
        : `- ${e.step}: ${e.request} under ${MODE_NAMES[e.mode]}, ${PHASE_NAMES[e.phase]} (${e.atSeconds} s): replica ${e.replica ?? '-'} answered ${e.status}${e.body ? ` "${e.body}"` : ''}${e.note ? ` (${e.note})` : ''}`,
  );
}

/**
 * Replicas that ignored SIGTERM: not a session lost, but every rolling restart then takes the whole grace period and
 * cuts the requests under way, as Kubernetes kills them too. In a container, the usual cause is the first process
 * (PID 1), which the kernel spares the signals it has no handler for.
 */
export function shutdownLine({ killed, graceSeconds, container }) {
  const which = killed.length === 1 ? `replica ${killed[0]} did` : `replicas ${killed.slice(0, -1).join(', ')} and ${killed.at(-1)} did`;
  const why = container
    ? "a container's first process (PID 1) ignores SIGTERM unless it handles it: handle it (finish what is under way, then exit), or run the image with an init (podman or docker run --init, tini; Kubernetes: an init in the image)"
    : 'have the app handle SIGTERM: finish what is under way, then exit';
  return `${which} not end on SIGTERM and ${killed.length === 1 ? 'was' : 'were'} killed at the end of the ${graceSeconds} s grace period, as Kubernetes would: each rolling restart then takes that long and cuts the requests under way; ${why}`;
}

/**
 * After the verdict, where a logout leaves the session usable: why the exit code is 1 whatever the verdict says; or
 * where it could not be judged, why it is 2 (the scenario's logout does not fit the app).
 */
const logoutAfterVerdict = (json) =>
  json.logout?.effective === false
    ? ' But a logout does not end the session (see the logout line): exit 1.'
    : json.logout?.effective === null
      ? " But the logout could not be judged (see the logout line): the scenario's logout does not fit the app, exit 2."
      : '';

/** The terminal's view: tables, first failures, verdict. */
export function toText(json) {
  return [
    `kura-check: ${json.app}, ${json.replicas} replicas, ${json.users} users, ${json.seconds} s`,
    ...(json.files ? [`files: ${filesLine(json.files)}`] : []),
    '',
    phaseTable(json),
    '',
    'requests per replica:',
    replicaTable(json),
    '',
    'first failing request of each kind:',
    ...evidenceLines(json),
    ...serverErrorLines(json),
    ...refusedCookieLines(json.refusedCookies),
    ...setupLines(json),
    '',
    ...(json.cautions ?? []).map((caution) => `caution: ${caution}`),
    ...(json.shutdown ? [`shutdown: ${json.shutdown.line}`] : []),
    ...(json.logout ? [`logout: ${json.logout.line}`] : []),
    `verdict: ${json.verdict} — ${json.meaning}${logoutAfterVerdict(json)}`,
    ...(json.nextSteps ?? []).map((step) => `what to do: ${step}`),
  ].join('\n');
}

/** For --report: per balancer and phase, the share of requests answered as expected, and the share that failed. */
export function toSvg(json) {
  const rows = Object.entries(json.modes).flatMap(([mode, data]) =>
    PHASES.map((phase) => {
      const { requests, failures } = data.phases[phase];
      const failedPercent = (100 * failures) / Math.max(1, requests);
      return { name: `${MODE_NAMES[mode]}: ${PHASE_NAMES[phase]}`, keptPercent: 100 - failedPercent, failedPercent };
    }),
  );
  return keptChart(rows, { title: `kura-check: ${json.app} — ${json.verdict}`, kept: 'of requests as expected', failed: 'of requests failed' });
}

/** The same as Markdown, with the timeline, for --report (`chart`: the SVG file's name, beside it). */
export function toMarkdown(json, { scenarioFile, chart } = {}) {
  return [
    `# kura-check: ${json.app} — ${json.verdict}`,
    '',
    `**Verdict: \`${json.verdict}\`** — ${json.meaning}${logoutAfterVerdict(json)} (exit code ${json.exitCode})`,
    '',
    ...(json.cautions ?? []).flatMap((caution) => [`Caution: ${caution}.`, '']),
    ...(json.shutdown ? [`**Shutdown:** ${json.shutdown.line}.`, ''] : []),
    ...(json.logout ? [`**Logout:** ${json.logout.line}.`, ''] : []),
    ...(json.nextSteps?.length ? ['**What to do:**', '', ...json.nextSteps.map((step) => `- ${step}`), ''] : []),
    `${json.replicas} replicas, ${json.users} virtual users, ${json.seconds} s${scenarioFile ? `, scenario \`${scenarioFile}\`` : ''}; ${new Date().toISOString()}.`,
    '',
    ...(json.files ? [`Files: ${filesLine(json.files)}.`, ''] : []),
    '## Requests and failures by balancer and phase',
    '',
    ...(chart ? [`![requests as expected and failed, by balancer and phase](${chart})`, ''] : []),
    phaseTable(json),
    '',
    '## Requests per replica',
    '',
    replicaTable(json),
    '',
    '## First failing request of each kind',
    '',
    ...evidenceLines(json),
    ...serverErrorLines(json),
    ...refusedCookieLines(json.refusedCookies),
    ...setupLines(json),
    '',
    '## Timeline',
    '',
    ...json.events.map((e) => `- ${e.atSeconds} s: ${e.what}`),
    '',
  ].join('\n');
}
