// The run: replicas on their own loopback addresses, two balancers in front of them at once (round robin, and
// cookie affinity as ingress-nginx does it), each with its own virtual users; steady traffic, a SIGKILL and a
// replacement, then a rolling restart as a Deployment does it (a replacement first, then SIGTERM to the old one).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findNginx, lastUpstream, NGINX_MISSING, startNginx } from './nginx.js';
import { privateFiles } from './private-files.js';
import { filesLine } from './report.js';
import { freePort, phpOf, sharedPeers, sharedServers, startReplica, waitReady, whyItEnded, workersOf } from './replica.js';
import { CannotJudge, cautionsOf, sendsTaken, sharesFiles } from './scenario.js';
import { excerpt, Recorder, REQUEST_TIMEOUT_MS, VirtualUser } from './users.js';
import { logoutOf, onlyBrokenReplicas, onlySharedFailure, onlyUnanswered, onlyWarmingUp, sessionsMoved, verdictOf } from './verdict.js';

export const MODES = ['round-robin', 'cookie-affinity'];
/** The signals that end a run early, cleaned up after, and the exit code of each (128 + its number). */
export const INTERRUPTED_EXIT = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

/**
 * How long each part lasts (ms), and how many users per balancer: the default run and --quick. `steady` starts
 * once every user has logged in (or given up), bounded by `loginWait`. `think`: each user's pause after a check,
 * write and read, as a person pauses between clicks: users that never pause keep both cores of a small machine
 * busy, and every new replica then starts slower (Kura, on a busy 2-core machine: about 8 s with a 20 ms pause,
 * about 5 s with 100 ms), which is most of a run's time.
 */
