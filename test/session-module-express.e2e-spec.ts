import 'reflect-metadata';
import {
  Body,
  Controller,
  Get,
  HttpCode,
  type INestApplication,
  Module,
  Post,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { createDynamoDbClients, DynamoDbSessionStore, type KuraTableNames } from '@kura/dynamodb';
import {
  type AuthenticatedSession,
  CACHE_HEADER,
  CacheableSession,
  CrossSiteRequestGuard,
  CurrentSession,
  ResponseCookies,
  type ResponseCookieJar,
  SessionGuard,
  SessionModule,
  type SessionModuleOptions,
  SessionErrorFilter,
  SessionService,
  SessionTransport,
  type TokenSource,
} from '@kura/session';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { freshTables, LOCAL_CREDENTIALS, testEndpoint } from './support/engine.js';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy.js';
import { HttpClient } from './support/http-client.js';

/**
 * SessionModule in a small Nest app that is not Kura's: no accounts library, no cookie plugin, on
 * @nestjs/platform-express and on @nestjs/platform-fastify, with the same routes and the same assertions,
 * over real HTTP, sessions in DynamoDB Local. The app decides who the user is (here: whoever the body names).
 */
const IDLE_SECONDS = 600;
const ABSOLUTE_SECONDS = 3600;

@Controller()
class DemoController {
  constructor(
    private readonly sessions: SessionService,
    private readonly transport: SessionTransport,
  ) {}

  @Post('login')
  @HttpCode(200)
  async login(
    @Body() body: { user: string; transport?: 'bearer' },
    @Req() request: TokenSource,
    @ResponseCookies() cookies: ResponseCookieJar,
  ) {
    // Who the user is, the app decides: here an id and a display name, no email.
    const user = { id: `demo:${body.user}`, name: body.user };
    const { token, record } = await this.sessions.create(user, {}, { replaces: this.transport.read(request).token });
    if (body.transport === 'bearer') return { user: body.user, token };
    cookies.set(this.transport.cookieFor(token, record));
    return { user: body.user };
  }

  @Get('me')
  @UseGuards(SessionGuard)
  @CacheableSession()
  me(@CurrentSession() session: AuthenticatedSession) {
    return { user: session.record.user.name };
  }

  /** A login that also sets a cookie of the app's own, through the platform's API, before Kura's cookie. */
  @Post('login-with-theme')
  @HttpCode(200)
  async loginWithTheme(
    @Body() body: { user: string },
    @Res({ passthrough: true }) response: PlatformResponse,
    @ResponseCookies() cookies: ResponseCookieJar,
  ) {
    appendAppCookie(response, 'theme=dark; Path=/');
    const { token, record } = await this.sessions.create({ id: `demo:${body.user}`, name: body.user }, {});
    cookies.set(this.transport.cookieFor(token, record));
    appendAppCookie(response, 'seen=1; Path=/');
    return { user: body.user };
  }

  /** A guarded route whose handler sets a cookie of the app's own after the guard set the cache's. */
  @Get('me-with-theme')
  @UseGuards(SessionGuard)
  @CacheableSession()
  meWithTheme(@CurrentSession() session: AuthenticatedSession, @Res({ passthrough: true }) response: PlatformResponse) {
    appendAppCookie(response, 'theme=light; Path=/');
    return { user: session.record.user.name };
  }

  @Post('logout')
  @HttpCode(204)
  async logout(@Req() request: TokenSource, @ResponseCookies() cookies: ResponseCookieJar): Promise<void> {
    const { token } = this.transport.read(request);
    if (token) await this.sessions.revoke(token);
    cookies.set(...this.transport.expiredCookies());
  }
}

/** Express's response or Fastify's reply, as `@Res()` hands it over. */
type PlatformResponse = { cookie(name: string, value: string, options: object): void } | { header(name: string, value: string): void; raw: object };

/**
 * Adds a cookie as an app on each platform does: Express's `res.cookie`, or Fastify's `reply.header('set-cookie',
 * ...)`, which Fastify documents as adding to the cookies already set (as @fastify/cookie does).
 */
function appendAppCookie(response: PlatformResponse, cookie: string): void {
  if ('raw' in response) {
    response.header('set-cookie', cookie);
  } else {
    const [pair] = cookie.split(';');
    const [name, value] = pair!.split('=');
    response.cookie(name!, value!, { path: '/' });
  }
}

type Platform = 'express' | 'fastify';

interface Instance {
  readonly url: string;
  /** What the app logged as warnings (its logger prints nothing). */
  readonly warnings: string[];
  close(): Promise<void>;
}

async function startInstance(
  platform: Platform,
  tables: KuraTableNames,
  endpoint = testEndpoint(),
  extra: Partial<SessionModuleOptions> = {},
): Promise<Instance> {
  const { client, documents } = createDynamoDbClients({
    endpoint,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
    timeoutMs: 2000,
    maxAttempts: 1,
  });
  @Module({
    imports: [
      SessionModule.forRoot({
        store: new DynamoDbSessionStore(documents, { tableName: tables.sessions }),
        idleTimeoutSeconds: IDLE_SECONDS,
        absoluteTimeoutSeconds: ABSOLUTE_SECONDS,
        // Short, so a test can see a request extend the session after a second.
        refreshIntervalSeconds: 1,
        ...extra,
      }),
    ],
    controllers: [DemoController],
    providers: [
      { provide: APP_FILTER, useClass: SessionErrorFilter },
      // CSRF defence for cookie sessions on every route; it reads Fastify's and Express's request alike.
      { provide: APP_GUARD, useClass: CrossSiteRequestGuard },
    ],
  })
  class DemoModule {}

  const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter();
  const warnings: string[] = [];
  const quiet = () => undefined;
  const logger = { log: quiet, error: quiet, debug: quiet, verbose: quiet, fatal: quiet, warn: (message: unknown) => void warnings.push(String(message)) };
  const app: INestApplication = await NestFactory.create(DemoModule, adapter, { logger });
  await app.listen(0, '127.0.0.1');
  const server = app.getHttpServer() as import('node:http').Server;
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    warnings,
    close: async () => {
      server.closeAllConnections();
      await app.close();
      client.destroy();
    },
  };
}

