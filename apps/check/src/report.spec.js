import { describe, expect, it } from '@jest/globals';
import { filesLine, toJSON, toMarkdown, toText } from './report.js';

describe("the report's files line", () => {
  const own = "each replica's own: it sees this machine's files as they are, and what it writes outside its folder (/tmp/…, /var/…) only it sees, as a pod";

  it('names the folders the kernel would not overlay, the first five and how many more', () => {
    expect(filesLine({ private: true, sharedHere: [], shared: [] })).toBe(own);
    expect(filesLine({ private: true, sharedHere: ['/srv/nfs'], shared: [] })).toBe(`${own}; shared as they are, the kernel would not overlay them: /srv/nfs`);
    const many = Array.from({ length: 40 }, (_, i) => `/var/lib/docker/overlay2/${i}/merged`);
    const line = filesLine({ private: true, sharedHere: many, shared: ['/data'] });
    expect(line).toContain(`${many.slice(0, 5).join(', ')} and 35 more (--json lists them); shared, as the scenario says: /data`);
    expect(line).not.toContain(many[5]);
  });
});

describe('a setup request that did not answer its status', () => {
  // A scenario's setup POST /register, status 201, on an app with no such route: every setup got 404, the users logged
  // in anyway, and nothing in the output said so (an outside review, 2026-12-06).
  const json = { app: 'a', verdict: 'stateless', meaning: 'm.', exitCode: 0, replicas: 3, users: 4, seconds: 1, modes: {}, evidence: [], refusedCookies: [], events: [], setupFailed: 'setup 1 (POST /register) answered 404 Not Found, not 201' };

  it('is said under the evidence, in the text and in the report', () => {
    const line = '- setup 1 (POST /register) answered 404 Not Found, not 201 (the first such answer; the users went on, and logged in: is the setup still needed, or its status wrong?)';
    expect(toText(json).split('\n')).toContain(line);
    expect(toMarkdown(json).split('\n')).toContain(line);
    expect(toText({ ...json, setupFailed: undefined })).not.toContain('setup 1');
  });
});

describe("the verdict's meaning and advice, from what failed and what the app runs on (an outside review, 2026-12-07)", () => {
  /** A recorder as users.js keeps one, with failures of these kinds in steady traffic. */
  const recorder = (mode, kinds = {}) => ({
    mode,
    logins: 4,
    usersAffected: new Set(),
    balancerRetries: 0,
    serverErrors: { count: 0 },
    perReplica: {},
    refusedCookies: {},
    timeouts: { count: 0 },
    evidence: Object.fromEntries(Object.keys(kinds).map((step) => [step, { mode, phase: 'steady', step, request: 'POST /login', status: 403 }])),
    phases: { steady: { requests: 20, failures: Object.values(kinds).reduce((a, b) => a + b, 0), timeouts: 0, elsewhere: 0, byKind: kinds } },
  });
  const run = (kinds, start = 'php -S {host}:{port}') =>
    toJSON({ name: 'a', start, login: {}, check: {} }, { verdict: 'needs affinity', modes: { 'round-robin': recorder('round-robin', kinds), 'cookie-affinity': recorder('cookie-affinity') }, replicas: 3, users: 4, seconds: 1, cautions: [], sessionCookies: ['shopsid'] });

  it('says what the login needs, where the login alone failed under round robin (a CSRF token kept per replica)', () => {
    const json = run({ login: 13 });
    expect(json.meaning).toMatch(/^under round robin the login itself failed where it reached another replica than the request before it, and nothing else was lost/);
    expect(json.nextSteps).toEqual([expect.stringMatching(/^the login itself failed where it reached another replica/)]);
    expect(run({ login: 2, check: 5 }).meaning).not.toMatch(/login itself/);
    // An app keeping its accounts in memory (setup registers the user on one replica), its sessions in Redis.
    expect(json.meaning).toMatch(/what the login needs from an earlier request \(the account `setup` made, a CSRF token/);
  });

  it("names Kura's Node packages only for an app whose start command runs Node", () => {
    expect(run({ check: 5 }).nextSteps[0]).not.toContain('KuraStore');
    expect(run({ check: 5 }, 'exec node server.js').nextSteps[0]).toContain('KuraStore');
    expect(run({ check: 5 }, 'npm start').nextSteps[0]).toContain('KuraStore');
  });
});

// An outside review: a logout path mistyped threw the whole run away (an in-memory app's 172 failed requests unsaid).
describe('a logout that could not be judged', () => {
  const recorder = (mode) => ({ mode, logins: 4, usersAffected: new Set([1]), balancerRetries: 0, serverErrors: { count: 0 }, perReplica: {}, refusedCookies: {}, timeouts: { count: 0 }, evidence: { check: { mode, phase: 'steady', step: 'check', request: 'GET /me', status: 401, body: 'no' } }, phases: { steady: { requests: 20, failures: 5, timeouts: 0, elsewhere: 10, byKind: { check: 5 } } } });
  const json = toJSON(
    { name: 'a', start: 'exec node server.js', login: {}, check: {} },
    { verdict: 'needs affinity', modes: { 'round-robin': recorder('round-robin'), 'cookie-affinity': { ...recorder('cookie-affinity'), phases: { steady: { requests: 20, failures: 0, timeouts: 0, elsewhere: 0, byKind: {} } } } }, replicas: 3, users: 4, seconds: 1, cautions: [], sessionCookies: ['connect.sid'], logout: { effective: null, line: 'not judged: the logout, POST /logot, replica 1 answered 404, not what the scenario\'s logout expects' } },
  );

  it('keeps the verdict and its evidence, says why beside them, and exits 2', () => {
    expect(json).toMatchObject({ verdict: 'needs affinity', exitCode: 2 });
    const text = toText(json).split('\n');
    expect(text).toContain("logout: not judged: the logout, POST /logot, replica 1 answered 404, not what the scenario's logout expects");
    expect(text.find((line) => line.startsWith('verdict: '))).toMatch(/But the logout could not be judged \(see the logout line\): the scenario's logout does not fit the app, exit 2\.$/);
    expect(toText(json)).toContain('GET /me');
  });
});
