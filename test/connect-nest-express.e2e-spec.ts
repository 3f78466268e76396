import 'reflect-metadata';
import { jest } from '@jest/globals';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { type ArgumentsHost, Body, Catch, Controller, type ExceptionFilter, Get, HttpCode, type INestApplication, Module, Post, Req } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { CredentialReplacedError, KuraStore, SessionTooLargeError, StoreUnavailableError } from '@kura/connect';
import { connectRedis, type RedisConnection, RedisConnectSessionStore } from '@kura/redis';
import type { Request } from 'express';
import session from 'express-session';
import type { FastifyRequest } from 'fastify';
import { type RedisServer, redisRunsPossible, startRedisServer } from './support/redis-server.js';

/**
 * KuraStore in a NestJS app, on Express (express-session, set up as NestJS's own docs do: `app.use(session(...))`)
 * and on Fastify (@fastify/session, registered on Nest's Fastify instance). Nest's exception handler answers any
 * error it does not know with a 500, whatever its `statusCode`, on Express with the cookie of a session never stored;
 * on Fastify it also takes the errors of @fastify/session's own hooks (a session read), where a Fastify error handler
 * of the app's overrides Nest's (FSTWRN004) and is not called (a newcomer's review: 500s on Nest with Fastify). The
 * exception filter of libs/connect/README.md ("Turning an outage into a 503", NestJS) makes each a 503 with
 * Retry-After and no cookie, on either platform. The filter below is the README's, as written there.
 */
@Catch(StoreUnavailableError, SessionTooLargeError, CredentialReplacedError)
class SessionStoreErrorFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: StoreUnavailableError | SessionTooLargeError | CredentialReplacedError, host: ArgumentsHost) {
    const { httpAdapter } = this.adapterHost;
    const request = host.switchToHttp().getRequest<{ session: unknown }>(); // by shape: Express's or Fastify's
    const response = host.switchToHttp().getResponse<unknown>();
    if (error instanceof StoreUnavailableError) console.warn(`session store: ${error.reason}`); // why, in one line
    if (httpAdapter.isHeadersSent(response)) return;
    request.session = null; // no cookie for a session never stored, and no save at the end
    if (error instanceof SessionTooLargeError) return httpAdapter.reply(response, { title: 'Content Too Large' }, 413);
    if (error instanceof CredentialReplacedError) return httpAdapter.reply(response, { title: 'Unauthorized' }, 401);
    httpAdapter.setHeader(response, 'Retry-After', String(error.retryAfterSeconds));
    httpAdapter.reply(response, { title: 'Service Unavailable' }, 503);
  }
}

/** express-session's callbacks as promises, as a Nest controller awaits them. */
const called = (call: (done: (error?: unknown) => void) => void) => new Promise<void>((resolve, reject) => call((error) => (error ? reject(error) : resolve())));

@Controller()
class ExpressLoginController {
  @Post('login')
  @HttpCode(200)
  async login(@Req() request: Request, @Body() body: { user: string }) {
    await called((done) => request.session.regenerate(done)); // a new session id at login
    (request.session as unknown as Record<string, unknown>).user = body.user;
    await called((done) => request.session.save(done)); // saved before answering: a failure is the answer
    return { user: body.user };
  }

  @Get('me')
  me(@Req() request: Request) {
    return { user: (request.session as unknown as Record<string, unknown>).user ?? null };
  }
}

/** @fastify/session's session, as this test uses it. */
type FastifySessionOf = { session: { regenerate(): Promise<void>; save(): Promise<void>; get(key: string): unknown; set(key: string, value: unknown): void } };

@Controller()
class FastifyLoginController {
  @Post('login')
  @HttpCode(200)
  async login(@Req() request: FastifyRequest & FastifySessionOf, @Body() body: { user: string }) {
    await request.session.regenerate();
    request.session.set('user', body.user);
    await request.session.save();
    return { user: body.user };
  }