const SESSION_COOKIE = /^__Host-kura_session=([\w-]{43}); Max-Age=(\d+); Path=\/; HttpOnly; Secure; SameSite=Lax$/;
const CLEARED_COOKIE = '__Host-kura_session=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax';

/** A browser: one cookie jar for every instance, which share the host and differ only in port. */
const browser = () => new HttpClient('http://127.0.0.1/');

let tables: KuraTableNames;
beforeAll(async () => {
  tables = await freshTables();
});

describe.each<Platform>(['express', 'fastify'])('SessionModule on @nestjs/platform-%s', (platform) => {
  let first: Instance;
  let second: Instance;
  beforeAll(async () => {
    [first, second] = await Promise.all([startInstance(platform, tables), startInstance(platform, tables)]);
  });
  afterAll(async () => {
    await Promise.all([first?.close(), second?.close()]);
  });

  it("sets an HttpOnly, Secure, SameSite=Lax, Path=/ host-only cookie that lives until the session's absolute expiry, in seconds", async () => {
    const user = browser();

    const login = await user.post(`${first.url}/login`, { user: 'ada' });

    expect(login.status).toBe(200);
    expect(login.body).toEqual({ user: 'ada' });
    const [setCookie, ...others] = login.headers.getSetCookie();
    expect(others).toEqual([]);
    expect(setCookie).toMatch(SESSION_COOKIE);
    const maxAge = Number(SESSION_COOKIE.exec(setCookie!)![2]);
    expect(maxAge).toBeGreaterThan(ABSOLUTE_SECONDS - 10);
    expect(maxAge).toBeLessThanOrEqual(ABSOLUTE_SECONDS);
    expect(login.headers.get('cache-control')).toBe('no-store');
  });

  it('answers /me with the cookie, and marks the answer no-store', async () => {
    const user = browser();
    await user.post(`${first.url}/login`, { user: 'ada' });

    const me = await user.get(`${first.url}/me`);

    expect(me.status).toBe(200);
    expect(me.body).toEqual({ user: 'ada' });
    expect(me.headers.get('cache-control')).toBe('no-store');
  });

  it('sets no cookie when a request extends the idle expiry', async () => {
    // A cookie renewed on extension, answered after a login in the same browser that ended its session, put the
    // ended session's cookie back over the new one (test/review-defects).
    const user = browser();
    await user.post(`${first.url}/login`, { user: 'ada' });
    await new Promise((resolve) => setTimeout(resolve, 1100));

    const me = await user.get(`${first.url}/me`);

    expect(me.status).toBe(200);
    expect(me.headers.getSetCookie()).toEqual([]);
    expect((await user.get(`${first.url}/me`)).body).toEqual({ user: 'ada' });
  });

  it("keeps the session cookie beside the app's own cookies, set before and after it through the platform's API", async () => {
    const user = browser();

    const login = await user.post(`${first.url}/login-with-theme`, { user: 'ada' });

    expect(login.status).toBe(200);
    const cookies = login.headers.getSetCookie();
    expect(cookies).toHaveLength(3);
    expect(cookies).toEqual(expect.arrayContaining([expect.stringMatching(SESSION_COOKIE), 'theme=dark; Path=/', 'seen=1; Path=/']));
    expect((await user.get(`${first.url}/me`)).status).toBe(200);
  });

  it('answers /me with a bearer token, and sets no cookie for it', async () => {
    const login = await browser().post(`${first.url}/login`, { user: 'grace', transport: 'bearer' });
    expect(login.headers.getSetCookie()).toEqual([]);

    const me = await browser().get(`${first.url}/me`, { headers: { authorization: `Bearer ${login.body.token}` } });

    expect(me.status).toBe(200);
    expect(me.body).toEqual({ user: 'grace' });
  });

  it('refuses /me without a session with 401 and WWW-Authenticate: Bearer', async () => {
    const me = await browser().get(`${first.url}/me`);

    expect(me.status).toBe(401);
    expect(me.headers.get('www-authenticate')).toBe('Bearer');
    // @kura/session's SessionErrorFilter: an RFC 9457 problem document.
    expect(me.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(me.body).toEqual({ type: 'urn:kura:problem:session-required', title: 'Unauthorized', status: 401, detail: 'A valid session is required.' });
  });

  it('ends the session on logout, clears the cookie, and refuses the old token after', async () => {
    const user = browser();
    await user.post(`${first.url}/login`, { user: 'ada' });
    const token = await cookieValue(user, first.url);

    const logout = await user.post(`${first.url}/logout`);

    expect(logout.status).toBe(204);
    expect(logout.headers.getSetCookie()).toEqual([CLEARED_COOKIE]);
    expect((await user.get(`${first.url}/me`)).status).toBe(401);
    const replayed = await browser().get(`${first.url}/me`, { headers: { cookie: `__Host-kura_session=${token}` } });
    expect(replayed.status).toBe(401);
  });

  it('refuses a cookie logout from another site with 403 and keeps the session; its own origin may', async () => {
    const user = browser();
    await user.post(`${first.url}/login`, { user: 'ada' });

    const forged = await user.post(`${first.url}/logout`, undefined, { headers: { origin: 'https://evil.example' } });
    expect(forged.status).toBe(403);
    expect((await user.get(`${first.url}/me`)).status).toBe(200);

    const own = await user.post(`${first.url}/logout`, undefined, { headers: { origin: first.url, 'sec-fetch-site': 'same-origin' } });
    expect(own.status).toBe(204);
  });

  it('ends a bearer session on logout', async () => {
    const login = await browser().post(`${first.url}/login`, { user: 'grace', transport: 'bearer' });
    const authorization = `Bearer ${login.body.token}`;

    expect((await browser().post(`${first.url}/logout`, undefined, { headers: { authorization } })).status).toBe(204);

    expect((await browser().get(`${first.url}/me`, { headers: { authorization } })).status).toBe(401);
  });

  it('shares sessions between two instances: login on one, /me and logout on the other, 401 on the first', async () => {
    const user = browser();
    await user.post(`${first.url}/login`, { user: 'ada' });

    const elsewhere = await user.get(`${second.url}/me`);
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.body).toEqual({ user: 'ada' });
    const token = await cookieValue(user, first.url);

    expect((await user.post(`${second.url}/logout`)).status).toBe(204);

    const back = await browser().get(`${first.url}/me`, { headers: { cookie: `__Host-kura_session=${token}` } });
    expect(back.status).toBe(401);
  });
});

