import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { checkScenario } from './scenario.js';
import { Recorder, VirtualUser } from './users.js';

describe('the headers a virtual user sends', () => {
  let server;
  let base;
  beforeAll(async () => {
    // Answers with the headers it got: what the app sees.
    server = createServer((req, res) => res.end(JSON.stringify(req.headers)));
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${server.address().port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  /** The headers the server got for `spec`, sent by a user of `scenario` (checked and given its defaults). */
  async function received(spec, scenario = {}, token) {
    const loaded = checkScenario({ start: 'x', login: { path: '/login' }, check: spec, ...scenario });
    const user = new VirtualUser({ id: 1, name: 'vu1-abc', scenario: loaded, base, recorder: new Recorder('round-robin'), replicaOf: () => null });
    user.token = token;
    try {
      return JSON.parse((await user.send(loaded.check)).text);
    } finally {
      user.close();
    }
  }

  it("sends the scenario's top-level headers, placeholders filled, a request's own replacing one by name in any case", async () => {
    const headers = await received({ path: '/me', headers: { 'x-tenant': 'own' } }, { headers: { 'X-Forwarded-Proto': 'https', 'X-Tenant': 'shop', 'X-User': '{user}' } });
    expect(headers).toMatchObject({ 'x-forwarded-proto': 'https', 'x-tenant': 'own', 'x-user': 'vu1-abc' });
  });

  it('keeps a Content-Type given in any case with a json or form body, instead of sending two joined', async () => {
    // `Content-Type` beside kura-check's own `content-type` reached the app as "application/vnd.api+json, application/json".
    expect((await received({ method: 'POST', path: '/me', headers: { 'Content-Type': 'application/vnd.api+json' }, json: { a: 1 } }))['content-type']).toBe('application/vnd.api+json');
    expect((await received({ method: 'POST', path: '/me', form: { a: 1 } }, { headers: { 'CONTENT-TYPE': 'application/x-www-form-urlencoded; charset=utf-8' } }))['content-type']).toBe('application/x-www-form-urlencoded; charset=utf-8');
    expect((await received({ method: 'POST', path: '/me', json: { a: 1 } }))['content-type']).toBe('application/json');
  });

  it("sends the login's token as the one Authorization, over one the headers give", async () => {
    expect((await received({ path: '/me' }, { headers: { Authorization: 'Basic c3RhZ2luZzp4' } }, 'the-token')).authorization).toBe('Bearer the-token');
    expect((await received({ path: '/me' }, { headers: { Authorization: 'Basic c3RhZ2luZzp4' } })).authorization).toBe('Basic c3RhZ2luZzp4');
  });
});

describe('the cookies a virtual user keeps, as a browser keeps them', () => {
  let server;
  let base;
  beforeAll(async () => {
    // Sets the cookies its query names, each a Set-Cookie header of its own.
    server = createServer((req, res) => {
      const cookies = new URL(req.url, 'http://x').searchParams.getAll('set');
      res.writeHead(200, { 'set-cookie': cookies }).end(JSON.stringify({ cookie: req.headers.cookie ?? '' }));
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${server.address().port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('refuses SameSite=None without Secure, as Chrome and Edge do, and says why; keeps it with Secure', async () => {
    // An app whose session cookie says SameSite=None without Secure (express-session's sameSite: 'none' with
    // secure: false) logs nobody in in a browser, and was judged stateless (a review, 2026-12-05).
    const scenario = checkScenario({ start: 'x', login: { path: '/login' }, check: { path: '/me' } });
    const recorder = new Recorder('round-robin');
    const user = new VirtualUser({ id: 1, name: 'vu1-abc', scenario, base, recorder, replicaOf: () => null });
    const set = ['sid=1; Path=/; HttpOnly; SameSite=None', 'ok=2; Path=/; Secure; SameSite=None', 'lax=3; Path=/; SameSite=Lax', 'last=4; Path=/; SameSite=Lax; samesite=none'];
    try {
      await user.send({ path: `/login?${set.map((cookie) => `set=${encodeURIComponent(cookie)}`).join('&')}` });
      expect(JSON.parse((await user.send({ path: '/me' })).text).cookie).toBe('ok=2; lax=3');
    } finally {
      user.close();
    }
    expect(Object.keys(recorder.refusedCookies).sort()).toEqual(['last', 'sid']);
    expect(recorder.refusedCookies.sid).toMatchObject({ header: 'sid=…; Path=/; HttpOnly; SameSite=None', reason: 'SameSite=None without Secure: Chrome and Edge refuse such a cookie, so no user of theirs would keep it' });
  });
});

describe("a step answered elsewhere than the user's login", () => {
  let server;
  let base;
  let answeredBy = [];
  beforeAll(async () => {
    // One app behind a pretend balancer: each answer names the replica it came from, the next in `answeredBy`.
    server = createServer((req, res) => {
      const upstream = answeredBy.shift() ?? '127.0.0.11:1';
      if (req.url === '/login') res.writeHead(200, { 'set-cookie': 'sid=1; Path=/', 'x-kura-upstream': upstream }).end('ok');
      else res.writeHead(200, { 'x-kura-upstream': upstream }).end('me vu1-abc');
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${server.address().port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  /** The steady phase of a user who logs in, then checks until `checks` were answered, on `replicas` in turn. */
  async function steadyOf(replicas, checks) {
    answeredBy = replicas.map((n) => `127.0.0.${n}:1`);
    const scenario = checkScenario({ start: 'x', login: { method: 'POST', path: '/login', form: { user: '{user}' } }, check: { path: '/me', contains: '{user}' } });
    const recorder = new Recorder('round-robin');
    const replicaOf = (header) => Number(/127\.0\.0\.(\d+)/.exec(header)?.[1]) - 10;
    const user = new VirtualUser({ id: 1, name: 'vu1-abc', scenario, base, recorder, replicaOf, thinkMs: 1 });
    const journey = user.run();
    while (user.checks < checks) await new Promise((resolve) => setTimeout(resolve, 1));
    user.stopped = true;
    await journey;
    return recorder.phases.steady;
  }

  it('counts the checks another replica answered, passed or not: what shows that round robin moved a session', async () => {
    // 4 users in lockstep behind 2 replicas each met their login's replica every time: nothing moved, no failure,
    // and an app keeping sessions in memory was judged stateless (CI, 2026-12-05). Such a run is not judged now.
    expect(await steadyOf([11, 11, 11, 11], 3)).toMatchObject({ elsewhere: 0, failures: 0 });
    expect(await steadyOf([11, 12, 11, 12], 3)).toMatchObject({ elsewhere: 2, failures: 0 });
  });
});
