import { describe, expect, it } from '@jest/globals';
import { Recorder } from './users.js';
import { EXIT, logoutOf, onlyBrokenReplicas, onlySharedFailure, onlyUnanswered, onlyWarmingUp, sessionsMoved, VERDICTS, verdictOf } from './verdict.js';

/**
 * What the users saw, written as failures per balancer and phase, recorded by the run's own Recorder:
 * `{ rr: { steady: 3 }, affinity: { kill: 1 } }` is three failed checks in round robin's steady phase and one
 * after affinity's SIGKILL; every phase also saw requests that went well.
 */
function seen({ rr = {}, affinity = {} } = {}) {
  const record = (mode, failures) => {
    const recorder = new Recorder(mode);
    for (const phase of ['steady', 'kill', 'rolling']) {
      recorder.phase = phase;
      for (let i = 0; i < 10; i += 1) recorder.request(1 + (i % 3));
      for (let i = 0; i < (failures[phase] ?? 0); i += 1) {
        recorder.failure(i + 1, 'check', { method: 'GET', path: '/me', replica: 2, status: 401, text: 'not logged in' });
      }
    }
    return recorder;
  };
  return { 'round-robin': record('round-robin', rr), 'cookie-affinity': record('cookie-affinity', affinity) };
}

describe('the verdict, from the failures seen per balancer and phase', () => {
  it('names exactly four verdicts', () => {
    expect(VERDICTS).toEqual(['stateless', 'needs affinity', 'breaks even with affinity', 'loses state on restart']);
    expect(EXIT).toEqual({ stateless: 0, notStateless: 1, cannotJudge: 2 });
  });

  it.each([
    ['nothing failed anywhere', {}, 'stateless'],
    // The in-memory case: round robin loses sessions at once, affinity only until the user's replica goes.
    ['round robin fails at once, affinity only after the kill and the restarts', { rr: { steady: 5, kill: 4, rolling: 9 }, affinity: { kill: 2, rolling: 3 } }, 'needs affinity'],
    ['round robin fails at once, affinity never (no user was pinned to a replica that went)', { rr: { steady: 5 } }, 'needs affinity'],
    ['round robin fails only in its steady phase', { rr: { steady: 1 } }, 'needs affinity'],
    ['affinity fails while nothing restarts', { rr: { steady: 5, kill: 5, rolling: 5 }, affinity: { steady: 1, kill: 1, rolling: 1 } }, 'breaks even with affinity'],
    ["failures only in affinity's steady phase", { affinity: { steady: 1 } }, 'breaks even with affinity'],
    ['round robin fine, but its kill loses sessions', { rr: { kill: 1 } }, 'loses state on restart'],
    ['round robin fine, but its rolling restart loses sessions', { rr: { rolling: 2 } }, 'loses state on restart'],
    ['failures only after the kill, under affinity', { affinity: { kill: 1 } }, 'loses state on restart'],
    ['failures only in the rolling restart, under affinity', { affinity: { rolling: 1 } }, 'loses state on restart'],
    ['failures after every kill and restart, none while steady', { rr: { kill: 3, rolling: 3 }, affinity: { kill: 3, rolling: 3 } }, 'loses state on restart'],
  ])('%s: %j is "%s"', (_, failures, verdict) => {
    expect(verdictOf(seen(failures))).toBe(verdict);
  });

  it('counts a failure of any step (a lost cart read as much as a lost login)', () => {
    const modes = seen();
    modes['round-robin'].phase = 'steady';
    modes['round-robin'].failure(1, 'read', { method: 'GET', path: '/cart', replica: 3, status: 200, text: '[]' });
    expect(verdictOf(modes)).toBe('needs affinity');
  });

  it('takes a phase that saw no request at all (it never began) as one without failures', () => {
    const rr = new Recorder('round-robin');
    rr.request(1);
    const affinity = new Recorder('cookie-affinity');
    affinity.phase = 'rolling';
    affinity.failure(1, 'check', { method: 'GET', path: '/me', replica: 1, status: 401, text: '' });
    expect(verdictOf({ 'round-robin': rr, 'cookie-affinity': new Recorder('cookie-affinity') })).toBe('stateless');
    expect(verdictOf({ 'round-robin': rr, 'cookie-affinity': affinity })).toBe('loses state on restart');
  });

  it('counts a request with no answer in time as a failure of the phase it was sent in, with its own evidence', () => {
    // review2: an app stalling where the session is missing; round robin got 7 requests through, none failed, and
    // the verdict was "stateless".
    const modes = seen();
    const rr = modes['round-robin'];
    rr.phase = 'kill'; // timed out after the kill, sent during steady traffic
    rr.timeout(1, { method: 'GET', path: '/me' }, 'check', 'steady');
    expect(rr.phases.steady).toMatchObject({ failures: 0, timeouts: 1 });
    expect(rr.phases.kill.timeouts).toBe(0);
    expect(rr.timeouts.evidence).toMatchObject({ mode: 'round-robin', phase: 'steady', step: 'check', request: 'GET /me', status: 0, note: 'no answer within 10 s, counted as a failure' });
    expect(rr.usersAffected.has(1)).toBe(true);
    expect(verdictOf(modes)).toBe('needs affinity');
    const later = seen();
    later['cookie-affinity'].timeout(2, { method: 'GET', path: '/me' }, 'check', 'rolling');
    expect(verdictOf(later)).toBe('loses state on restart');
  });

  it("sees sessions moved under round robin only when a steady step reached a replica other than its user's login, or failed", () => {
    // 4 users in lockstep behind 2 replicas each met their login's replica every time, and an app keeping sessions
    // in memory was judged stateless (CI, 2026-12-05): run.js waits for a move, and judges nothing without one.
    const rr = new Recorder('round-robin');
    rr.request(1);
    rr.success('check', '127.0.0.11:1');
    expect(sessionsMoved(rr)).toBe(false);
    rr.phase = 'kill';
    rr.elsewhere();
    expect(sessionsMoved(rr)).toBe(false);
    rr.phase = 'steady';
    rr.elsewhere();
    expect(sessionsMoved(rr)).toBe(true);
    expect(sessionsMoved(seen({ rr: { steady: 1 } })['round-robin'])).toBe(true);
    const stalled = new Recorder('round-robin');
    stalled.timeout(1, { method: 'GET', path: '/me' }, 'check');
    expect(sessionsMoved(stalled)).toBe(true);
  });

  it('never gives anything but one of the four names', () => {
    const phases = ['steady', 'kill', 'rolling'];
    for (let mask = 0; mask < 64; mask += 1) {
      const rr = Object.fromEntries(phases.map((phase, i) => [phase, (mask >> i) & 1]));
      const affinity = Object.fromEntries(phases.map((phase, i) => [phase, (mask >> (i + 3)) & 1]));
      const verdict = verdictOf(seen({ rr, affinity }));
      expect(VERDICTS).toContain(verdict);
      expect(verdict === 'stateless').toBe(mask === 0);
    }
  });
});

