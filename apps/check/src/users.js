// Virtual users that behave like a browser through the balancer: a cookie jar (Path, Max-Age/Expires, Secure on
// loopback), an optional bearer token, and a loop of check, write, read; every answer recorded against the phase
// and the replica that served it.
import { CookieJar } from 'tough-cookie';
import { Agent, fetch } from 'undici';
import { lastUpstream } from './nginx.js';
import { PLACEHOLDER } from './scenario.js';

const EXCERPT = 160;
/** How long kura-check waits for one answer: one that takes longer is not judged (see Recorder.timeout). */
export const REQUEST_TIMEOUT_MS = 10_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** What #step says of a request with no answer: the run ended (true: nothing failed), or a timeout (undefined). */
const unjudged = (answer) => (answer.cut ? true : undefined);

/** `text` on one line, cut to `length`. */
const oneLine = (text, length) => text.replace(/\s+/g, ' ').trim().slice(0, length);

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", nbsp: ' ' };

/**
 * An answer's body on one line, cut to `length`: what evidence and one-line messages quote. A whole HTML page
 * (`<!doctype`) by its words: its head, styles and scripts filled the excerpt, and Django's "CSRF verification
 * failed" was never quoted.
 */
export const excerpt = (text, length = EXCERPT) => {
  const words = /^\s*<!doctype/i.test(text)
    ? text
        .replace(/<(head|style|script)\b[\s\S]*?<\/\1\s*>/gi, ' ')
        .replace(/<[^>]*>/g, ' ')
        .replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (_, name) => ENTITIES[name])
    : text;
  return oneLine(words, length);
};

/** A cookie's value as a page's script reads it for a header (axios, Angular): URL-decoded where it can be. */
const decoded = (value) => {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
};

/**
 * The placeholders (scenario.js PLACEHOLDER) in every string (and key) of a request's path, headers and body:
 * {user}, {step}; {step-N}, the step N steps ago, to keep a bounded window of writes (a merge patch that adds
 * step-{step} and removes step-{step-5}); {cookie:NAME}, the user's cookie NAME as the request will send it
 * (double-submit CSRF: Django's csrftoken, Laravel's XSRF-TOKEN), empty when it has none; {NAME}, what a
 * `capture` took from an earlier answer of this user (a CSRF token in a form), empty before any.
 */
function fill(value, vars) {
  if (typeof value === 'string') {
    return value.replace(PLACEHOLDER, (_, key, back, cookie, name) => {
      if (key) return String(back ? vars[key] - Number(back) : vars[key]);
      if (cookie !== undefined) return decoded(vars.cookie?.(cookie) ?? '');
      return vars.captured?.[name] ?? '';
    });
  }
  if (Array.isArray(value)) return value.map((item) => fill(item, vars));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [fill(key, vars), fill(item, vars)]));
  return value;
}

/**
 * Why a browser refuses a Set-Cookie that tough-cookie keeps, or undefined: a name and value over 4096 bytes
 * (RFC 6265 5.3); SameSite=None without Secure (the last SameSite counts, as in browsers), which Chrome and Edge
 * refuse: an app whose session cookie says so logs nobody in there, and was judged stateless.
 */
function browserRefuses(header) {
  const [pair, ...attributes] = header.split(';').map((part) => part.trim());
  if (Buffer.byteLength(pair) > 4096) return `${Buffer.byteLength(pair)} bytes of name and value: over the 4096 browsers keep`;
  const named = (name) => attributes.filter((attribute) => attribute.split('=')[0].trim().toLowerCase() === name);
  const sameSite = named('samesite').at(-1)?.split('=')[1]?.trim().toLowerCase();
  if (sameSite === 'none' && named('secure').length === 0) return 'SameSite=None without Secure: Chrome and Edge refuse such a cookie, so no user of theirs would keep it';
  return undefined;
}

/** Whether `status` is the one `spec` asks for, or, where it names none, one `defaultStatus` accepts. */
const statusFits = (spec, defaultStatus, status) => (spec.status !== undefined ? status === spec.status : defaultStatus(status));

const dotted = (object, path) => path.split('.').reduce((value, key) => (value == null ? undefined : value[key]), object);