describe('one session store, two platforms', () => {
  let express: Instance;
  let fastify: Instance;
  beforeAll(async () => {
    [express, fastify] = await Promise.all([startInstance('express', tables), startInstance('fastify', tables)]);
  });
  afterAll(async () => {
    await Promise.all([express?.close(), fastify?.close()]);
  });

  it.each([
    ['express', 'fastify'],
    ['fastify', 'express'],
  ] as const)('takes a login on %s on %s, and a logout there ends it on both', async (from, to) => {
    const [one, other] = from === 'express' ? [express, fastify] : [fastify, express];
    const user = browser();
    await user.post(`${one.url}/login`, { user: `ada-${to}` });
    const token = await cookieValue(user, one.url);

    expect((await user.get(`${other.url}/me`)).body).toEqual({ user: `ada-${to}` });
    expect((await user.post(`${other.url}/logout`)).status).toBe(204);

    const back = await browser().get(`${one.url}/me`, { headers: { cookie: `__Host-kura_session=${token}` } });
    expect(back.status).toBe(401);
  });
});

describe.each<Platform>(['express', 'fastify'])('the signed session cache on @nestjs/platform-%s', (platform) => {
  const CACHE_SECONDS = 5;
  let instance: Instance;
  beforeAll(async () => {
    const cache = { ttlSeconds: CACHE_SECONDS, keys: [{ kid: 'k1', secret: randomBytes(32) }] };
    instance = await startInstance(platform, tables, testEndpoint(), { cache });
  });
  afterAll(async () => {
    await instance?.close();
  });

  it('hands a cookie client the cache in a second cookie with the same attributes, as long-lived as the cache', async () => {
    const user = browser();
    await user.post(`${instance.url}/login`, { user: 'ada' });

    const me = await user.get(`${instance.url}/me`);

    expect(me.status).toBe(200);
    const cache = me.headers.getSetCookie().find((cookie) => cookie.startsWith('__Host-kura_session_cache='));
    expect(cache).toMatch(/^__Host-kura_session_cache=[\w.-]+; Max-Age=[1-5]; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    expect((await user.get(`${instance.url}/me`)).body).toEqual({ user: 'ada' });
  });

  it("keeps the guard's cache cookie beside a cookie the handler sets after it", async () => {
    const user = browser();
    await user.post(`${instance.url}/login`, { user: 'ada' });

    const me = await user.get(`${instance.url}/me-with-theme`);

    expect(me.status).toBe(200);
    const cookies = me.headers.getSetCookie();
    expect(cookies).toHaveLength(2);
    expect(cookies).toEqual(expect.arrayContaining([expect.stringMatching(/^__Host-kura_session_cache=[\w.-]+; /), 'theme=light; Path=/']));
    expect(me.headers.get('cache-control')).toBe('no-store');
  });

  it('hands a bearer client the cache in a header, not a cookie', async () => {
    const login = await browser().post(`${instance.url}/login`, { user: 'grace', transport: 'bearer' });

    const me = await browser().get(`${instance.url}/me`, { headers: { authorization: `Bearer ${login.body.token}` } });

    expect(me.status).toBe(200);
    expect(me.headers.get(CACHE_HEADER)).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(me.headers.getSetCookie()).toEqual([]);
  });

  it('clears both cookies on logout', async () => {
    const user = browser();
    await user.post(`${instance.url}/login`, { user: 'ada' });

    const logout = await user.post(`${instance.url}/logout`);

    expect(logout.headers.getSetCookie()).toEqual([CLEARED_COOKIE, CLEARED_COOKIE.replace('__Host-kura_session=', '__Host-kura_session_cache=')]);
  });
});

describe.each<Platform>(['express', 'fastify'])('a store outage on @nestjs/platform-%s', (platform) => {
  let proxy: FaultProxy;
  let instance: Instance;
  beforeAll(async () => {
    proxy = await startFaultProxy(testEndpoint());
    instance = await startInstance(platform, tables, proxy.endpoint);
  });
  afterAll(async () => {
    await instance?.close();
    await proxy?.close();
  });
  afterEach(() => proxy.set('pass'));

  it('is answered 503 with Retry-After by the app filter, on /me and on login', async () => {
    const user = browser();
    await user.post(`${instance.url}/login`, { user: 'ada' });
    proxy.set('reset');
    const logged = instance.warnings.length;

    const me = await user.get(`${instance.url}/me`);
    const login = await browser().post(`${instance.url}/login`, { user: 'lin' });

    for (const answer of [me, login]) {
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
      expect(answer.body).toMatchObject({ type: 'urn:kura:problem:store-unavailable', status: 503 });
    }
    expect(login.headers.getSetCookie()).toEqual([]);
    // The outage shows in the app's log, with the store's reason, once per refused request.
    const warnings = instance.warnings.slice(logged);
    expect(warnings).toHaveLength(2);
    for (const warning of warnings) expect(warning).toMatch(/^503: session\.\w+ failed: .+/);
  });

  it('serves the session again once the store is back', async () => {
    const user = browser();
    await user.post(`${instance.url}/login`, { user: 'ada' });
    proxy.set('reset');
    expect((await user.get(`${instance.url}/me`)).status).toBe(503);

    proxy.set('pass');

    expect((await user.get(`${instance.url}/me`)).status).toBe(200);
  });
});

// An app's own stores speak in this app's terms: before 2026-12-05 a stranger's log said "run npm run db:init" (a
// script of Kura's repository) for a missing table and "KURA_DYNAMODB_TIMEOUT_MS" (Kura's service's variable) for a
// timeout, neither of which the app has.
describe.each<Platform>(['express', 'fastify'])('a sessions table the app has not created, on @nestjs/platform-%s', (platform) => {
  it("is answered 503, and the app's log says how this app creates it, not how Kura's own service does", async () => {
    const instance = await startInstance(platform, { ...tables, sessions: `missing-${randomBytes(4).toString('hex')}` });
    try {
      const login = await browser().post(`${instance.url}/login`, { user: 'ada' });

      expect(login.status).toBe(503);
      expect(instance.warnings).toEqual([expect.stringMatching(/^503: session\.insert failed: table missing-[0-9a-f]{8} does not exist: create it with ensureKuraTables\(\) \(@kura\/dynamodb\)/)]);
      expect(instance.warnings.join('\n')).not.toMatch(/KURA_|npm run/);
    } finally {
      await instance.close();
    }
  });
});

/** The session token the browser holds (its cookie jar keeps it for the host, whatever the port). */
async function cookieValue(user: HttpClient, url: string): Promise<string> {
  const cookies = await user.jar.getCookies(url);
  const session = cookies.find((cookie) => cookie.key === '__Host-kura_session');
  if (!session) throw new Error('no session cookie in the jar');
  return session.value;
}