describe('failures after the kill and in the rolling restart that are only replicas warming up', () => {
  /** `failures`: per mode and phase, [status, whether from a replica that joined moments ago]. */
  function warmup(failures) {
    const modes = seen();
    for (const [mode, phases] of Object.entries(failures)) {
      const recorder = modes[mode];
      recorder.warming = (address) => address === '127.0.1.12:5000';
      for (const [phase, answers] of Object.entries(phases)) {
        recorder.phase = phase;
        for (const [status, fresh] of answers) {
          recorder.failure(1, 'check', { method: 'GET', path: '/me', replica: 2, upstream: fresh ? '127.0.1.12:5000' : '127.0.0.12:5000', status, text: 'warming up' });
        }
      }
    }
    return modes;
  }

  it('are: only 503s from replicas that joined moments ago, nothing lost while steady (review2: "loses state on restart")', () => {
    const modes = warmup({ 'round-robin': { kill: [[503, true]], rolling: [[503, true]] }, 'cookie-affinity': { rolling: [[503, true]] } });
    expect(verdictOf(modes)).toBe('loses state on restart');
    expect(onlyWarmingUp(modes)).toBe(true);
  });

  it('are not: a 401, a 503 from a replica that was there before, a timeout, a loss while steady, or no failure at all', () => {
    expect(onlyWarmingUp(warmup({ 'round-robin': { kill: [[503, true], [401, true]] } }))).toBe(false);
    expect(onlyWarmingUp(warmup({ 'round-robin': { kill: [[503, true], [503, false]] } }))).toBe(false);
    expect(onlyWarmingUp(warmup({ 'round-robin': { steady: [[503, true]], kill: [[503, true]] } }))).toBe(false);
    const timedOut = warmup({ 'round-robin': { kill: [[503, true]] } });
    timedOut['cookie-affinity'].timeout(1, { method: 'GET', path: '/me' }, 'check', 'rolling');
    expect(onlyWarmingUp(timedOut)).toBe(false);
    expect(onlyWarmingUp(seen())).toBe(false);
  });
});

