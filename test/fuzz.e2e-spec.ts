import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { freshTables, kuraEnv } from './support/engine.js';
import { HttpClient, uniqueEmail } from './support/http-client.js';
import { startKuraInProcess } from './support/kura-app.js';

/**
 * Property-based tests over real HTTP (fast-check): cookies, the Authorization header, tokens near a real one,
 * JSON bodies, merge patches, paths and query strings. Whatever comes in: no 5xx, no session accepted that the
 * server did not issue, and no token (or cookie value) reflected in a response. FUZZ_RUNS sets the cases per
 * property (`npm run fuzz` runs 5000; `npm test` a few hundred).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const params = { numRuns: RUNS, seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined };

let app: NestFastifyApplication;
let baseUrl: string;
let token: string;
let cookieName: string;
let owner: HttpClient;

beforeAll(async () => {
  const tables = await freshTables();
  // Failed logins are part of the input here: the per-client limit would turn them into 429s, which is right
  // but would hide what the rest of the login path does with the input.
  ({ app, baseUrl } = await startKuraInProcess(kuraEnv(tables, undefined, { KURA_LOGIN_MAX_FAILURES_PER_CLIENT: '10000', KURA_LOGIN_MAX_FAILURES_PER_ACCOUNT: '10000' })));
  owner = new HttpClient(baseUrl);
  const email = uniqueEmail('owner');
  await owner.signUpAndLogIn(email);
  // From a client without the cookie: a login ends the session a client comes with.
  const bearer = await new HttpClient(baseUrl).post('/auth/login', { email, password: 'correct horse battery', transport: 'bearer' });
  token = bearer.body.token;
  cookieName = (await owner.jar.getCookies(baseUrl))[0]!.key;
}, 60_000);
afterAll(() => app?.close());

/** Header-safe text: what an HTTP client can put in a header value (visible ASCII and spaces). */
const headerText = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength: 300 });
const tokenLike = fc.oneof(
  fc.base64String({ minLength: 40, maxLength: 48 }).map((text) => text.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')),
  fc.stringMatching(/^[A-Za-z0-9_-]{43}$/),
  headerText,
);

async function send(path: string, init: RequestInit = {}) {
  const response = await fetch(`${baseUrl}${path.startsWith('/') ? '' : '/'}${path}`, init);
  return { status: response.status, text: await response.text() };
}

function expectSafe(result: { status: number; text: string }, secret?: string) {
  expect(result.status).toBeLessThan(500);
  if (secret && secret.trim().length >= 8) expect(result.text).not.toContain(secret);
}

describe('credentials the server did not issue', () => {
  it('Authorization header: never accepted, never 5xx, never reflected', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(tokenLike.map((value) => `Bearer ${value}`), headerText), async (authorization) => {
        const result = await send('/auth/me', { headers: { authorization } });
        expect([400, 401]).toContain(result.status);
        expectSafe(result, authorization.replace(/^Bearer /, ''));
      }),
      params,
    );
  });

  it('session cookie: never accepted, never 5xx, never reflected', async () => {
    await fc.assert(
      fc.asyncProperty(tokenLike, fc.option(headerText), async (value, extra) => {
        const cookie = `${cookieName}=${value}${extra === null ? '' : `; ${extra}`}`;
        const result = await send('/auth/me', { headers: { cookie } });
        expect([400, 401]).toContain(result.status);
        expectSafe(result, value);
      }),
      params,
    );
  });

  it('a real token changed anywhere (one character, cut, extended) is refused', async () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const mutated = fc.oneof(
      fc.tuple(fc.nat({ max: token.length - 1 }), fc.constantFrom(...alphabet)).map(([at, char]) => token.slice(0, at) + char + token.slice(at + 1)),
      fc.nat({ max: token.length - 1 }).map((length) => token.slice(0, length)),
      fc.string({ unit: fc.constantFrom(...alphabet), minLength: 1, maxLength: 8 }).map((suffix) => token + suffix),
      fc.constant(token.toUpperCase()),
    ).filter((candidate) => candidate !== token);
    await fc.assert(
      fc.asyncProperty(mutated, async (candidate) => {
        const result = await send('/auth/me', { headers: { authorization: `Bearer ${candidate}` } });
        expect(result.status).toBe(401);
        expectSafe(result, candidate);
      }),
      params,
    );
    // ...while the real one still works (the property could not pass by refusing everything).
    expect((await send('/auth/me', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });
});