/** Counts of one balancer mode: per phase, per replica, and the first failing request of each kind. */
/** Cookie values a recorder keeps, at most: enough to find a PHP session's file, bounded for a long run. */
const COOKIE_VALUES = 256;

export class Recorder {
  constructor(mode) {
    this.mode = mode;
    this.phase = 'steady';
    this.started = Date.now();
    this.phases = {};
    this.perReplica = {};
    this.evidence = {};
    this.usersAffected = new Set();
    this.balancerRetries = 0;
    this.logins = 0;
    this.disruptions = 0; // kills and restarts so far: a write seen before one must still be seen after it
    /** Steps that passed, per phase and kind: a step that never passes says more about the scenario than the app. */
    this.successes = {};
    /** Set-Cookie headers the jar refused, as a browser would (by cookie name): what made a session never stick. */
    this.refusedCookies = {};
    /** The names of every cookie the app set (whether a PHP session was used, for the caution). */
    this.cookieNames = new Set();
    /** Their values, the first COOKIE_VALUES kept: a PHP session named in code is found by its file. */
    this.cookieValues = new Set();
    /** The first capture that found nothing in its answer, in words (said when nobody could log in). */
    this.captureMissed = undefined;
    /** 5xx answers that passed when sent again (see VirtualUser's #step): how many, and the first. */
    this.serverErrors = { count: 0, first: undefined };
    /** A login that passed as a redirect (303 to a callback): the first, with its Location. */
    this.loginRedirect = undefined;
    /** `warming(address)`: whether the replica at that address joined the balancer moments ago (run.js sets it). */
    this.warming = undefined;
    /** Requests that had no answer within REQUEST_TIMEOUT_MS (a long poll): how many, and the first. */
    this.timeouts = { count: 0, first: undefined };
    /** Per replica address: steps (logins too) that passed there, and failures there, 5xx or not (verdict.js onlyBrokenReplicas). */
    this.byAddress = {};
    /** The first request the balancer refused itself, before any replica saw it (see refusedRequest). */
    this.balancerRefused = undefined;
  }

  /**
   * A request nginx answered 4xx itself, with no replica behind the answer: a Cookie header over its 8 KB line
   * (400 "Request Header Or Cookie Too Large"), a body over its 1 MB (413). The first kept, with what the request
   * carried. Such a user fails in every mode, and was judged "breaks even with affinity" (run.js says it instead).
   */
  refusedRequest({ method, path, status, text }, { cookieBytes, bodyBytes }) {
    this.balancerRefused ??= { mode: this.mode, phase: this.phase, request: `${method} ${path}`, status, body: /<title>([^<]*)<\/title>/i.exec(text)?.[1] ?? excerpt(text, 80), cookieBytes, bodyBytes };
  }

  /** A 5xx answer to a step that passed when sent again: a server error, not a lost session or write. */
  serverError(kind, { method, path, replica, status, text }) {
    this.serverErrors.count += 1;
    this.serverErrors.first ??= { phase: this.phase, step: kind, request: `${method} ${path}`, replica: replica ?? null, status, body: excerpt(text) };
  }

  /**
   * A request with no answer within REQUEST_TIMEOUT_MS: counted, per phase too, the first kept (`first`, and
   * `evidence` with its phase). Judged as a failure of its phase (verdict.js): an app that stalls a request whose
   * session it lacks showed round robin's users nothing at all, and was called stateless.
   */
  timeout(user, { method, path, opened }, kind = 'request', phase = this.phase) {
    this.timeouts.count += 1;
    this.timeouts.first ??= `${method} ${path}`;
    this.#phase(phase).timeouts += 1;
    if (user !== undefined) this.usersAffected.add(user);
    this.timeouts.evidence ??= {
      mode: this.mode,
      phase,
      step: kind,
      request: `${method} ${path}`,
      replica: null,
      status: 0,
      body: '',
      atSeconds: Number(((Date.now() - this.started) / 1000).toFixed(1)),
      note: opened
        ? `its headers came (${opened.status}, ${opened.type}) but its body did not end within ${REQUEST_TIMEOUT_MS / 1000} s, counted as a failure`
        : `no answer within ${REQUEST_TIMEOUT_MS / 1000} s, counted as a failure`,
      ...(opened ? { opened } : {}),
    };
  }