describe('failures after the kill and in the rolling restart that are only requests with no answer in time', () => {
  const timedOut = (modes, mode, phase) => modes[mode].timeout(1, { method: 'GET', path: '/me' }, 'check', phase);

  it('are: nothing answered wrongly anywhere, nothing unanswered while steady (a review: a stuck replica judged "loses state on restart")', () => {
    const modes = seen();
    timedOut(modes, 'round-robin', 'kill');
    timedOut(modes, 'cookie-affinity', 'rolling');
    expect(verdictOf(modes)).toBe('loses state on restart');
    expect(onlyUnanswered(modes)).toBe(true);
  });

  it('are not: a wrong answer after the kill beside them, anything that failed while steady, or no failure at all', () => {
    const wrong = seen({ affinity: { rolling: 1 } });
    timedOut(wrong, 'round-robin', 'kill');
    expect(onlyUnanswered(wrong)).toBe(false);
    const steady = seen({ rr: { steady: 1 } });
    timedOut(steady, 'round-robin', 'kill');
    expect(onlyUnanswered(steady)).toBe(false);
    const unansweredSteady = seen();
    timedOut(unansweredSteady, 'round-robin', 'steady');
    timedOut(unansweredSteady, 'round-robin', 'kill');
    expect(onlyUnanswered(unansweredSteady)).toBe(false);
    expect(onlyUnanswered(seen({ rr: { kill: 2 } }))).toBe(false);
    expect(onlyUnanswered(seen())).toBe(false);
  });
});

