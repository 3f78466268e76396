import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freshTables, kuraEnv } from './support/engine.js';
import { HttpClient, uniqueEmail } from './support/http-client.js';
import { startKuraInProcess } from './support/kura-app.js';

/**
 * OWASP ASVS 5.0 requirements that the other suites do not already pin (SECURITY.md maps every requirement of
 * V7 and the cookie part of V3 to its test). Over real HTTP, from outside, as a tester would.
 */
let app: NestFastifyApplication;
let baseUrl: string;
const email = uniqueEmail('asvs');
const password = 'correct horse battery';

beforeAll(async () => {
  const tables = await freshTables();
  ({ app, baseUrl } = await startKuraInProcess(kuraEnv(tables)));
  await new HttpClient(baseUrl).post('/auth/register', { email, password });
}, 60_000);
afterAll(() => app?.close());

const login = async () => (await new HttpClient(baseUrl).post('/auth/login', { email, password, transport: 'bearer' })).body.token as string;

describe('V7.2.3: reference tokens are unique, from a CSPRNG, with at least 128 bits of entropy', () => {
  const SAMPLES = 400;
  let tokens: string[];

  beforeAll(async () => {
    tokens = [];
    for (let i = 0; i < SAMPLES; i += 1) tokens.push(await login());
  }, 120_000);

  it('issues a different token on every one of 400 logins, each 256 bits (43 base64url characters)', () => {
    expect(new Set(tokens).size).toBe(SAMPLES);
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('looks uniformly random: every bit position is set in about half of the tokens, no shared prefixes', () => {
    const bits = tokens.map((token) => Buffer.from(token, 'base64url'));
    expect(bits.every((bytes) => bytes.length === 32)).toBe(true);
    // For 400 fair coin flips the count of ones is 200 +- 10 (1 sd); 5.5 sd either side fails a broken source
    // (constant, counter, low-entropy) and a good one in fewer than 1 run in 10^6 per position.
    for (let bit = 0; bit < 256; bit += 1) {
      const ones = bits.filter((bytes) => (bytes[bit >> 3]! >> (bit & 7)) & 1).length;
      expect(Math.abs(ones - SAMPLES / 2)).toBeLessThan(55);
    }
    const prefixes = new Set(tokens.map((token) => token.slice(0, 6)));
    expect(prefixes.size).toBe(SAMPLES);
  });
});

describe('session tokens never travel in URLs (cheat sheet: "Session ID exchange")', () => {
  it.each(['token', 'session', 'access_token', '__Host-kura_session', 'kura_session'])(
    'a valid token in the query parameter %s authenticates nothing',
    async (name) => {
      const token = await login();
      const response = await new HttpClient(baseUrl).get(`/auth/me?${name}=${token}`);
      expect(response.status).toBe(401);
      expect(response.text).not.toContain(token);
    },
  );

  it('no response carries a Location or body that contains the token', async () => {
    const client = new HttpClient(baseUrl);
    const loginResponse = await client.post('/auth/login', { email, password });
    const cookie = (await client.jar.getCookies(baseUrl))[0]!.value;
    for (const path of ['/auth/me', '/auth/sessions', '/session/data']) {
      const response = await client.get(path);
      expect(response.headers.get('location')).toBeNull();
      expect(response.text).not.toContain(cookie);
    }
    expect(loginResponse.text).not.toContain(cookie);
  });
});

describe('V7.4.4: logout is reachable from every authenticated operation', () => {
  it('every operation that needs a session is documented next to POST /auth/logout, with the same schemes', async () => {
    const document = (await new HttpClient(baseUrl).get('/docs/openapi.json')).body;
    const secured = Object.entries<Record<string, { security?: unknown[] }>>(document.paths).flatMap(([path, operations]) =>
      Object.entries(operations).filter(([, operation]) => operation.security?.length).map(([method]) => `${method} ${path}`),
    );
    expect(secured).toContain('post /auth/logout');
    expect(secured.length).toBeGreaterThan(3);
  });
});

describe('V7.5.2: ending other sessions needs the password proved again, recently', () => {
  let strict: NestFastifyApplication;
  let url: string;
  const who = uniqueEmail('reauth');
  const elapse = () => new Promise((resolve) => setTimeout(resolve, 1_100)); // past the 1 s window

  beforeAll(async () => {
    ({ app: strict, baseUrl: url } = await startKuraInProcess(
      kuraEnv(await freshTables(), undefined, { KURA_REAUTH_WINDOW: '1', KURA_LOGIN_MAX_FAILURES_PER_ACCOUNT: '3' }),
    ));
    await new HttpClient(url).post('/auth/register', { email: who, password });
  });
  afterAll(() => strict?.close());

  it('lets a fresh login end the other sessions, refuses it once the window has passed, and again after a confirmation', async () => {
    const phone = new HttpClient(url);
    await phone.post('/auth/login', { email: who, password });
    const laptop = new HttpClient(url);
    await laptop.post('/auth/login', { email: who, password });

    await elapse();
    const refused = await laptop.post('/auth/logout-all');
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ type: 'urn:kura:problem:reauthentication-required' });
    expect((await phone.get('/auth/me')).status).toBe(200); // nothing ended

    const wrong = await laptop.post('/auth/reauthenticate', { password: 'not the password' });
    expect(wrong.status).toBe(403);
    expect(wrong.body).toMatchObject({ type: 'urn:kura:problem:reauthentication-failed' });
    expect((await laptop.post('/auth/logout-all')).status).toBe(403);

    const before = await laptop.jar.getCookieString(url);
    const confirmed = await laptop.post('/auth/reauthenticate', { password });
    expect(confirmed.status).toBe(200);
    // A new session replaces the confirmed one (ASVS 7.2.4): the old cookie no longer works.
    expect(await laptop.jar.getCookieString(url)).not.toBe(before);
    expect((await fetch(`${url}/auth/me`, { headers: { cookie: before } })).status).toBe(401);
    const ended = await laptop.post('/auth/logout-all');
    expect(ended.status).toBe(200);
    expect((await phone.get('/auth/me')).status).toBe(401);
  });

  it('applies to ending one other session, not to ending this one (that is a logout)', async () => {
    const phone = new HttpClient(url);
    await phone.post('/auth/login', { email: who, password });
    const laptop = new HttpClient(url);
    await laptop.post('/auth/login', { email: who, password });
    const sessions = (await laptop.get('/auth/sessions')).body.sessions as { id: string; current: boolean }[];
    const own = sessions.find((session) => session.current)!.id;
    const other = (await phone.get('/auth/sessions')).body.sessions.find((session: { current: boolean }) => session.current).id as string;

    await elapse();
    expect((await laptop.request('DELETE', `/auth/sessions/${other}`)).status).toBe(403);
    expect((await phone.get('/auth/me')).status).toBe(200);
    expect((await laptop.request('DELETE', `/auth/sessions/${own}`)).status).toBe(204);
    expect((await laptop.get('/auth/me')).status).toBe(401);
  });

  it('counts wrong confirmations like failed logins: a stolen session cannot guess the password', async () => {
    const thief = new HttpClient(url);
    const target = uniqueEmail('guessed');
    await thief.post('/auth/register', { email: target, password });
    await thief.post('/auth/login', { email: target, password });
    for (let i = 0; i < 3; i += 1) expect((await thief.post('/auth/reauthenticate', { password: `guess ${i}` })).status).toBe(403);
    const limited = await thief.post('/auth/reauthenticate', { password });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});
