import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freshTables, kuraEnv } from './support/engine.js';
import { HttpClient, uniqueEmail } from './support/http-client.js';
import { type KuraProcess, startKuraProcess } from './support/kura-process.js';

/**
 * What an operator sees: JSON log lines with a request id (and no secret in any of them), and Prometheus
 * metrics on their own port. Kura runs as its own process, as in production, and every line it prints is read.
 */
let kura: KuraProcess;
let metricsUrl: string;
const email = uniqueEmail('observed');
const password = 'first secret passphrase';
const newPassword = 'second secret passphrase';
const wrongPassword = 'not the right passphrase';
const secrets: string[] = [password, newPassword, wrongPassword];

beforeAll(async () => {
  kura = await startKuraProcess(
    kuraEnv(await freshTables(), undefined, { KURA_LOG_FORMAT: 'json', KURA_METRICS_PORT: '0', KURA_COOKIE_SECURE: 'false', KURA_MAX_SESSIONS_PER_USER: '2', KURA_AUDIT_LOG: 'true' }),
  );
  metricsUrl = /Prometheus metrics on (http:\/\/[\d.:]+\/metrics)/.exec(kura.output())![1]!;

  // A whole journey, cookie and bearer, with a failure and a password change, for the logs to record.
  const browser = new HttpClient(kura.baseUrl);
  expect((await browser.post('/auth/register', { email, password })).status).toBe(201);
  expect((await browser.post('/auth/login', { email, password: wrongPassword })).status).toBe(401);
  expect((await browser.post('/auth/login', { email, password })).status).toBe(200);
  secrets.push(...(await browser.jar.getCookies(kura.baseUrl)).map((cookie) => cookie.value));
  const bearer = (await new HttpClient(kura.baseUrl).post('/auth/login', { email, password, transport: 'bearer' })).body.token as string;
  secrets.push(bearer);
  expect((await browser.get('/auth/me')).status).toBe(200);
  expect((await fetch(`${kura.baseUrl}/auth/me`, { headers: { authorization: `Bearer ${bearer}` } })).status).toBe(200);
  expect((await browser.request('PATCH', '/session/data', { json: { theme: 'dark' }, headers: { 'content-type': 'application/merge-patch+json' } })).status).toBe(200);
  const changed = await browser.post('/auth/password', { currentPassword: password, newPassword });
  expect(changed.status).toBe(200);
  secrets.push(...(await browser.jar.getCookies(kura.baseUrl)).map((cookie) => cookie.value));
  expect((await browser.post('/auth/logout')).status).toBe(204);
  expect((await new HttpClient(kura.baseUrl).post('/auth/login', { email: uniqueEmail('nobody'), password })).status).toBe(401);

  // Devices past the limit of 2 sessions, one ended by another, all ended, a confirmation, and the account deleted.
  const device = async () => {
    const body = (await new HttpClient(kura.baseUrl).post('/auth/login', { email, password: newPassword, transport: 'bearer' })).body;
    secrets.push(body.token);
    return { id: body.session.id as string, as: (method: string, path: string, json?: unknown) => new HttpClient(kura.baseUrl).request(method, path, { ...(json ? { json } : {}), headers: { authorization: `Bearer ${body.token}` }, cookies: false }) };
  };
  const [phone, laptop, tablet] = [await device(), await device(), await device()]; // the tablet's login ends the phone's session
  journey.evicted = phone.id;
  expect((await laptop.as('DELETE', `/auth/sessions/${tablet.id}`)).status).toBe(204);
  // A session id that is none of the user's: refused (404), and recorded as access denied.
  expect((await laptop.as('DELETE', `/auth/sessions/${'A'.repeat(43)}`)).status).toBe(404);
  // One that is no session id at all (it left no line before an outside review), recorded without the caller's words.
  expect((await laptop.as('DELETE', '/auth/sessions/nope%0Aforged=1')).status).toBe(404);
  expect((await laptop.as('POST', '/auth/logout-all')).status).toBe(200);
  const last = await device();
  expect((await last.as('POST', '/auth/reauthenticate', { password: wrongPassword })).status).toBe(403);
  const renewed = await last.as('POST', '/auth/reauthenticate', { password: newPassword });
  expect(renewed.status).toBe(200);
  secrets.push(renewed.body.token);
  // A change that brings two wrong passwords: both are checked and counted, one line says so.
  const wrongChange = await new HttpClient(kura.baseUrl).request('POST', '/auth/password', {
    json: { currentPassword: wrongPassword, newPassword: 'third wrong passphrase' },
    headers: { authorization: `Bearer ${renewed.body.token}` },
    cookies: false,
  });
  expect(wrongChange.status).toBe(403);
  secrets.push('third wrong passphrase');
  const deleted = await new HttpClient(kura.baseUrl).request('DELETE', '/auth/account', { headers: { authorization: `Bearer ${renewed.body.token}` }, cookies: false });
  expect(deleted.status).toBe(204);
  Object.assign(journey, { phone: phone.id, laptop: laptop.id, tablet: tablet.id, last: last.id, renewed: renewed.body.session.id });
  // A request's line is written once its response has gone: wait for the last one.
  for (let i = 0; i < 50 && !kura.output().includes('"route":"/auth/account"'); i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
}, 60_000);
const journey: Record<string, string> = {};

afterAll(() => kura?.stop());

const lines = () => kura.output().split('\n').filter(Boolean);

describe('logs', () => {
  it('are JSON, one object per line', () => {
    for (const line of lines()) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('record every request once: id, method, route pattern, status and duration', () => {
    const requests = lines().map((line) => JSON.parse(line)).filter((entry) => entry.message?.event === 'request').map((entry) => entry.message);
    expect(requests.map((entry) => `${entry.method} ${entry.route} ${entry.status}`)).toEqual(
      expect.arrayContaining(['POST /auth/register 201', 'POST /auth/login 401', 'POST /auth/login 200', 'GET /auth/me 200', 'PATCH /session/data 200', 'POST /auth/password 200', 'POST /auth/logout 204']),
    );
    for (const entry of requests) {
      expect(entry.requestId).toEqual(expect.any(String));
      expect(entry.durationMs).toEqual(expect.any(Number));
    }
  });

  it('audit every change to the account and its sessions: what, whose, which session, from where, in which request', () => {
    const entries = lines().map((line) => JSON.parse(line));
    const audit = entries.filter((entry) => entry.message?.event === 'audit');
    for (const entry of audit) expect(entry.context).toBe('Audit');
    const events = audit.map((entry) => entry.message);
    expect(events.map((event) => event.action)).toEqual([
      'account.registered',
      'login.failed',
      'login.succeeded',
      'login.succeeded',
      'password.changed',
      'logout',
      'login.failed',
      'login.succeeded',
      'login.succeeded',
      'login.succeeded',
      'sessions.evicted',
      'session.revoked',
      'access.denied',
      'access.denied',
      'sessions.revoked',
      'login.succeeded',
      'password.check-failed',
      'session.reauthenticated',
      'password.check-failed',
      'account.deleted',
    ]);
    const userId = events[0].userId as string;
    expect(userId).toMatch(/^[0-9a-f-]{36}$/);
    for (const event of events) {
      expect(event.userId ?? event.account).toBe(event.account ? 'none' : userId);
      expect(event.ip).toBe('127.0.0.1');
      // The request it happened in, as the access log has it.
      expect(entries.some((entry) => entry.message?.event === 'request' && entry.message.requestId === event.requestId)).toBe(true);
    }
    expect(events[6]).toMatchObject({ action: 'login.failed', account: 'none' });
    expect(events[10]).toMatchObject({ sessionIds: [journey.phone], by: journey.tablet });
    expect(events[11]).toMatchObject({ sessionId: journey.tablet, by: journey.laptop });
    expect(events[12]).toMatchObject({ operation: 'session.revoke', reason: 'no-such-session', sessionId: 'A'.repeat(43), by: journey.laptop });
    expect(events[13]).toMatchObject({ operation: 'session.revoke', reason: 'no-such-session', sessionId: '(malformed)', by: journey.laptop });
    expect(events[14]).toMatchObject({ count: 1, by: journey.laptop });
    expect(events[17]).toMatchObject({ sessionId: journey.renewed, by: journey.last });
    expect(events[16]).not.toHaveProperty('count');
    expect(events[18]).toMatchObject({ action: 'password.check-failed', count: 2 });
    expect(events[19]).toMatchObject({ count: 1, by: journey.renewed });
    // The logout ended the session the password change issued.
    expect(events[5].sessionId).toBe(events[4].sessionId);
  });

  it('contain no password, token or cookie value, and no email', () => {
    const all = kura.output();
    for (const secret of secrets) expect(all).not.toContain(secret);
    expect(all).not.toContain(email);
    expect(all).not.toMatch(/Bearer|cookie/i);
  });

  it('carry the caller’s X-Request-Id when it is well formed, and echo it; anything else is replaced', async () => {
    const traced = await fetch(`${kura.baseUrl}/health/live`, { headers: { 'x-request-id': 'trace-0123456789abcdef' } });
    expect(traced.headers.get('x-request-id')).toBe('trace-0123456789abcdef');
    const forged = await fetch(`${kura.baseUrl}/health/live`, { headers: { 'x-request-id': 'x", "level": "fatal' } });
    expect(forged.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(kura.output()).toContain('"requestId":"trace-0123456789abcdef"');
    expect(kura.output()).not.toContain('"level": "fatal');
  });

  // Fastify answers a URL its router cannot take outside every route, where no hook runs: these answers went out
  // with no X-Request-Id, no Cache-Control (a 414 may be cached by default), no access line and no count, so a
  // client probing with broken URLs left no trace.
  it.each([
    ['a URL that does not decode', 'GET', '/auth/%zz', 400],
    ['a route parameter too long for the router', 'DELETE', `/auth/sessions/${'a'.repeat(200)}`, 414],
  ])('answer and record %s as every other request: id echoed, no-store, an access line, a count', async (_case, method, path, status) => {
    const requestId = `broken-url-${status}-0123456789`;
    const counted = async () => Number(new RegExp(`^kura_http_requests_total\\{method="${method}",route="\\(no route\\)",status="${status}",service="kura"\\} (\\d+)`, 'm').exec(await (await fetch(metricsUrl)).text())?.[1] ?? 0);
    const before = await counted();

    const response = await fetch(`${kura.baseUrl}${path}`, { method, headers: { 'x-request-id': requestId } });

    expect(response.status).toBe(status);
    expect(response.headers.get('x-request-id')).toBe(requestId);
    expect(response.headers.get('cache-control')).toBe('no-store');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const access = lines().map((line) => JSON.parse(line).message).filter((entry) => entry?.event === 'request' && entry.requestId === requestId);
    expect(access).toEqual([expect.objectContaining({ method, route: '(no route)', status })]);
    expect((await counted()) - before).toBe(1);
  });

  // Node's parser answers these before Fastify sees a request, so no hook ran: they left no access line and no count
  // (an operations review, 2026-12-07), and an operator could not tell a flood of oversized headers from nothing.
  it.each([
    ['headers over the 16 KB limit', `GET /auth/me HTTP/1.1\r\nHost: kura\r\nX-Filler: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    ['bytes that are not HTTP', 'HELLO THERE\r\n\r\n', 400],
  ])('answer and record %s, refused by Node before any route: an id, an access line, a count', async (_case, bytes, status) => {
    const method = '(not parsed)';
    const counted = async () => Number(new RegExp(`^kura_http_requests_total\\{method="\\(not parsed\\)",route="\\(not parsed\\)",status="${status}",service="kura"\\} (\\d+)`, 'm').exec(await (await fetch(metricsUrl)).text())?.[1] ?? 0);
    const before = await counted();
    const { hostname, port } = new URL(kura.baseUrl);

    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(bytes));
      let text = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('close', () => resolve(text)).on('error', reject);
    });

    expect(answer).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    const requestId = /\r\nX-Request-Id: ([0-9a-f-]{36})\r\n/i.exec(answer)?.[1];
    expect(requestId).toBeDefined();
    expect(answer).toMatch(/\r\nKura-Instance: \S+\r\n/i);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const access = lines().map((line) => JSON.parse(line).message).filter((entry) => entry?.event === 'request' && entry.requestId === requestId);
    expect(access).toEqual([{ event: 'request', requestId, method, route: '(not parsed)', status }]);
    expect((await counted()) - before).toBe(1);
  });

  it('log the URL pattern, not the URL: a query string never reaches the logs', async () => {
    await fetch(`${kura.baseUrl}/auth/me?token=should-not-be-logged-anywhere`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(kura.output()).not.toContain('should-not-be-logged-anywhere');
  });
});

describe('Prometheus metrics', () => {
  let text: string;
  const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? Number.NaN);

  beforeAll(async () => {
    // An email already taken: the account's conditional insert is refused, an answer (409) and no DynamoDB error.
    const taken = uniqueEmail('taken'); // the journey's account was deleted, its email is free again
    expect((await new HttpClient(kura.baseUrl).post('/auth/register', { email: taken, password })).status).toBe(201);
    expect((await new HttpClient(kura.baseUrl).post('/auth/register', { email: taken, password: 'another secret passphrase' })).status).toBe(409);
    const response = await fetch(metricsUrl);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    text = await response.text();
  });

  it('count requests by route pattern and status, with durations', () => {
    expect(value(/^kura_http_requests_total\{method="GET",route="\/auth\/me",status="200",service="kura"\} (\d+)/m)).toBeGreaterThanOrEqual(2);
    expect(value(/^kura_http_requests_total\{method="POST",route="\/auth\/login",status="401",service="kura"\} (\d+)/m)).toBe(2); // a wrong password, and an email with no account
    expect(value(/^kura_http_request_duration_seconds_count\{[^}]*route="\/auth\/me"[^}]*\} (\d+)/m)).toBeGreaterThanOrEqual(2);
  });

  it('count DynamoDB calls by operation and outcome, and the capacity they consumed', () => {
    expect(value(/^kura_dynamodb_calls_total\{operation="GetItem",outcome="ok",service="kura"\} (\d+)/m)).toBeGreaterThanOrEqual(2);
    // Refused conditions are counted as such, not as errors: this journey had none of those.
    expect(value(/^kura_dynamodb_calls_total\{operation="PutItem",outcome="condition_failed",service="kura"\} (\d+)/m)).toBeGreaterThanOrEqual(1);
    expect(text).not.toMatch(/^kura_dynamodb_calls_total\{[^}]*outcome="error"/m);
    expect(value(/^kura_dynamodb_consumed_capacity_units_total\{operation="GetItem",service="kura"\} ([\d.]+)/m)).toBeGreaterThan(0);
    expect(text).toMatch(/^kura_nodejs_eventloop_lag_seconds/m);
  });

  it('count session events: created, authenticated from the store, revoked, evicted by the limit', () => {
    expect(value(/^kura_session_events_total\{event="created",detail="",service="kura"\} (\d+)/m)).toBeGreaterThanOrEqual(3);
    expect(value(/^kura_session_events_total\{event="authenticated",detail="store",service="kura"\} (\d+)/m)).toBeGreaterThanOrEqual(3);
    expect(value(/^kura_session_events_total\{event="revoked",detail="",service="kura"\} (\d+)/m)).toBeGreaterThanOrEqual(2);
    expect(value(/^kura_session_events_total\{event="evicted",detail="",service="kura"\} (\d+)/m)).toBe(1);
  });

  // Both stores read an ended or expired session as absent, so its token is rejected as `unknown`, as one never
  // issued is. KuraTokenProbing counts those: its runbook said "a token Kura never issued", and its unit test took
  // returning browsers for detail="expired", which a real store never yields.
  it('count the token of a session that ended as unknown, as the token-probing alert and its runbook say', async () => {
    const unknown = async () => Number(/^kura_session_events_total\{event="rejected",detail="unknown",service="kura"\} (\d+)/m.exec(await (await fetch(metricsUrl)).text())?.[1] ?? 0);
    const owner = uniqueEmail('ended');
    expect((await new HttpClient(kura.baseUrl).post('/auth/register', { email: owner, password })).status).toBe(201);
    const token = (await new HttpClient(kura.baseUrl).post('/auth/login', { email: owner, password, transport: 'bearer' })).body.token as string;
    const bearer = { authorization: `Bearer ${token}` };
    expect((await fetch(`${kura.baseUrl}/auth/logout`, { method: 'POST', headers: bearer })).status).toBe(204);
    const before = await unknown();

    expect((await fetch(`${kura.baseUrl}/auth/me`, { headers: bearer })).status).toBe(401);

    expect((await unknown()) - before).toBe(1);
    const rule = readFileSync('infra/k8s/monitoring/prometheus-rule.yaml', 'utf8');
    const runbook = readFileSync('docs/operations.md', 'utf8').split('\n').find((line) => line.startsWith('| **KuraTokenProbing**'));
    expect(rule).toMatch(/sessions that ended \(logged out, revoked, expired\)/);
    expect(runbook).toMatch(/sessions that ended \(logged out, revoked, expired\)/);
  });

  it('are served on their own port only, not next to the API', async () => {
    expect((await fetch(`${kura.baseUrl}/metrics`)).status).toBe(404);
  });
});