describe('failures that all come from replicas answering everyone with a 5xx', () => {
  /** `answers`: per mode, [phase, kind, upstream, status, passed]. */
  function answered(answers) {
    const modes = seen();
    for (const [mode, list] of Object.entries(answers)) {
      const recorder = modes[mode];
      for (const [phase, kind, upstream, status, passed] of list) {
        recorder.phase = phase;
        if (passed) recorder.success(kind, upstream);
        else recorder.failure(1, kind, { method: 'GET', path: '/me', replica: 1, upstream, status, text: 'no database connection' });
      }
    }
    return modes;
  }
  const broken = '127.0.0.11:5000';
  const healthy = '127.0.0.12:5000';

  it('are: every failure a 5xx from a replica that passed nothing (a review: "breaks even with affinity" for a stateless app)', () => {
    const modes = answered({ 'cookie-affinity': [['steady', 'login', broken, 500], ['steady', 'check', healthy, 200, true]], 'round-robin': [['steady', 'read', broken, 500], ['kill', 'check', healthy, 200, true]] });
    expect(verdictOf(modes)).toBe('breaks even with affinity');
    expect(onlyBrokenReplicas(modes)).toEqual([broken]);
  });

  it('are not: a replica that passed its own users (500 where a session is missing), a 401 beside, a timeout, or no failure', () => {
    expect(onlyBrokenReplicas(answered({ 'round-robin': [['steady', 'check', broken, 500], ['steady', 'check', broken, 200, true]] }))).toBeUndefined();
    expect(onlyBrokenReplicas(answered({ 'round-robin': [['steady', 'check', broken, 500], ['steady', 'check', healthy, 401]] }))).toBeUndefined();
    expect(onlyBrokenReplicas(answered({ 'round-robin': [['steady', 'check', broken, 500], ['steady', 'check', broken, 401]] }))).toBeUndefined();
    const timedOut = answered({ 'round-robin': [['steady', 'check', broken, 500]] });
    timedOut['round-robin'].timeout(1, { method: 'GET', path: '/me' }, 'check', 'kill');
    expect(onlyBrokenReplicas(timedOut)).toBeUndefined();
    expect(onlyBrokenReplicas(seen({ rr: { steady: 2 } }))).toBeUndefined(); // failures with no address known
    expect(onlyBrokenReplicas(seen())).toBeUndefined();
  });

  // A newcomer's review stopped the Redis of an app on KuraStore for 2 s: 503s from all three replicas, under affinity
  // too, judged "breaks even with affinity", with the advice to keep its sessions in KuraStore.
  it('are a service the replicas share when several replicas that served other steps answered 503, and nothing else failed', () => {
    const modes = answered({
      'cookie-affinity': [['steady', 'check', broken, 200, true], ['steady', 'check', healthy, 200, true], ['steady', 'check', broken, 503], ['steady', 'login', healthy, 503]],
      'round-robin': [['steady', 'check', broken, 503], ['steady', 'check', healthy, 200, true]],
    });
    expect(verdictOf(modes)).toBe('breaks even with affinity');
    expect(onlySharedFailure(modes)).toEqual([broken, healthy]);
  });

  it('are not a shared failure: one replica alone, a 401 beside, a timeout, or a replica that passed nothing', () => {
    const one = answered({ 'cookie-affinity': [['steady', 'check', broken, 200, true], ['steady', 'check', broken, 503], ['steady', 'check', healthy, 200, true]] });
    expect(onlySharedFailure(one)).toBeUndefined();
    const withLoss = answered({ 'cookie-affinity': [['steady', 'check', broken, 200, true], ['steady', 'check', healthy, 200, true], ['steady', 'check', broken, 503], ['steady', 'check', healthy, 503], ['steady', 'check', healthy, 401]] });
    expect(onlySharedFailure(withLoss)).toBeUndefined();
    const timedOut = answered({ 'cookie-affinity': [['steady', 'check', broken, 200, true], ['steady', 'check', healthy, 200, true], ['steady', 'check', broken, 503], ['steady', 'check', healthy, 503]] });
    timedOut['round-robin'].timeout(1, { method: 'GET', path: '/me' }, 'check', 'steady');
    expect(onlySharedFailure(timedOut)).toBeUndefined();
    expect(onlySharedFailure(answered({ 'cookie-affinity': [['steady', 'check', healthy, 200, true], ['steady', 'check', broken, 503], ['steady', 'check', healthy, 503]] }))).toBeUndefined();
    // 500s from every replica under affinity: an app answering 500 where a session is missing, each replica a cluster
    // of workers keeping sessions apart (a review of this rule: "a shared service failing" of a real loss).
    const missing500 = answered({ 'cookie-affinity': [['steady', 'check', broken, 200, true], ['steady', 'check', healthy, 200, true], ['steady', 'check', broken, 500], ['steady', 'check', healthy, 500]] });
    expect(verdictOf(missing500)).toBe('breaks even with affinity');
    expect(onlySharedFailure(missing500)).toBeUndefined();
  });
});