export const PACE = {
  default: { users: 8, think: 100, loginWait: 10_000, steady: 6000, afterKill: 4000, betweenRestarts: 1000, afterRestarts: 2500 },
  quick: { users: 4, think: 100, loginWait: 5000, steady: 1500, afterKill: 1200, betweenRestarts: 200, afterRestarts: 800 },
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `done()` holds (checked every 50 ms), or after `maxMs` whatever it says. */
async function until(done, maxMs) {
  for (const end = Date.now() + maxMs; !done() && Date.now() < end; ) await sleep(50);
}

/**
 * The loopback address virtual user `id` of balancer `mode` (0, 1; 2 for the negative control) connects from:
 * 127.200.<mode>.<id + 1>, one per person, as the balancer's X-Forwarded-For then shows (all of 127/8 is local).
 */
const userAddress = (mode, id) => `127.200.${mode}.${id + 1}`;

/** How long after joining the balancer a replica's 503 is taken as its warming up (onlyWarmingUp). */
const WARMING_MS = 30_000;

/** Checks each user makes, at least, before steady traffic is judged. */
const STEADY_CHECKS = 3;

/**
 * The reaper (reaper.js), told of everything the run starts: if kura-check is ended without cleaning up (SIGKILL),
 * it ends what was started and removes `work`. `done()` once the run has cleaned up by itself.
 */
function startReaper(work) {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./reaper.js', import.meta.url)), work], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  child.unref();
  child.stdin.unref(); // neither keeps kura-check running
  child.stdin.on('error', () => {}); // a reaper that could not start: the run goes on, as before it existed
  const tell = (message) => child.stdin.writable && child.stdin.write(`${JSON.stringify(message)}\n`);
  /** Resolves once "done" has reached the reaper's input (or cannot): a process.exit before that would let it reap. */
  const done = () =>
    new Promise((resolve) => {
      if (!child.stdin.writable) return resolve();
      child.stdin.once('error', resolve);
      child.stdin.end(`${JSON.stringify('done')}\n`, resolve);
    });
  return { tell, done };
}

/** What `--json` says of the files (`files` in report.js). */
const filesReport = (files, shared = []) => ({
  private: files.private,
  ...(files.private ? { sharedHere: files.sharedHere, userNamespace: files.userNamespace } : { why: files.why }),
  shared,
});

/**
 * What kura-check says of a request the balancer refused itself (Recorder.refusedRequest): what nginx answered, what the
 * request carried, and why an ingress would refuse it too.
 */
export function balancerRefusedLine({ request, status, body, cookieBytes, bodyBytes }) {
  const why =
    status === 413
      ? `its body, ${bodyBytes} bytes, is over the 1 MB nginx takes by default (client_max_body_size; ingress-nginx's proxy-body-size is 1m too)`
      : `its Cookie header, ${cookieBytes} bytes of cookies, is over the 8 KB nginx takes in one header line (large_client_header_buffers; ingress-nginx's default is 4 8k too): the app's cookies pile up in the browser, which sends them all with every request`;
  return `the balancer refused some of the users' requests before any replica saw them (nginx answered ${request} with ${body.startsWith(String(status)) ? '' : `${status} `}"${body}"): ${why}; what the users lost there says nothing of the replicas`;
}

/** The nginx to run (on PATH, else in /usr/sbin or /sbin: nginx.js findNginx), once it has answered `-v`; else undefined. */
function nginxInstalled() {
  const bin = findNginx();
  try {
    if (bin) execFileSync(bin, ['-v'], { stdio: 'ignore' });
    return bin;
  } catch {
    return undefined;
  }
}

/** An answer whose headers came and whose body never ended (an event stream), said as such: not a slow app. */
function neverEnded(evidence) {
  return `${evidence.request} answered ${evidence.opened.status} (${evidence.opened.type}) and its body never ended, as an event stream's or a long poll's does; kura-check reads every answer whole: give steps whose answers end (a page of one's own, as /me)`;
}

/**
 * What an app that sets its session cookie Secure only over https, and was told so by X-Forwarded-Proto, lacks: trust
 * in the proxy that said it. By its address, from the environment, not every client (Fastify's trustProxy: true lets
 * anyone set X-Forwarded-For and -Proto): nginx reaches the replicas from 127.0.0.1 (no proxy_bind), not from the
 * balancers' own 127.0.0.(host base - 1), so loopback is what a run trusts.
 */
export const TRUST_PROXY =
  "an app that sets its session cookie Secure only over https must also trust the proxy that says so, by its address, read from the environment: kura-check's balancers reach the replicas from loopback (127.0.0.1, whatever --host-base), so env: { TRUSTED_PROXIES: loopback } in the scenario, and in production only the ingress's addresses (Express: app.set('trust proxy', process.env.TRUSTED_PROXIES); Fastify: trustProxy: process.env.TRUSTED_PROXIES; NestJS: the same on its platform; Django: SECURE_PROXY_SSL_HEADER; Flask: werkzeug's ProxyFix; Rails: config.assume_ssl)";

/** The path of a Location (absolute or not) or a scenario's path, without its query. */
const pathOf = (url) => url.replace(/^[a-z][a-z\d+.-]*:\/\/[^/]*/i, '').replace(/[?#].*/s, '') || '/';

/** Whether a redirect's target looks like the login page itself: the login's own path, or a path named for a login. */
export const toLoginPage = (location, loginPath) =>
  !startsSignOn(location) && (pathOf(location) === pathOf(loginPath) || /(^|\/)(log[-_]?in|sign[-_]?in)(\/|\.\w+)?$/i.test(pathOf(location)));

/**
 * Whether a redirect starts a single sign-on: an OAuth or OpenID Connect authorization request, or a SAML one, whose
 * provider's page is often at a `/login` path too (`https://tenant.auth0.com/u/login?state=…`): not a refused login
 * (the diff review, 2026-12-07).
 */
const startsSignOn = (location) => /[?&](state|client_id|redirect_uri|response_type|SAMLRequest|RelayState)=/.test(location);

/**
 * Why a login that redirected (`redirect`: status, location) set no cookie, as the end of a line, each likely cause
 * with what to do: a refused login sent back to the login page (passport's failureRedirect); a Secure cookie over
 * this http balancer (the README's own snippets set one), or one the app does not set, not trusting the proxy that
 * says https (`forwardsHttps`: the login sent X-Forwarded-Proto: https); a cookie set where the redirect leads (a
 * callback). A redirect to the check's own page (`checkPath`) is a login that worked: the Secure cookie first.
 */
export function loginRedirectNote(redirect, { loginPath, checkPath, forwardsHttps }) {
  const said = `; the login answered ${redirect.status} to ${redirect.location.replace(/\?.*/s, '?…')} and set no cookie`;
  if (toLoginPage(redirect.location, loginPath)) {
    return `${said}, back to what looks like the login page: a refused login, as passport's failureRedirect answers one (field names the app does not read, a user it does not know): check the login's json or form against what the app reads, and that setup registers the user`;
  }
  const secure = forwardsHttps
    ? `a Secure cookie the app did not set, though the login said X-Forwarded-Proto: https: ${TRUST_PROXY}`
    : "a Secure session cookie (secure: true, a __Host- name) the app sets only over https, which this balancer is not: send headers: { X-Forwarded-Proto: https } at the scenario's top level, and have the app trust its proxy";
  const elsewhere = "a login that sets the cookie where its redirect leads (a callback, single sign-on): kura-check does not follow a login's redirect; give as login the request that sets the session cookie";
  const [first, second] = pathOf(redirect.location) === pathOf(checkPath) ? [secure, elsewhere] : [elsewhere, secure];
  return `${said}, for one of two reasons: ${first}; or ${second}`;
}

/** A replica that exited by itself during steady traffic, said as the reason there is no verdict. */
const crashLine = (crash) => `${crash.what}, during steady traffic: what its users lost cannot be told apart from what the balancers lost; see why it exited, then run again`;

/**
 * Runs the scenario and returns { verdict, modes, events, replicas, users, seconds }. Throws CannotJudge when it
 * cannot judge (the app never became ready, ignored PORT/HOST, no user could ever log in, nginx missing).
 * `progress(line)` is told what happens; `hostBase` is the last octet of the first address (127.0.0.x).
 *
 * Both balancers send to the same replicas at the same time, each with its own users: what one balancer's users
 * do cannot reach the other's sessions (distinct users), and every kill and restart is seen by both, in half
 * the time two runs one after the other would take.
 */
export async function runCheck(scenario, { quick = false, users, replicas = scenario.replicas, hostBase = 11, sharedFiles = false, progress = () => {}, interrupted: onInterrupted = () => {} } = {}) {
  const nginx = nginxInstalled();
  if (!nginx) throw new CannotJudge(NGINX_MISSING);
  if (sharedFiles && scenario.image) throw new CannotJudge('--shared-files is for "start": an image\'s containers have files of their own, and share what their network reaches (see "network")');
  const runtime = scenario.image ? await import('./container.js').then((m) => m.containerRuntime(scenario)) : undefined;
  const pace = { ...(quick ? PACE.quick : PACE.default), ...(users ? { users } : {}) };
  const started = Date.now();
  const work = await mkdtemp(join(tmpdir(), 'kura-check-'));
  const reaper = startReaper(work);
  if (runtime) reaper.tell({ containers: { engine: runtime.name, label: `kura-check=${process.pid}` } });
  const people = []; // the virtual users: stopped however the run ends, a verdict or not
  const running = new Set(); // every replica started, until stopped: one that exited by itself may have left processes
  const events = [];
  const at = () => Number(((Date.now() - started) / 1000).toFixed(1));
  // Once interrupted, what cleanup does is not told as if the run went on (a replica "killed at the end of its grace
  // period" by cleanup, a replacement "ready" after the interrupted line).
  const event = (what) => {
    events.push({ atSeconds: at(), what });
    if (!interrupted) progress(what);
  };
  const balancers = [];
  // Interrupted (Ctrl-C, or a CI job's timeout sending SIGTERM): the replicas and nginx go too, never orphaned,
  // those still starting included; once cleanup has begun, nothing new starts.
  const starting = new Set();
  let ending = false;
  /** Starts something (a replica, an nginx) that cleanup must see: `keep` files it as soon as it exists. */
  const start = (begin, keep) => {
    if (ending) return Promise.reject(new CannotJudge(`interrupted (${interrupted})`));
    const started = begin().then((thing) => (keep(thing), thing));
    starting.add(started);
    started.catch(() => {}).finally(() => starting.delete(started));
    return started;
  };
  let interrupted;
  // `interrupted(signal, exitCode)` is told at once (the CLI says so, in JSON with --json, and prints nothing
  // else); after cleanup the process exits as a shell reports a signal: 128 + its number.
  const onInterrupt = (signal) => {
    interrupted = signal;
    onInterrupted(signal, INTERRUPTED_EXIT[signal]);
    void cleanup().then(() => process.exit(INTERRUPTED_EXIT[signal]));
  };
  // SIGHUP: the terminal closed, an ssh session dropped; the replicas are in groups of their own and would stay.
  for (const signal of Object.keys(INTERRUPTED_EXIT)) process.once(signal, onInterrupt);
  // A signal during cleanup (Ctrl-C twice, a CI's SIGTERM then SIGINT) must not end kura-check before the replicas:
  // it would leave them all running. Said, and otherwise ignored (SIGKILL still ends kura-check, see Limits).
  const stillStopping = (signal) => progress(`${signal}: still stopping every replica and balancer; kura-check exits once they have gone`);
  async function cleanup() {
    ending = true;
    for (const signal of Object.keys(INTERRUPTED_EXIT)) process.off(signal, onInterrupt).on(signal, stillStopping);
    try {
      await Promise.allSettled([...starting]);
      await Promise.all(balancers.splice(0).map((balancer) => balancer.stop().catch(() => {})));
      await Promise.all([...running].map((replica) => replica.stop('SIGKILL').finally(() => running.delete(replica))));
      await rm(work, { recursive: true, force: true });
    } finally {
      for (const signal of Object.keys(INTERRUPTED_EXIT)) process.off(signal, stillStopping);
      await reaper.done();
    }
  }

  try {
    // Each replica's own view of the machine's files, as each pod has its image's (tried once here); else what
    // isolation TMPDIR, HOME and the copy give, and the cautions (scenario.js) look for what replicas share.
    const files = scenario.image ? undefined : sharedFiles ? { private: false, why: '--shared-files' } : await privateFiles(work, { shared: scenario.shared });
    const slots = [];
    for (let index = 0; index < replicas; index += 1) {
      const host = `127.0.0.${hostBase + index}`;
      slots.push({ index, octet: hostBase + index, host, port: await freePort(host), generation: 0 });
    }
    const lbHost = `127.0.0.${hostBase - 1}`;
    const addressOf = (slot) => `${slot.host}:${slot.port}`;
    // A replacement gets an address of its own, as a new pod gets a new IP: 127.0.<generation>.<octet> (all of
    // 127/8 is loopback). A new port alone would not do for an app that also opens a fixed port (metrics) on its
    // HOST: the old replica, still stopping, holds it there.
    const readdress = async (slot) => {
      slot.host = `127.0.${slot.generation}.${slot.octet}`;
      slot.port = await freePort(slot.host);
    };
    // Which replica an address is: a replacement has a new address, as a new pod has a new IP.
    const byAddress = new Map();
    const replicaOf = (header) => byAddress.get(lastUpstream(header)) ?? null;
    // Replicas killed or told to stop: a request they cut (a 502 from nginx after it had connected) was cut by the
    // stop, as a pod's own requests are when it ends without draining, not answered by the app (see VirtualUser).
    const stopped = new Set();
    const cutByStop = (header) => stopped.has(lastUpstream(header));

    const current = [];
    const crashes = []; // replicas that exited by themselves, and in which phase
    let currentPhase = 'steady';
    const launch = async (slot) => {
      byAddress.set(addressOf(slot), slot.index + 1);
      const replica = await start(
        () => startReplica({ scenario, runtime, work, files, ...slot }),
        (started) => (running.add(started), started.container || reaper.tell({ replica: { group: started.child.pid, mark: started.dir, view: started.view } })),
      );
      replica.exited.then(({ code, signal }) => {
        // A crash is part of what the users saw: the timeline says when, and the app's last line.
        if (!replica.stopping) {
          const what = `replica ${slot.index + 1} exited by itself (${signal ?? `code ${code}`})${replica.logs.length ? `: ${whyItEnded(replica.logs)?.slice(0, 160) ?? ''}` : ''}`;
          crashes.push({ phase: currentPhase, what });
          event(what);
        }
      });
      current[slot.index] = replica;
      const starting = Date.now();
      await waitReady(replica, scenario);
      // How long a new replica takes to be ready is most of a run's time, and worth knowing of any app.
      if (slot.generation > 0) event(`replica ${slot.index + 1} (${replica.address}): a new one ready in ${((Date.now() - starting) / 1000).toFixed(1)} s`);
      slot.generation += 1;
      return replica;
    };
    progress(`starting ${replicas} replicas of ${scenario.name}${scenario.image ? ` (${runtime.name} image ${scenario.image})` : ''}: ${slots.map(addressOf).join(', ')}`);
    if (files) progress(`files: ${filesLine(filesReport(files, scenario.shared))}`);
    await Promise.all(slots.map(launch));
    event(`${replicas} replicas ready`);
    // PHP is recognised by what runs, not by the words of `start` (a script, composer, make may start it); only where
    // the replicas share some of this machine's files (scenario.js cautionsOf).
    const php = sharesFiles(files) ? await phpOf(current[0]) : undefined;

    // The balancers send only to ready replicas, as a Service does: out before a stop, back in once ready.
    const endpoints = new Set(slots.map(addressOf));
    const reroute = () => Promise.all(balancers.map((balancer) => balancer.route([...endpoints])));
    const recorders = MODES.map((mode) => new Recorder(mode));
    // When each replacement joined the balancers (by address): a 503 from one that joined moments ago is a replica
    // still warming up, not a lost session (verdict.js onlyWarmingUp).
    const joined = new Map();
    const warming = (address) => Date.now() - (joined.get(address) ?? 0) < WARMING_MS;
    for (const recorder of recorders) recorder.warming = warming;
    /** Whether the login already tells the app it came over https (the scenario's headers, top level or its own). */
    const forwardsHttps = () => Object.entries(scenario.login.headers ?? {}).some(([name, value]) => name.toLowerCase() === 'x-forwarded-proto' && /^https$/i.test(String(value)));
    // A cookie the jar refused (as a browser would) is most often why a login never held: said beside the answer.
    const cookieNote = () => {
      const refused = recorders.flatMap((recorder) => Object.values(recorder.refusedCookies))[0];
      const noCookie = !scenario.login.token && recorders.every((recorder) => recorder.cookieNames.size === 0);
      const [pinned, roundRobin] = ['cookie-affinity', 'round-robin'].map((mode) => recorders.find((recorder) => recorder.mode === mode));
      const firstLogin = pinned.evidence.login ?? roundRobin.evidence.login;
      const redirect = recorders.map((recorder) => recorder.loginRedirect).find(Boolean);
      // Why no cookie came, as far as it can be told: a refusal, a login that redirects to where the cookie is set,
      // or (when the login answered as it should) a Secure cookie the http balancer never carried. A login that
      // failed (503, 502) says why by itself.
      const refusedNote = refused
        ? `; the users' jar refused the app's cookie, as a browser would: Set-Cookie: ${refused.header} (${refused.reason})`
        : !noCookie
          ? ''
          : redirect
            ? loginRedirectNote(redirect, { loginPath: scenario.login.path, checkPath: scenario.check.path, forwardsHttps: forwardsHttps() })
            : firstLogin && !(firstLogin.status >= 200 && firstLogin.status < 400)
              ? ''
              : `; the app never set a cookie (no Set-Cookie on any answer, the login's included), and the scenario reads no token${
                  forwardsHttps()
                    ? `, though the login said X-Forwarded-Proto: https: ${TRUST_PROXY}`
                    : ": a Secure session cookie behind this http balancer? send X-Forwarded-Proto: https with every request: headers: { X-Forwarded-Proto: https } at the scenario's top level"
                }`;
      return { refusedNote, firstLogin };
    };
    /**
     * A login that counted (any 3xx is a login by default) while it redirected to what looks like the login page: a
     * refused login (passport's failureRedirect), whose failure shows on the step after it. As the end of a line.
     */
    const refusedLoginNote = () => {
      const redirect = recorders.map((recorder) => recorder.loginRedirect).find(Boolean);
      return redirect && toLoginPage(redirect.location, scenario.login.path)
        ? `; the login answered ${redirect.status} to ${redirect.location.replace(/\?.*/s, '?…')}, which looks like the login page: a refused login that redirects counts as a login unless the scenario's login has a status or contains that only a successful login gets (README: "Scenario reference", login)`
        : '';
    };
    /** A capture that found nothing (the first), as the end of a line: often why a login or a step never passed. */
    const captureNote = () => {
      const missed = recorders.map((recorder) => recorder.captureMissed).find(Boolean);
      return missed ? `; ${missed}` : '';
    };
    /**
     * What a request (`spec`) that sends no token lacks, as the end of a line, where `answer` (evidence: `status`,
     * `body`) is a refusal for want of a CSRF token: Laravel's 419, a 403 that says CSRF or XSRF (Django's, csurf's),
     * Rails' 422 (in production an empty body, or its public 422 page; in development the exception's name).
     */
    const csrfNote = (answer, spec) => {
      const rails = answer?.status === 422 && (answer.body.trim() === '' || /authenticity.?token|change you wanted was rejected/i.test(answer.body));
      const refused = answer && (rails || answer.status === 419 || (answer.status === 403 && /csrf|xsrf/i.test(answer.body)));
      return refused && !sendsTaken(spec)
        ? `; the app wants a CSRF token with it${rails ? " (Rails' 422 for a request without its authenticity_token)" : ''}: send its cookie back in a header with {cookie:NAME}, or a token a capture took from a page as {NAME}${spec === scenario.login ? ' (the login page: login.before)' : ''} (README: "CSRF tokens")`
        : '';
    };
    /**
     * What the balancer refused, in one line, or undefined: an answer (a Set-Cookie that grew past nginx's 4 KB header
     * buffer, a 502 in whatever phase it comes), else a request (a Cookie header past its 8 KB: cookies that pile up,
     * one per item, which fails the same in every mode and phase and was judged "breaks even with affinity").
     */
    const balancerRefusal = async () => {
      const refusedAnswer = (await Promise.all(balancers.map((balancer) => balancer.refusedAnswer()))).find(Boolean);
      if (refusedAnswer) {
        return `the balancer refused some of the app's answers (nginx: "${refusedAnswer}"): headers over 4 KB, as a growing cookie makes them; ingress-nginx's default proxy-buffer-size is 4k too, and browsers drop a cookie over 4096 bytes`;
      }
      const refusedRequest = recorders.map((recorder) => recorder.balancerRefused).find(Boolean);
      return refusedRequest ? balancerRefusedLine(refusedRequest) : undefined;
    };
    /** Why no virtual user logged in, as one line (a CannotJudge to throw). */
    const nobodyLoggedIn = async () => {
      // Every replica gone by itself after its ready check passed: the balancer's 502s are the crash's, not the login's.
      const exited = crashes.filter((crash) => crash.phase === 'steady');
      if (exited.length >= replicas) {
        return new CannotJudge(
          `no virtual user could log in: every replica exited by itself after its ready check passed (the first: ${exited[0].what}): a crash, not a lost session; see why it exited, then run again`,
        );
      }
      // A login answer nginx refused (its Set-Cookie headers over 4 KB: chunked cookies) is its 502, said as nginx's:
      // it was "POST /login answered 502 <html>…" with nothing of nginx's line (an outside review's iron-session app).
      const refused = await balancerRefusal();
      if (refused) return new CannotJudge(`no virtual user could log in: ${refused}`);
      const { refusedNote, firstLogin } = cookieNote();
      const setup = recorders.map((recorder) => recorder.setupFailed).find(Boolean);
      if (setup) return new CannotJudge(`no virtual user could log in, after a setup request that failed: ${setup}`);
      const unanswered = recorders.map((recorder) => recorder.timeouts.first).find((request) => request === `${scenario.login.method} ${scenario.login.path}`);
      // A login the app answered says why; one that had no answer does, unless the app answered another (a 502 or
      // 504 is the balancer's: a replica killed under the request).
      const answered = firstLogin && ![502, 504].includes(firstLogin.status);
      const why =
        unanswered && !answered
          ? `: ${unanswered} had no answer within ${REQUEST_TIMEOUT_MS / 1000} s (the app accepts connections but does not answer: still starting, stuck, or not HTTP? give ready a path that answers once the app can serve)`
          : firstLogin
            ? `: ${firstLogin.request} answered ${firstLogin.status} ${firstLogin.body.slice(0, 80)}`
            : '';
      // A 503 (or any 5xx) to every login: an app still warming up after its ready check passed, most often (an outside
      // review: /health 200 while /login answered 503 for 2 s, and every user gave up).
      const warming = answered && firstLogin.status >= 500 ? `; an app that answers ${firstLogin.status} while it warms up: give ready a path that answers 2xx only once the app can serve (as a readinessProbe should)` : '';
      return new CannotJudge(`no virtual user could log in${why}${warming}${unanswered && !answered ? '' : refusedNote}${captureNote()}${answered ? csrfNote(firstLogin, scenario.login) : ''}`);
    };
    const phase = (name) => ((currentPhase = name), recorders.forEach((recorder) => (recorder.phase = name)));
    const disrupted = () => recorders.forEach((recorder) => (recorder.disruptions += 1));
    const listens = [];
    for (const _ of recorders) listens.push(`${lbHost}:${await freePort(lbHost)}`);
    const spawned = (pid) => reaper.tell({ nginx: pid });
    const begin = (mode, listen) => () => startNginx({ bin: nginx, dir: join(work, mode), listen, upstreams: [...endpoints], mode, nextUpstream: false, spawned });
    await Promise.all(recorders.map(({ mode }, i) => start(begin(mode, listens[i]), (balancer) => balancers.push(balancer))));
    // The negative control: a check (or read) that someone who never logged in also passes cannot tell a lost
    // session from a kept one, and every app would pass for stateless. Sent once through round robin, by a user
    // with a name of its own now, and again below with the name of a user who has logged in.
    const negativeControl = async (name, named = '') => {
      const stranger = new VirtualUser({ id: 0, name, scenario, base: `http://${listens[0]}`, recorder: new Recorder('negative control'), replicaOf, cutByStop, thinkMs: 0, localAddress: userAddress(2, 0) });
      try {
        for (const kind of ['check', ...(scenario.read ? ['read'] : [])]) {
          const passed = await stranger.passesWithoutLogin(kind);
          if (passed) {
            throw new CannotJudge(
              `the ${kind} passes without logging in: ${passed.method} ${passed.path} answered ${passed.status} "${excerpt(passed.text, 80)}" to a user with no cookie or token${named}; ${named ? `give a ${kind} that only the user logged in passes (a page of one's own, as /me), not a public one` : `give ${kind}.contains (or ${kind}.status) that only a logged-in user gets, e.g. contains: "{user}"`}`,
            );
          }
        }
      } finally {
        stranger.close();
      }
    };
    await negativeControl(`anonymous-${Math.random().toString(36).slice(2, 8)}`);
    recorders.forEach((recorder, i) => {
      for (let id = 1; id <= pace.users; id += 1) {
        const name = `vu${id}-${Math.random().toString(36).slice(2, 8)}`;
        people.push(new VirtualUser({ id, name, scenario, base: `http://${listens[i]}`, recorder, replicaOf, cutByStop, thinkMs: pace.think, localAddress: userAddress(i, id) }));
      }
    });
    event(`steady: ${pace.users} users log in and use the app through each balancer (round robin, cookie affinity)`);
    const steadyFrom = Date.now();
    const journeys = people.map((user) => user.run());
    await Promise.race([Promise.all(people.map((user) => user.loggedIn)), sleep(pace.loginWait)]);
    // A public page named after the user (/users/{user}) passes for a made-up name only once that user exists:
    // asked again with a logged-in user's name, from an empty jar.
    const known = people.find((user) => user.loggedInOnce);
    if (known) await negativeControl(known.name, ` (named as the logged-in ${known.name})`);
    // The session control: both controls above send an empty jar, never the user's own cookies without its session.
    // A sign-in page that greets a returning user by an unsigned cookie of its own ("Welcome back, {user}") passed
    // a check of contains "{user}" whatever happened to the session: a memory-session app was called stateless.
    // The check is sent with a logged-in user's cookies, each left out in turn, on its own replica (affinity's route
    // cookie kept): one it still passes without is not the session; passing without every one of them in turn,
    // it may pass without the session, and a lost session cannot be told from a kept one: "stateless" is then
    // not said (below). Two cookies that each carry the session (a renamed cookie kept beside the old one, an
    // access and a refresh token) pass this control too: where the run shows losses, the verdict stands (an app
    // that kept its sessions in memory with two such cookies lost 56 of 118 checks, and was left unjudged).
    let sessionControl;
    const pinnedUser = people.find((user) => user.loggedInOnce && !user.token && user.recorder.mode === 'cookie-affinity');
    if (pinnedUser) {
      const control = new VirtualUser({ id: 0, name: pinnedUser.name, scenario, base: `http://${listens[1]}`, recorder: new Recorder('session control'), replicaOf, cutByStop, thinkMs: 0, localAddress: userAddress(2, 2) });
      let passed;
      try {
        passed = await control.passesWithoutEachCookie(pinnedUser);
      } finally {
        control.close();
      }
      if (passed) {
        const several = !passed.together && passed.cookies.length > 1;
        const each = several ? ` (and it passed with each of its cookies left out in turn: ${passed.cookies.join(', ')})` : '';
        const pair = several ? `; if each of those cookies alone keeps the user signed in (an access and a refresh token, a renamed cookie kept beside the old one), name them in the scenario's sessionCookies, which are left out together` : '';
        sessionControl = `the check passes without the session: ${passed.method} ${passed.path} answered ${passed.status} "${excerpt(passed.text, 80)}" to the logged-in ${pinnedUser.name}'s own cookies with ${passed.without} left out${passed.together ? ' together' : ''}${each}: what it shows does not depend on the session (a page that greets a returning user by a cookie of its own, a remember-me cookie), so a lost session cannot be told from a kept one; give a check that only the session passes (a page of one's own, as /me), or contains that only it shows${pair}`;
      }
    }
    // A server one replica's start opened on a fixed address (127.0.0.1:6379) that the others use (replica.js
    // sharedServers), and the servers every replica is connected to (sharedPeers: a store, for the advice): looked
    // for while steady traffic runs, when their connections to them are open.
    const sidecars = new Map();
    const peers = new Set();
    const lookForSidecars = async () => {
      const [servers, reached] = await Promise.all([sharedServers(current), sharedPeers(current, listens)]);
      for (const found of servers) sidecars.set(`${found.owner} ${found.server}`, found);
      for (const address of reached) peers.add(address);
    };
    await Promise.all([sleep(pace.steady), sleep(pace.steady / 2).then(lookForSidecars)]);
    // Steady traffic is judged once it has happened: every user has made a few checks (or given up), and round
    // robin has reached every replica. A busy machine, or nginx setting a replica aside for a second after one
    // failed connection (max_fails), can leave the planned time short of that; it is waited for, within bounds.
    // A check with no answer in time is waited for too (it counts as a failure of steady traffic, see verdict.js):
    // cut short, round robin's checks to a replica that stalls were left to time out after the kill, unjudged.
    // And round robin must have asked some replica for a session it did not make (a step answered elsewhere than
    // its user's login, or one that failed or had no answer): otherwise it showed nothing either way.
    const reachedAll = (recorder) => slots.every((slot) => (recorder.perReplica[slot.index + 1]?.requests ?? 0) > 0);
    const roundRobin = recorders.find((r) => r.mode === 'round-robin');
    await until(
      () =>
        (people.every((user) => user.finished || user.checks >= STEADY_CHECKS || user.unansweredChecks > 0) && reachedAll(roundRobin) && sessionsMoved(roundRobin)) ||
        // nothing left to answer anyone: waiting would only collect the balancer's 502s
        crashes.filter((crash) => crash.phase === 'steady').length >= replicas,
      Math.max(pace.steady * 4, REQUEST_TIMEOUT_MS + 2000),
    );

    // No user logged in through all of steady traffic: a kill and a rolling restart would tell nothing more, and
    // cost a minute of a first try with a scenario that does not fit the app yet. Said now.
    if (recorders.every((recorder) => recorder.logins === 0)) throw await nobodyLoggedIn();
    await lookForSidecars();

    // Nothing to judge if no check was answered during steady traffic (a long poll as the check, an app too slow
    // to answer): said, not judged. Answers cut off later by a kill or the run's end would otherwise be the
    // only "failures".
    if (recorders.some((recorder) => recorder.logins > 0) && people.every((user) => user.checks === 0)) {
      const unanswered = recorders.find((recorder) => recorder.timeouts.count > 0)?.timeouts;
      const slow = unanswered?.first;
      const waited = ((Date.now() - steadyFrom) / 1000).toFixed(0);
      if (unanswered?.evidence?.opened) throw new CannotJudge(`no check ended in ${waited} s of steady traffic: ${neverEnded(unanswered.evidence)}`);
      throw new CannotJudge(
        `no check was answered in ${waited} s of steady traffic${slow ? ` (${slow} had no answer within ${REQUEST_TIMEOUT_MS / 1000} s)` : ''}: kura-check cannot judge what it cannot see answered; give a check that answers at once (not a long poll)`,
      );
    }

    // Requests with no answer in time count as failures of their balancer and phase (verdict.js): round robin's
    // users of an app that stalls where the session is missing saw nothing else, while affinity's were answered.
    // Where affinity's own steady traffic had unanswered requests and nothing else failed, the app is too slow or
    // stuck here to tell a lost session from a slow answer: said, not judged ("breaks even with affinity").
    const pinnedSteady = recorders.find((recorder) => recorder.mode === 'cookie-affinity').phases.steady;
    if (pinnedSteady?.timeouts > 0 && pinnedSteady.failures === 0) {
      const { evidence } = recorders.find((recorder) => recorder.mode === 'cookie-affinity').timeouts;
      // An answer whose headers came at once and whose body never ended is a stream, not a slow app (an outside
      // review's event-stream check was told to find a less busy machine).
      if (evidence.opened) {
        throw new CannotJudge(`${pinnedSteady.timeouts} of the requests under cookie affinity did not end within ${REQUEST_TIMEOUT_MS / 1000} s during steady traffic: ${neverEnded(evidence)}`);
      }
      throw new CannotJudge(
        `${pinnedSteady.timeouts} of the requests under cookie affinity had no answer within ${REQUEST_TIMEOUT_MS / 1000} s during steady traffic (the first: ${evidence.request}), while nothing was restarted and every user stayed on one replica: the app is too slow or stuck here to tell a lost session from a slow answer. A server that serves one connection at a time (Python's http.server.HTTPServer rather than ThreadingHTTPServer, a single-threaded server speaking HTTP/1.1) is held by the connection a balancer keeps open to it, as nginx and an ingress do: serve connections concurrently. Otherwise give steps that answer at once, or run on a less busy machine`,
      );
    }

    // A step that never passed, even for users pinned to one replica before anything was restarted, is a
    // scenario the app does not follow (a contains with a typo, a form field the app does not know, a CSRF token
    // it cannot send, a cookie the app never set), not a finding about replicas: said now, with what the app
    // answered, before a kill and a rolling restart that could tell nothing more (and before a logout probe,
    // which could only guess why its check failed).
    const pinned = recorders.find((recorder) => recorder.mode === 'cookie-affinity');
    const { refusedNote } = cookieNote();
    // Unless the replica forks workers, another step did pass, and this one was answered 401, as by an app that knows
    // no session (not 403: a CSRF refusal is one): each worker keeps its own sessions, affinity pins a user to a
    // replica and not to a worker, and a step can then fail for every user by chance (the image case in
    // test/kura-check-image saw its write answered 401 every time on a loaded machine, its check pass). That is the
    // finding ("breaks even with affinity", the workers named), not a scenario the app does not follow.
    const anotherPassed = Object.values(pinned.successes.steady ?? {}).some(Boolean);
    let forked;
    for (const kind of ['check', 'write', 'read']) {
      const first = pinned.evidence[kind];
      if ((pinned.phases.steady?.byKind[kind] ?? 0) > 0 && !pinned.successes.steady?.[kind] && first) {
        if (anotherPassed && first.status === 401 && (forked ??= (await workersOf(current[0])) !== undefined)) continue;
        const where = first.location ? ` (Location: ${first.location})` : '';
        throw new CannotJudge(
          `the ${kind} never succeeded, not even under cookie affinity before any replica was killed or restarted: ${first.request} answered ${first.status}${where} "${first.body.slice(0, 80)}"${refusedNote || captureNote() || refusedLoginNote() || csrfNote(first, scenario[kind]) || `; check the scenario's ${kind} (status, contains) and login`}`,
        );
      }
    }
    // Round robin that never asked a replica for a session made on another: a memory-session app looks stateless.
    // A replica that crashed meanwhile is the likelier reason on a slow machine, and the one to say (below).
    if (roundRobin.logins > 0 && !sessionsMoved(roundRobin)) {
      const crash = crashes.find((c) => c.phase === 'steady');
      if (crash) throw new CannotJudge(crashLine(crash));
      const waited = ((Date.now() - steadyFrom) / 1000).toFixed(0);
      throw new CannotJudge(
        `in ${waited} s of steady traffic (${roundRobin.phases.steady?.requests ?? 0} requests), round robin never sent a logged-in user's request to a replica other than the one it logged in on: whether the others have its session was not seen; run again${quick ? ' without --quick' : ''}, or with more --users`,
      );
    }
    phase('kill');
    const victim = slots[1 % replicas];
    const killed = current[victim.index];
    event(`SIGKILL replica ${victim.index + 1}, and a new one in its place (a new address, as a new pod has a new IP)`);
    disrupted();
    stopped.add(killed.address);
    const dead = killed.stop('SIGKILL'); // a container takes a moment to go: its replacement need not wait
    endpoints.delete(killed.address);
    await reroute(); // Kubernetes notices the dead pod and takes it out of the endpoints
    await readdress(victim);
    await launch(victim);
    endpoints.add(addressOf(victim));
    joined.set(addressOf(victim), Date.now());
    await reroute();
    await dead;
    await sleep(pace.afterKill);

    // As a Deployment's default strategy (maxSurge 25%, rounded up; maxUnavailable 25%, rounded down) does with
    // a few replicas: a new replica first, and once it is ready, SIGTERM to an old one; the next new one starts
    // while the old one is still stopping.
    phase('rolling');
    event(`rolling restart of replicas 1-${replicas}: a replacement ready, then SIGTERM to the old one`);
    const stops = [];
    const killedAtGrace = [];
    for (const slot of slots) {
      const old = current[slot.index];
      await readdress(slot);
      await launch(slot);
      endpoints.add(addressOf(slot));
      joined.set(addressOf(slot), Date.now());
      endpoints.delete(old.address);
      disrupted();
      await reroute(); // one reload: the new replica in, the old one out, before it is told to stop
      const stopping = Date.now();
      stopped.add(old.address);
      stops.push(
        old.stop('SIGTERM', scenario.terminationGracePeriodSeconds * 1000).then(({ signal }) => {
          const took = ((Date.now() - stopping) / 1000).toFixed(1);
          if (signal === 'SIGKILL') killedAtGrace.push(slot.index + 1);
          event(`replica ${slot.index + 1} (${old.address}) stopped ${took} s after SIGTERM${signal === 'SIGKILL' ? `, killed at the end of its ${scenario.terminationGracePeriodSeconds} s grace period` : ''}`);
        }),
      );
      await sleep(pace.betweenRestarts);
    }
    await Promise.all(stops);
    await sleep(pace.afterRestarts);
    // Requests still under way are cut, not waited for: one to a replica that stalls would hold the run for up to
    // REQUEST_TIMEOUT_MS, and a request cut once the users have stopped is not judged (users.js).
    for (const user of people) (user.stopped = true), user.close();
    await Promise.all(journeys);
    // The scenario's logout, on replicas that have all been replaced: it must end the session on every one.
    let logout;
    if (scenario.logout) {
      const prober = new VirtualUser({ id: 1, name: `logout-${Math.random().toString(36).slice(2, 8)}`, scenario, base: `http://${listens[1]}`, recorder: new Recorder('logout probe'), replicaOf, cutByStop, thinkMs: pace.think, localAddress: userAddress(2, 1) });
      try {
        logout = logoutOf(await prober.logoutProbe([...endpoints]));
      } finally {
        prober.close();
      }
      event(`logout: ${logout.line}`);
    }

    const modes = Object.fromEntries(recorders.map((recorder) => [recorder.mode, recorder]));
    for (const recorder of recorders) {
      const lost = Object.values(recorder.phases).reduce((sum, p) => sum + p.failures, 0);
      event(`${recorder.mode}: ${lost} failed requests, ${recorder.usersAffected.size} of ${pace.users} users affected`);
    }
    // (Nobody logged in, and a step that never passed, were said after steady traffic: logins only add up. A logout
    // the run could not judge is not thrown here: the verdict and its evidence are kept, the logout line beside them,
    // exit 2 (report.js); a mistyped logout path threw an in-memory app's 172 failed requests away, an outside review.)
    // An answer or a request the balancer refused: a real failure, though not the one a verdict would name.
    const refused = recorders.some((recorder) => Object.values(recorder.phases).some((p) => p.failures > 0)) ? await balancerRefusal() : undefined;
    if (refused) throw new CannotJudge(refused);
    // A replica that crashed during steady traffic took what lived in it: its users' losses then say nothing of
    // round robin against affinity, and "breaks even with affinity" would be the crash's verdict, not the app's.
    const crash = crashes.find((c) => c.phase === 'steady');
    if (crash && recorders.some((recorder) => (recorder.phases.steady?.failures ?? 0) > 0)) throw new CannotJudge(crashLine(crash));
    const verdict = verdictOf(modes);
    if (verdict === 'loses state on restart' && onlyWarmingUp(modes)) {
      const first = recorders.flatMap((recorder) => Object.values(recorder.evidence)).find((e) => e.status === 503);
      throw new CannotJudge(
        `every failure after the kill and in the rolling restart was a 503 from a replica that had joined the balancer less than ${WARMING_MS / 1000} s before${first ? ` (the first: ${first.request}, replica ${first.replica ?? '-'} answered 503 "${first.body.slice(0, 80)}")` : ''}, and nothing was lost before: new replicas still warming up after their ready check passed, not lost sessions; give ready a path that answers 2xx only once the app can serve (as a readinessProbe should), then run again`,
      );
    }
    // Every failure from replicas that answered 5xx to everyone and passed nothing: broken replicas, not lost sessions.
    const broken = verdict === 'stateless' ? undefined : onlyBrokenReplicas(modes);
    if (broken) {
      const first = recorders.flatMap((recorder) => Object.values(recorder.evidence)).find((e) => e.status >= 500);
      const which = broken.map((address) => `replica ${byAddress.get(address) ?? '-'} (${address})`).join(', ');
      throw new CannotJudge(
        `every failure came from ${which}, which answered 5xx to every step it was sent and passed none (the first: ${first.request} answered ${first.status} "${first.body.slice(0, 80)}"), while the other replicas served everyone: ${broken.length > 1 ? 'replicas that answer' : 'a replica that answers'} everyone with an error (a database it could not reach, a failed start), not a lost session; see what it printed, then run again`,
      );
    }
    // Every failure a 503, from several replicas that served other steps, under affinity too: a service they share
    // failing for a while, not a session lost.
    const alike = verdict === 'breaks even with affinity' ? onlySharedFailure(modes) : undefined;
    if (alike) {
      const first = recorders.flatMap((recorder) => Object.values(recorder.evidence)).find((e) => e.status >= 500);
      const count = Object.values(modes).reduce((sum, mode) => sum + Object.values(mode.phases).reduce((total, phase) => total + phase.failures, 0), 0);
      throw new CannotJudge(
        `every failure was a 503 answer (${count}${first ? `; the first: ${first.request}, replica ${first.replica ?? '-'} answered ${first.status} "${first.body.slice(0, 80)}"` : ''}), from ${alike.length} replicas that served other steps, under cookie affinity as under round robin: replicas failing alike while each user kept to one of them is a service they share failing for a while (their session store, their database), not a session lost; see what the replicas printed, then run again once it serves`,
      );
    }
    // Requests with no answer in time as the only failures, all after the kill: a replica that stopped answering
    // anyone (a deadlock, a graceful shutdown that never ends), not a session lost by a restart.
    if (verdict === 'loses state on restart' && onlyUnanswered(modes)) {
      const first = recorders.map((recorder) => recorder.timeouts.evidence).find(Boolean);
      const count = recorders.reduce((sum, recorder) => sum + recorder.timeouts.count, 0);
      throw new CannotJudge(
        `every failure after the kill and in the rolling restart was a request with no answer within ${REQUEST_TIMEOUT_MS / 1000} s (${count}; the first: ${first.request} under ${first.mode === 'round-robin' ? 'round robin' : 'cookie affinity'}, ${first.phase === 'kill' ? 'after SIGKILL' : 'in the rolling restart'}), no answer was a wrong one, and nothing was lost before: a replica that stopped answering (stuck, deadlocked, or a graceful shutdown that never ends) loses no session by that, and cannot tell whether one was lost; see what the replicas printed, then run again`,
      );
    }
    // Several processes behind one replica's port explain a loss under affinity (report.js says so).
    const workers = await workersOf(current[0]);
    // Replicas that share a folder here (PHP's file sessions in /var/lib/php/sessions or /tmp) keep sessions that
    // separate pods would lose: "stateless" would be this machine's answer, not the app's. A failure verdict
    // stands (sharing can only hide losses), with the caution beside it.
    const sessionCookies = new Set(recorders.flatMap((recorder) => [...recorder.cookieNames]));
    const cautions = cautionsOf(scenario, {
      php,
      sessionCookies,
      cookieValues: recorders.flatMap((recorder) => [...recorder.cookieValues]),
      files,
      sidecars: [...sidecars.values()],
    });
    if (verdict === 'stateless' && cautions.length > 0) throw new CannotJudge(`on this machine: nothing was lost, but the replicas shared state here that pods would not: ${cautions[0]}`);
    if (verdict === 'stateless' && sessionControl) throw new CannotJudge(sessionControl);
    return { verdict, modes, events, replicas, users: pace.users, seconds: at(), cautions, files: files && filesReport(files, scenario.shared), workers, ...(killedAtGrace.length ? { shutdown: { killed: killedAtGrace.sort((a, b) => a - b), graceSeconds: scenario.terminationGracePeriodSeconds, container: Boolean(scenario.image) } } : {}), sessionCookies: [...sessionCookies].sort(), peers: [...peers].sort(), ...(logout ? { logout } : {}), setupFailed: recorders.map((recorder) => recorder.setupFailed).find(Boolean) };
  } catch (error) {
    for (const user of people) user.stopped = true; // a run that cannot judge ends its users' journeys too
    // What an interruption broke (a replica killed while starting) is not what the app did.
    throw interrupted ? new CannotJudge(`interrupted (${interrupted})`) : error;
  } finally {
    await cleanup();
  }
}