  /** A Set-Cookie the jar refused: the first of each name kept, its value hidden, with the reason and a count. */
  refusedCookie(name, header, reason) {
    const refused = (this.refusedCookies[name] ??= { name, header: header.replace(/=[^;]*/, '=…').slice(0, EXCERPT), reason, count: 0 });
    refused.count += 1;
  }

  success(kind, upstream) {
    const phase = (this.successes[this.phase] ??= {});
    phase[kind] = (phase[kind] ?? 0) + 1;
    if (upstream) this.#address(upstream).passed += 1;
  }

  /** What one replica address answered (a replacement has an address of its own): steps passed, failures 5xx or not. */
  #address(upstream) {
    return (this.byAddress[upstream] ??= { passed: 0, serverErrors: 0, otherFailures: 0 });
  }

  #phase(name = this.phase) {
    return (this.phases[name] ??= { requests: 0, failures: 0, timeouts: 0, elsewhere: 0, byKind: {} });
  }

  /**
   * A step answered (passed or not) by a replica other than the one that logged its user in: what shows whether
   * a session reaches the other replicas. Round robin with none in its steady traffic showed nothing either way.
   */
  elsewhere() {
    this.#phase().elsewhere += 1;
  }

  request(replica) {
    this.#phase().requests += 1;
    const counts = (this.perReplica[replica ?? 'none'] ??= { requests: 0, failures: 0 });
    counts.requests += 1;
  }

  failure(user, kind, { method, path, replica, upstream, status, text, note, location }) {
    const phase = this.#phase();
    phase.failures += 1;
    // A 503 from a replica that joined the balancer moments ago: it was still warming up (see verdict.js).
    if (status === 503 && this.warming?.(upstream)) phase.warming = (phase.warming ?? 0) + 1;
    // 503s apart: "unavailable", as a store or database the app shares answers it (verdict.js onlySharedFailure).
    if (status === 503) phase.unavailable = (phase.unavailable ?? 0) + 1;
    phase.byKind[kind] = (phase.byKind[kind] ?? 0) + 1;
    (this.perReplica[replica ?? 'none'] ??= { requests: 0, failures: 0 }).failures += 1;
    this.usersAffected.add(user);
    if (upstream) this.#address(upstream)[status >= 500 ? 'serverErrors' : 'otherFailures'] += 1;
    this.evidence[kind] ??= {
      mode: this.mode,
      phase: this.phase,
      step: kind,
      request: `${method} ${path}`,
      replica: replica ?? null,
      status,
      body: excerpt(text),
      ...(location ? { location } : {}),
      atSeconds: Number(((Date.now() - this.started) / 1000).toFixed(1)),
      ...(note ? { note } : {}),
    };
  }
}