describe('the logout, from what the check answered on each replica before and after it', () => {
  const answer = (replica, passed, status = passed ? 200 : 401) => ({ replica, status, passed, text: passed ? '{"user":"logout-x"}' : '{"error":"no session"}' });
  const logout = { request: 'POST /logout', replica: 1, status: 204, passed: true, text: '' };
  const probe = (pairs) => ({ loggedIn: true, current: answer(1, true), logout, replicas: pairs.map(([before, after], i) => ({ address: `127.0.0.${11 + i}:80`, before: answer(i + 1, before), after: typeof after === 'number' ? answer(i + 1, false, after) : answer(i + 1, after) })) });

  it('is effective when the credentials from just before it pass nowhere (sessions shared, or in the one replica that ended it)', () => {
    expect(logoutOf(probe([[true, false], [true, false], [true, false]]))).toMatchObject({ effective: true, line: 'effective: after POST /logout, the check sent with the cookies and token from just before it passed on none of 3 replicas' });
    expect(logoutOf(probe([[false, false], [true, false], [false, 503]]))).toMatchObject({
      effective: true,
      line: expect.stringContaining('passed on none of 2 replicas (1 gave no answer below 500); before it, on 1 of them: the session was taken by one replica only (see the verdict)'),
    });
  });

  it('is not effective where they still pass, on every replica (the session in the cookie) or on some (copies in replicas)', () => {
    const everywhere = logoutOf(probe([[true, true], [true, true], [true, true]]));
    expect(everywhere).toMatchObject({ effective: false, stillIn: [1, 2, 3] });
    expect(everywhere.line).toMatch(/^NOT effective: after POST \/logout answered 204, .* still passed on 3 of 3 replicas \(replica 1 answered 200 "\{"user":"logout-x"\}"\): the session lives on in the cookie or token itself/);
    expect(logoutOf({ ...probe([[true, true]]), token: true }).line).toMatch(/whoever holds a copy of the token \(a stolen one\)/);
    const some = logoutOf(probe([[true, false], [true, true], [true, false]]));
    expect(some).toMatchObject({ effective: false, stillIn: [2] });
    expect(some.line).toContain("still passed on 1 of 3 replicas (replica 2 answered 200");
    expect(some.line).toContain("those replicas' copies of it (a cache, or a list of ended sessions each keeps for itself)");
    expect(some.endedOn).toEqual([1, 3]);
  });

  // A newcomer's review: Koa with keys made at start, the session taken by replica 2 alone, before and after the
  // logout, was said to live on in "those replicas' copies", and the advice was pub/sub.
  it('says the session lives on in the cookie itself where it was ended on no replica that took it, taken by one replica only', () => {
    const result = logoutOf(probe([[false, false], [true, true], [false, false]]));
    expect(result).toMatchObject({ effective: false, stillIn: [2], endedOn: [] });
    expect(result.line).toMatch(/still passed on 1 of 3 replicas \(replica 2 answered 200 .*\); before it, on 1 of them: the session was taken by one replica only \(see the verdict\): the session lives on in the cookie or token itself \(a signed one, as JWT and cookie-session keep it\), or the copy of the replicas that took it, or the store/);
  });

  it('is not judged when the probe could not log in, its own check failed just before the logout, the logout failed, or no replica answered after it', () => {
    expect(logoutOf({ loggedIn: false })).toEqual({ effective: null, line: 'not judged: the probe could not log in' });
    expect(logoutOf({ ...probe([[true, true]]), current: answer(1, false) })).toMatchObject({ effective: null, line: expect.stringContaining('an app that replaces its session id at every request') });
    expect(logoutOf({ ...probe([[true, true]]), logout: { ...logout, status: 403, passed: false, text: 'CSRF' } })).toMatchObject({
      effective: null,
      line: 'not judged: the logout, POST /logout, replica 1 answered 403 "CSRF", not what the scenario\'s logout expects; a CSRF token? send it as the other requests do ({cookie:NAME}, or a capture)',
    });
    expect(logoutOf(probe([[true, 502], [true, 0]]))).toMatchObject({ effective: null });
    // What it expected, where the scenario said: a 204 with no body was refused for a contains the line never named.
    expect(logoutOf({ ...probe([[true, true]]), logout: { ...logout, passed: false }, expects: 'any 2xx or 3xx, a body holding "bye"' }).line).toBe(
      'not judged: the logout, POST /logout, replica 1 answered 204, not what the scenario\'s logout expects (any 2xx or 3xx, a body holding "bye")',
    );
  });
});