describe('bodies', () => {
  const json = fc.oneof(fc.jsonValue(), fc.record({ email: fc.oneof(fc.emailAddress(), fc.string()), password: fc.string({ maxLength: 200 }), transport: fc.oneof(fc.constant('bearer'), fc.string()) }, { requiredKeys: [] }));

  it.each(['/auth/login', '/auth/register'])('POST %s with any JSON: a 2xx or a clear 4xx, never 5xx', async (path) => {
    await fc.assert(
      fc.asyncProperty(json, async (body) => {
        const result = await send(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        expect([200, 201, 400, 401, 409, 413, 422, 429]).toContain(result.status);
        expectSafe(result);
      }),
      { ...params, numRuns: Math.ceil(RUNS / 2) },
    );
  });

  it('POST /auth/login with bytes that are not JSON: 400 or 415, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 500 }), fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/merge-patch+json'), async (body, type) => {
        const result = await send('/auth/login', { method: 'POST', headers: { 'content-type': type }, body });
        expect(result.status).toBeGreaterThanOrEqual(400);
        expectSafe(result);
      }),
      params,
    );
  });

  // 16 KB (KURA_BODY_LIMIT) holds thousands of levels: deeper than a recursive walk of the body can go.
  it.each([
    ['POST', '/auth/register'],
    ['POST', '/auth/login'],
    ['POST', '/auth/reauthenticate'],
    ['POST', '/auth/password'],
    ['PATCH', '/session/data'],
  ])('%s %s with a body nested thousands of levels deep: 400, never 5xx', async (method, path) => {
    const cookie = await owner.jar.getCookieString(baseUrl);
    const bodies = [
      `{"password":${'['.repeat(5000)}${']'.repeat(5000)}}`,
      `{"email":"a@example.com","extra":${'{"a":'.repeat(2500)}1${'}'.repeat(2500)}}`,
      `{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`,
    ];
    for (const body of bodies) {
      const result = await send(path, { method, headers: { cookie, 'content-type': 'application/json' }, body });
      expect(result.status).toBe(400);
    }
    expect((await owner.get('/auth/me')).status).toBe(200);
  });

  it('merge patches of any shape: applied or refused with a 4xx, never 5xx, the document always an object without prototype keys', async () => {
    const cookie = await owner.jar.getCookieString(baseUrl);
    await fc.assert(
      fc.asyncProperty(fc.oneof(
        fc.jsonValue({ maxDepth: 4 }),
        fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'prototype')), fc.jsonValue({ maxDepth: 3 })),
        // Classic prototype-pollution payloads, nested, as raw JSON text (so "__proto__" stays a key).
        fc.constantFrom(
          JSON.parse('{"__proto__":{"polluted":"yes"}}'),
          JSON.parse('{"a":{"__proto__":{"polluted":"yes"}}}'),
          JSON.parse('{"constructor":{"prototype":{"polluted":"yes"}}}'),
          JSON.parse('{"a":{"constructor":{"prototype":{"polluted":"yes"}}}}'),
        ),
      ), async (patch) => {
        const result = await send('/session/data', { method: 'PATCH', headers: { cookie, 'content-type': 'application/merge-patch+json' }, body: JSON.stringify(patch) });
        expect([200, 400, 412, 413, 415]).toContain(result.status);
        expectSafe(result, cookie.split('=')[1]);
      }),
      { ...params, numRuns: Math.ceil(RUNS / 2) },
    );
    // Kura runs in this very process: no patch may have reached Object.prototype.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const data = await owner.get('/session/data');
    expect(data.status).toBe(200);
    expect(typeof data.body.data).toBe('object');
    expect(Object.getPrototypeOf(data.body.data)).toBe(Object.prototype);
    // Keys, at any depth (a value may well be the string "__proto__"): JSON.parse keeps such keys as own keys.
    const keysOf = (value: unknown): string[] =>
      value !== null && typeof value === 'object' ? Object.entries(value).flatMap(([key, child]) => [key, ...keysOf(child)]) : [];
    const keys = keysOf(data.body.data);
    for (const forbidden of ['__proto__', 'constructor', 'prototype']) expect(keys).not.toContain(forbidden);
  });
});

describe('paths and query strings', () => {
  it('any path and query: no 5xx, and no session without credentials', async () => {
    await fc.assert(
      fc.asyncProperty(fc.webPath(), fc.webQueryParameters(), fc.constantFrom('GET', 'POST', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'), async (path, query, method) => {
        const target = `${path.startsWith('/') ? path : `/${path}`}${query ? `?${query}` : ''}`;
        const result = await send(target, { method, headers: method === 'GET' || method === 'HEAD' ? {} : { 'content-type': 'application/json' }, ...(method === 'GET' || method === 'HEAD' ? {} : { body: '{}' }) });
        expect(result.status).toBeLessThan(500);
        if (/^\/auth\/(me|sessions)\b/.test(target)) expect(result.status).not.toBe(200);
      }),
      params,
    );
  });
});