  @Get('me')
  me(@Req() request: FastifyRequest & FastifySessionOf) {
    return { user: request.session.get('user') ?? null };
  }
}

@Module({ controllers: [ExpressLoginController] })
class ExpressLoginModule {}

@Module({ controllers: [FastifyLoginController] })
class FastifyLoginModule {}

const quiet = () => undefined;
const logger = { log: quiet, error: quiet, warn: quiet, debug: quiet, verbose: quiet, fatal: quiet };
const SECRET = 'a secret for this test only, 32 characters at least';

if (redisRunsPossible('KuraStore in a NestJS app')) {
  describe.each(['Express', 'Fastify'] as const)('KuraStore in a NestJS app on %s, its store down', (platform) => {
    let redis: RedisServer | undefined;
    let connection: RedisConnection | undefined;
    afterEach(async () => {
      await connection?.close();
      await redis?.stop();
    });

    /** The app, with the README's filter or without it; the login answers 200 while Redis is up. */
    async function appOnRedis(withFilter: boolean): Promise<{ app: INestApplication; url: string; cookie: string }> {
      redis = await startRedisServer();
      connection = connectRedis({ url: redis.url });
      await connection.open();
      const store = new KuraStore({ adapter: new RedisConnectSessionStore(connection, { commandTimeoutMs: 1000 }) });
      let app: INestApplication;
      if (platform === 'Express') {
        app = await NestFactory.create(ExpressLoginModule, new ExpressAdapter(), { logger });
        app.use(session({ store, secret: SECRET, name: 'sid', resave: false, saveUninitialized: false, cookie: { httpOnly: true, sameSite: 'lax', maxAge: 30 * 60_000 } }));
      } else {
        const fastify = await NestFactory.create<NestFastifyApplication>(FastifyLoginModule, new FastifyAdapter(), { logger });
        await fastify.register(fastifyCookie);
        await fastify.register(fastifySession, { store, secret: SECRET, cookieName: 'sid', saveUninitialized: false, cookie: { secure: false, httpOnly: true, sameSite: 'lax', maxAge: 30 * 60_000 } });
        app = fastify;
      }
      if (withFilter) app.useGlobalFilters(new SessionStoreErrorFilter(app.get(HttpAdapterHost)));
      await app.listen(0, '127.0.0.1');
      const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
      const up = await login(url);
      expect({ status: up.status, cookie: up.headers.get('set-cookie') }).toEqual({ status: 200, cookie: expect.stringMatching(/^sid=/) });
      return { app, url, cookie: up.headers.get('set-cookie')!.split(';')[0]! };
    }
    const login = (url: string) => fetch(`${url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"ada"}' });

    it("answers a login and a signed-in request 503 with Retry-After and no cookie, with the README's exception filter", async () => {
      const { app, url, cookie } = await appOnRedis(true);
      const warn = jest.spyOn(console, 'warn').mockImplementation(quiet);
      try {
        expect(await (await fetch(`${url}/me`, { headers: { cookie } })).json()).toEqual({ user: 'ada' });
        await redis!.stop();

        for (const down of [await login(url), await fetch(`${url}/me`, { headers: { cookie } })]) {
          expect({ status: down.status, retryAfter: down.headers.get('retry-after'), cookie: down.headers.get('set-cookie'), body: await down.json() }).toEqual({
            status: 503,
            retryAfter: '1',
            cookie: null,
            body: { title: 'Service Unavailable' },
          });
        }
        expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^session store: /));
      } finally {
        warn.mockRestore();
        await app.close();
      }
    });

    it('answers 500 without it (why the filter is there)', async () => {
      const { app, url } = await appOnRedis(false);
      try {
        await redis!.stop();

        const down = await login(url);

        expect(down.status).toBe(500);
        // express-session then sends the cookie of a session never stored.
        if (platform === 'Express') expect(down.headers.get('set-cookie')).toMatch(/^sid=/);
      } finally {
        await app.close();
      }
    });
  });
}