export class VirtualUser {
  /** `thinkMs`: the pause after each check, write and read, as a person's between two clicks. */
  /**
   * `localAddress`: the loopback address this user's connections come from, its own: the balancer puts it in
   * X-Forwarded-For, so an app that limits logins or requests per client address sees people, not one client
   * (with every user on one address, such an app was judged "breaks even with affinity").
   */
  constructor({ id, name, scenario, base, recorder, replicaOf, cutByStop = () => false, thinkMs = 100, localAddress }) {
    Object.assign(this, { id, name, scenario, base, recorder, replicaOf, cutByStop, thinkMs });
    this.agent = new Agent(localAddress ? { localAddress } : {});
    this.jar = new CookieJar(undefined, { prefixSecurity: 'strict' }); // a __Host-/__Secure- misuse throws, with why
    this.step = 0;
    /** What this user's `capture`s took from answers so far, by name ({NAME} in later requests). */
    this.captured = {};
    this.stopped = false;
    /** Checks answered so far, passed or failed; `finished` once the journey has ended (stopped, or given up). */
    this.checks = 0;
    /** Checks that had no answer within REQUEST_TIMEOUT_MS: steady traffic waits for one, or for answered checks. */
    this.unansweredChecks = 0;
    this.finished = false;
    /** Settles once the first login succeeded or was given up: steady traffic is measured from then on. */
    this.loggedIn = new Promise((resolve) => (this.#firstLogin = resolve));
  }

  #firstLogin;

  /**
   * One request as a browser makes it; 502/504 and broken connections (a replica gone) are retried. `as`: other
   * credentials to send it with, and to keep what it answers in, instead of this user's own (`{ jar, captured,
   * token }`: the logout probe's copies).
   */
  async send(spec, as = this) {
    const jar = as.jar;
    const vars = { user: this.name, step: this.step, captured: { ...as.captured } };
    const path = fill(spec.path, vars);
    const url = new URL(path, this.base).href;
    // Looked up only for a request that names a cookie (the jar's memory store answers at once).
    vars.cookie = (name) => jar.getCookiesSync(url).find((cookie) => cookie.key === name)?.value;
    const headers = { ...fill(spec.headers ?? {}, vars) };
    // Header names in any case: `Content-Type` beside a `content-type` of kura-check's own reached the app as one
    // header, the two values joined ("application/vnd.api+json, application/json").
    const named = (name) => Object.keys(headers).some((key) => key.toLowerCase() === name);
    let body;
    if (spec.json !== undefined) ((body = JSON.stringify(fill(spec.json, vars))), named('content-type') || (headers['content-type'] = 'application/json'));
    else if (spec.form) ((body = new URLSearchParams(fill(spec.form, vars)).toString()), named('content-type') || (headers['content-type'] = 'application/x-www-form-urlencoded'));
    else if (spec.body !== undefined) body = fill(spec.body, vars);
    if (as.token) {
      // The login's token is this user's credential: it replaces an Authorization the headers give.
      for (const key of Object.keys(headers)) if (key.toLowerCase() === 'authorization') delete headers[key];
      headers.authorization = `Bearer ${as.token}`;
    }
    const method = spec.method ?? 'GET';
    const phase = this.recorder.phase; // a request with no answer in time is one of the phase it was sent in
    for (let attempt = 0; ; attempt += 1) {
      const cookie = await jar.getCookieString(url);
      let response;
      let text = '';
      try {
        response = await fetch(url, { method, headers: { ...headers, ...(cookie ? { cookie } : {}) }, body, redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), dispatcher: this.agent });
        text = await response.text();
      } catch (error) {
        // kura-check's own limit, or the run ending: neither is an answer of the app, and neither is a loss.
        if (error?.name === 'TimeoutError' || this.stopped) {
          // Headers that came with a body that never ended (an event stream, a long poll that flushed its headers).
          const opened = response ? { opened: { status: response.status, type: response.headers.get('content-type') ?? 'no content type' } } : {};
          const unanswered = { method, path, status: 0, text: '', replica: null, vars, ...opened, ...(this.stopped ? { cut: true } : { timedOut: true }) };
          if (!this.stopped) this.recorder.timeout(this.id, unanswered, this.#kindOf(spec), phase);
          return unanswered;
        }
        response = undefined; // the connection broke, before or during the answer
      }
      const status = response?.status ?? 0;
      // A 502/504 from a replica nginx did connect to is that replica's answer (it dropped the connection, or sent
      // what nginx refused), not a replica gone: retried here, an app that drops the connection of a user whose
      // session it lacks reached the one that has it within 20 tries, and round robin looked fine.
      // A replica that was killed or told to stop cut it: it is sent again too, as to a replica gone (a pod that ends
      // without draining cuts its requests; an app judged on its sessions does not lose one by that).
      const connected = (lastUpstream(response?.headers.get('x-kura-upstream-connect')) ?? '-') !== '-';
      const cut = (status === 502 || status === 504) && (!connected || this.cutByStop(response?.headers.get('x-kura-upstream')));
      if ((status === 0 || cut) && attempt < 20 && !this.stopped) {
        this.recorder.balancerRetries += 1;
        await sleep(150);
        continue;
      }
      // What a browser refuses is refused here too, and said (a Domain not the host's, a __Host- cookie with a
      // Path): a session cookie dropped without a word once left only a 401 to go on.
      for (const header of response?.headers.getSetCookie() ?? []) {
        const name = header.split('=')[0].trim();
        if (name !== 'kura_route') {
          // The app's, not the affinity balancer's.
          this.recorder.cookieNames.add(name);
          if (this.recorder.cookieValues.size < COOKIE_VALUES) this.recorder.cookieValues.add(header.slice(header.indexOf('=') + 1).split(';')[0].trim());
        }
        const refused = browserRefuses(header);
        if (refused) this.recorder.refusedCookie(name, header, refused);
        else await jar.setCookie(header, url).catch((error) => this.recorder.refusedCookie(name, header, error.message));
      }
      const upstream = response?.headers.get('x-kura-upstream');
      // Every answer a replica gave carries the header (nginx's add_header ... always): a 4xx without it is nginx's.
      if (response && upstream === null && status >= 400 && status < 500) {
        this.recorder.refusedRequest({ method, path, status, text }, { cookieBytes: Buffer.byteLength(cookie ?? ''), bodyBytes: body === undefined ? 0 : Buffer.byteLength(body) });
      }
      const replica = this.replicaOf(upstream);
      this.recorder.request(replica);
      const location = status >= 300 && status < 400 ? (response?.headers.get('location') ?? undefined) : undefined;
      // A body that ends where the replica closed the connection, from a replica killed or told to stop: it may
      // have been cut short there (the headers sent, the body not yet), and nothing on the wire tells (#sendWhole).
      const cutShort = response?.headers.get('x-kura-upstream-framing') === '|' && this.cutByStop(upstream);
      if (spec.capture) this.#capture(spec.capture, { method, path, status, text, headers: response?.headers, cutShort }, as.captured);
      return { method, path, status, text, replica, upstream: lastUpstream(upstream), vars, ...(location ? { location } : {}), ...(cutShort ? { cutShort } : {}) };
    }
  }

  /** Which of the scenario's requests `spec` is (login, check, write, read, logout, setup), for evidence. */
  #kindOf(spec) {
    const kind = ['login', 'check', 'write', 'read', 'logout'].find((name) => this.scenario[name] === spec);
    return kind ?? (spec === this.scenario.login?.before ? 'login' : (this.scenario.setup ?? []).includes(spec) ? 'setup' : 'request');
  }

  /**
   * What `capture` finds in `answer`, kept for {NAME}: NAME to a regular expression on the body, or to `{ header,
   * regex? }` for a header's value (the whole value without regex). The first miss is said, unless the body may
   * have been cut short by a stop (then it is sent again, see #sendWhole).
   */
  #capture(capture, answer, into) {
    for (const [name, taken] of Object.entries(capture)) {
      const header = typeof taken === 'string' ? undefined : taken.header;
      const value = header === undefined ? answer.text : (answer.headers?.get(header) ?? undefined);
      const source = typeof taken === 'string' ? taken : taken.regex;
      const match = value === undefined ? null : source === undefined ? [value] : new RegExp(source).exec(value);
      if (match) into[name] = match[1] ?? match[0];
      else if (header !== undefined) this.recorder.captureMissed ??= `capture ${name} found ${value === undefined ? `no header ${header}` : `nothing in header ${header} ("${oneLine(value, 80)}")`} in the answer to ${answer.method} ${answer.path} (${answer.status})`;
      // Quoted as it is, markup and all: what the expression was tried on.
      else if (!answer.cutShort) this.recorder.captureMissed ??= `capture ${name} found nothing in the answer to ${answer.method} ${answer.path} (${answer.status} "${oneLine(answer.text, 120)}")`;
    }
  }

  /**
   * `send`, and again (up to 3 times) while the answer has the status expected but not the body (`whole` false),
   * and may have been cut short by a stop. A replica killed or told to stop between writing its headers and its
   * body leaves, on an answer whose body ends with the connection, an empty or partial body nginx takes for whole:
   * PHP's built-in server writes the two apart, and a SIGTERM between them failed a check of a stateless app in CI
   * ("loses state on restart"). As a request the stop cut before any answer, it is sent again; an answer with
   * another status, or one framed by a length, is the app's and kept.
   */
  async #sendWhole(spec, defaultStatus, whole) {
    let answer = await this.send(spec);
    for (let again = 0; again < 3 && answer.cutShort && statusFits(spec, defaultStatus, answer.status) && !whole(answer) && !this.stopped; again += 1) {
      this.recorder.balancerRetries += 1;
      await sleep(150);
      answer = await this.send(spec);
    }
    return answer;
  }

  #expect(spec, answer, { defaultStatus, vars }) {
    return statusFits(spec, defaultStatus, answer.status) && (spec.contains === undefined || answer.text.includes(fill(spec.contains, vars)));
  }

  /**
   * The negative control: `kind` (check or read) sent once by this user, who has not logged in (an empty jar, no
   * token). Returns the answer when it passes as a logged-in answer would, else undefined.
   */
  async passesWithoutLogin(kind) {
    const spec = this.scenario[kind];
    this.step += 1;
    const answer = await this.send(spec);
    return this.#expect(spec, answer, { defaultStatus: (s) => s === 200, vars: answer.vars }) ? answer : undefined;
  }

  /**
   * The session control: the check sent with `user`'s own credentials but one of its cookies left out, each in
   * turn, as this user (who has its name and step), on the replica `user`'s balancer route cookie pins it to (that
   * cookie is always kept). Resolves to the answer that passed with the first cookie left out when the check
   * passed with every one of them left out in turn (no one cookie holds the session the check shows: a sign-in
   * page greeting a returning user by a cookie of its own), else undefined. Nothing to judge (undefined) for a
   * user with a token, or with no cookie of the app's. The scenario's `sessionCookies` are left out together, once,
   * instead (each of them alone keeps the user signed in: an access and a refresh token).
   */
  async passesWithoutEachCookie(user) {
    const serialized = user.jar.serializeSync();
    const names = [...new Set(serialized.cookies.map((cookie) => cookie.key))].filter((name) => name !== 'kura_route');
    if (user.token || names.length === 0) return undefined;
    const together = this.scenario.sessionCookies;
    let first;
    for (const left of together ? [together] : names.map((name) => [name])) {
      const name = left.join(' and ');
      this.jar = CookieJar.deserializeSync({ ...serialized, cookies: serialized.cookies.filter((cookie) => !left.includes(cookie.key)) });
      this.captured = { ...user.captured };
      this.step = user.step;
      const passed = await this.passesWithoutLogin('check');
      if (!passed) return undefined;
      first ??= { ...passed, without: name, cookies: names, together: Boolean(together) };
    }
    return first;
  }

  /**
   * The logout probe (the scenario's `logout`), for a user of the cookie-affinity balancer. It logs in; sends the
   * check to each replica in turn (`routes`: their addresses, which the balancer's route cookie pins a request to),
   * each time with a copy of its credentials (cookies, captures, token), so that nothing a replica answers (a
   * session cookie deleted or replaced where it has none) reaches its own; checks once more with its own, so that
   * the credentials it keeps are the latest (an app may renew them); keeps a copy of them; logs out; then sends the
   * check to each replica again with a copy of what it kept, as someone holding a copy of the cookie would.
   * A 5xx or no answer is sent again, twice, as in a step. Returns `{ loggedIn, current, logout, replicas }`, each
   * answer `{ request, replica, status, passed, text }` (see logoutOf).
   */
  async logoutProbe(routes) {
    await this.setup();
    if (!(await this.login())) return { loggedIn: false, why: this.recorder.evidence.login };
    const { check, logout } = this.scenario;
    const is200 = (s) => s === 200;
    const copy = (from) => ({ jar: from.jar.cloneSync(), captured: { ...from.captured }, token: from.token });
    const pinned = (from, address) => {
      const as = copy(from);
      as.jar.setCookieSync(`kura_route=${address}; Path=/`, this.base);
      return as;
    };
    const judged = async (spec, defaultStatus, as) => {
      let answer;
      for (const pause of [0, this.thinkMs, 4 * this.thinkMs]) {
        await sleep(pause);
        answer = await this.send(spec, as);
        if (answer.status > 0 && answer.status < 500) break;
      }
      return { request: `${answer.method} ${answer.path}`, replica: answer.replica, status: answer.status, passed: this.#expect(spec, answer, { defaultStatus, vars: answer.vars }), text: excerpt(answer.text, 80) };
    };
    this.step += 1;
    const before = [];
    for (const address of routes) before.push(await judged(check, is200, pinned(this, address)));
    const current = await judged(check, is200, this);
    if (!current.passed) return { loggedIn: true, current, replicas: [] };
    const kept = copy(this);
    const out = await judged(logout, (s) => s >= 200 && s < 400, this);
    const after = [];
    for (const address of routes) after.push(await judged(check, is200, pinned(kept, address)));
    return {
      loggedIn: true,
      current,
      logout: out,
      token: kept.token !== undefined, // the login gave a token (login.token): what a thief would hold
      expects: `${logout.status ?? 'any 2xx or 3xx'}${logout.contains !== undefined ? `, a body holding ${JSON.stringify(logout.contains)}` : ''}`,
      replicas: routes.map((address, index) => ({ address, before: before[index], after: after[index] })),
    };
  }

  /** The setup requests; one answering another status than its `status` is kept as evidence (the first). */
  async setup() {
    for (const [index, spec] of (this.scenario.setup ?? []).entries()) {
      const answer = await this.send(spec);
      if (spec.status !== undefined && !answer.cut && answer.status !== spec.status) {
        this.recorder.setupFailed ??= `setup ${index + 1} (${answer.method} ${answer.path}) answered ${answer.status} ${excerpt(answer.text, 80)}, not ${spec.status}`;
      }
    }
  }

  /**
   * Logs in (up to 5 attempts, a pause between them, each failure recorded); false if it never succeeds. A 5xx
   * followed by a login that passes is a server error (counted apart), as in #step.
   */
  async login() {
    const spec = this.scenario.login;
    const defaultStatus = (s) => s >= 200 && s < 400;
    const json = (answer) => {
      try {
        return JSON.parse(answer.text);
      } catch {
        return undefined;
      }
    };
    /** The token at `spec.token` in a parsed answer, or undefined when it is no string or empty. */
    const tokenIn = (parsed) => {
      const token = dotted(parsed, spec.token);
      return typeof token === 'string' && token !== '' ? token : undefined;
    };
    const whole = (answer) => this.#expect(spec, answer, { defaultStatus, vars: answer.vars }) && (!spec.token || tokenIn(json(answer)) !== undefined);
    let serverError;
    for (let attempt = 0; attempt < 5 && !this.stopped; attempt += 1) {
      // The login page first, where the scenario says so: what the login needs (a CSRF token) is taken from it.
      if (spec.before && (await this.send(spec.before)).cut) return false;
      const answer = await this.#sendWhole(spec, defaultStatus, whole);
      if (answer.cut) return false;
      if (answer.timedOut) continue; // no answer in time: tried again, not counted as a failed login
      let ok = this.#expect(spec, answer, { defaultStatus, vars: answer.vars });
      let shown = answer;
      if (ok && spec.token) {
        const parsed = json(answer);
        this.token = tokenIn(parsed);
        ok = this.token !== undefined;
        // Said without the answer itself, which holds credentials: where the token was looked for, and what is there.
        const keys = parsed && typeof parsed === 'object' ? `keys: ${Object.keys(parsed).join(', ') || 'none'}` : 'not JSON';
        if (!ok) shown = { ...answer, text: `(login.token "${spec.token}" is not a string in the answer; ${keys})` };
      }
      if (ok) {
        if (serverError) this.recorder.serverError('login', serverError);
        if (answer.location) this.recorder.loginRedirect ??= { status: answer.status, location: answer.location };
        this.recorder.logins += 1;
        this.recorder.success('login', answer.upstream);
        this.loginReplica = answer.replica;
        this.loggedInOnce = true;
        this.verified = undefined; // what an earlier session wrote is not expected any more
        return true;
      }
      if (serverError) this.recorder.failure(this.id, 'login', serverError);
      serverError = undefined;
      if (answer.status >= 500) serverError = answer;
      else this.recorder.failure(this.id, 'login', shown);
      await sleep(this.thinkMs); // and tries again, as a person would, after a moment
    }
    if (serverError) this.recorder.failure(this.id, 'login', serverError);
    return false;
  }

  /**
   * Logs in again after a failed check, write or read, after the same pause as between two clicks: a person who
   * finds themselves logged out does not log in again within the millisecond, and users that never pause keep a
   * small machine's cores busy with an app that keeps failing (each replacement replica then starts slower).
   */
  async #loginAgain() {
    this.token = undefined; // as a client drops a token that was refused: an app may refuse it on /login too
    await sleep(this.thinkMs);
    return this.login();
  }

  /**
   * One step (check, write or read) sent and judged, recorded as a success or a failure; true if it passed,
   * undefined if it had no answer in time (neither), true too when the run ended while it was under way.
   * `step`: the step whose write a read must show (default: this one), `note` what its absence means. An answer
   * 5xx (nginx's 502/504 are retried in send()) is sent again after a pause, twice at most, as a person reloads: a
   * server error says nothing of the session by itself, and a stray 500 judged "breaks even with affinity" an app
   * that keeps nothing. Passed on a reload, the 5xx before it is counted apart (serverErrors), not as a loss.
   */
  async #step(kind, spec, defaultStatus, { step, note } = {}) {
    const judge = (answer) => this.#expect(spec, answer, { defaultStatus, vars: step === undefined ? answer.vars : { ...answer.vars, step } });
    let answer = await this.#sendWhole(spec, defaultStatus, judge);
    if (answer.cut || answer.timedOut) return unjudged(answer);
    if (answer.replica != null && this.loginReplica != null && answer.replica !== this.loginReplica) this.recorder.elsewhere();
    let passed = judge(answer);
    // Twice at most, the second time after a longer pause: on a loaded machine one reload can land in the same
    // short burst of errors as the first answer (CI saw it with an app failing 40 ms of every second).
    for (const pause of [this.thinkMs, 4 * this.thinkMs]) {
      if (passed || answer.status < 500 || this.stopped) break;
      const first = answer;
      await sleep(pause);
      answer = await this.#sendWhole(spec, defaultStatus, judge);
      if (answer.cut || answer.timedOut) return unjudged(answer);
      passed = judge(answer);
      if (passed) this.recorder.serverError(kind, first);
    }
    if (passed) {
      this.recorder.success(kind, answer.upstream);
      return true;
    }
    this.recorder.failure(this.id, kind, { ...answer, note: statusFits(spec, defaultStatus, answer.status) ? note : undefined });
    return false;
  }

  /** Until stop(): check, then write and read; a failed check or read means a new login, as a person would. */
  async run() {
    try {
      await this.#journey();
    } finally {
      this.finished = true;
      this.close();
    }
  }

  /** Closes this user's connections (at once: nothing is waited for once its journey has ended). */
  close() {
    this.agent.destroy().catch(() => {});
  }

  async #journey() {
    const { check, write, read } = this.scenario;
    try {
      await this.setup();
      if (!(await this.login())) return;
    } finally {
      this.#firstLogin();
    }
    const is200 = (s) => s === 200;
    while (!this.stopped) {
      this.step += 1;
      const checked = await this.#step('check', check, is200);
      if (checked !== undefined) this.checks += 1; // answered: a check that can be judged
      else this.unansweredChecks += 1;
      if (!checked) {
        if (!(await this.#loginAgain())) return;
        continue;
      }
      if (write) {
        // After a kill or a restart, first the last write seen before it, read back before anything is written
        // over it: read after the next write, an app that keeps only the latest value (a last note, a one-item
        // cart) showed the new value, not the old one, and was judged "loses state on restart".
        if (this.verified && this.verified.disruptions !== this.recorder.disruptions) {
          const before = this.verified.step;
          const note = `the write of step ${before}, acknowledged before a replica was killed or restarted, is gone`;
          if (!(await this.#step('read', read, is200, { step: before, note }))) {
            if (!(await this.#loginAgain())) return;
            continue;
          }
          this.verified = { step: before, disruptions: this.recorder.disruptions };
        }
        const seen = this.recorder.disruptions; // one that begins while this write is under way: read back again
        if (!(await this.#step('write', write, (s) => s >= 200 && s < 300)) || !(await this.#step('read', read, is200))) {
          if (!(await this.#loginAgain())) return;
          continue;
        }
        this.verified = { step: this.step, disruptions: seen };
      }
      await this.#think();
    }
  }

  /**
   * The pause between two rounds of steps: `thinkMs` on average, between half and one and a half of it. Users that
   * all paused alike stepped in lockstep, and nginx's round robin, handing out replicas in turn, gave each of them
   * the replica of its login every time (4 users, 2 replicas): no session was ever asked of another replica, and an
   * app keeping sessions in memory was judged stateless (CI, 2026-12-05). People do not click in step.
   */
  #think() {
    return sleep(this.thinkMs * (0.5 + Math.random()));
  }
}
