import 'reflect-metadata';
import { jest } from '@jest/globals';
import { type ArgumentsHost, Body, Catch, Controller, type ExceptionFilter, HttpCode, type INestApplication, Module, Post, Req } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { CredentialReplacedError, KuraStore, SessionTooLargeError, StoreUnavailableError } from '@kura/connect';
import { connectRedis, type RedisConnection, RedisConnectSessionStore } from '@kura/redis';
import type { Request, Response } from 'express';
import session from 'express-session';
import { type RedisServer, redisRunsPossible, startRedisServer } from './support/redis-server.js';

/**
 * KuraStore under express-session in a NestJS app on @nestjs/platform-express, set up as NestJS's own docs set
 * sessions up (`app.use(session(...))`). Nest's exception handler answers any error it does not know with a 500,
 * whatever its `statusCode`, and express-session then sends the cookie of a session never stored: the exception
 * filter of libs/connect/README.md ("Turning an outage into a 503", NestJS) makes it a 503 with Retry-After and no
 * cookie. The filter below is the README's, as written there.
 */
@Catch(StoreUnavailableError, SessionTooLargeError, CredentialReplacedError)
class SessionStoreErrorFilter implements ExceptionFilter {
  catch(error: StoreUnavailableError | SessionTooLargeError | CredentialReplacedError, host: ArgumentsHost) {
    const request = host.switchToHttp().getRequest<{ session: unknown }>(); // by shape: with or without @types/express-session
    const response = host.switchToHttp().getResponse<Response>();
    if (error instanceof StoreUnavailableError) console.warn(`session store: ${error.reason}`); // why, in one line
    if (response.headersSent) return;
    request.session = null; // no cookie for a session never stored, and no save at the end
    if (error instanceof SessionTooLargeError) return response.status(413).json({ title: 'Content Too Large' });
    if (error instanceof CredentialReplacedError) return response.status(401).json({ title: 'Unauthorized' });
    response.status(503).set('Retry-After', String(error.retryAfterSeconds)).json({ title: 'Service Unavailable' });
  }
}

/** express-session's callbacks as promises, as a Nest controller awaits them. */
const called = (call: (done: (error?: unknown) => void) => void) => new Promise<void>((resolve, reject) => call((error) => (error ? reject(error) : resolve())));

@Controller()
class LoginController {
  @Post('login')
  @HttpCode(200)
  async login(@Req() request: Request, @Body() body: { user: string }) {
    await called((done) => request.session.regenerate(done)); // a new session id at login
    (request.session as unknown as Record<string, unknown>).user = body.user;
    await called((done) => request.session.save(done)); // saved before answering: a failure is the answer
    return { user: body.user };
  }
}

@Module({ controllers: [LoginController] })
class LoginModule {}

const quiet = () => undefined;

if (redisRunsPossible('KuraStore in a NestJS app on Express')) {
  describe('KuraStore in a NestJS app on Express (express-session), its store down', () => {
    let redis: RedisServer | undefined;
    let connection: RedisConnection | undefined;
    afterEach(async () => {
      await connection?.close();
      await redis?.stop();
    });

    /** The app, with the README's filter or without it; the login answers 200 while Redis is up. */
    async function appOnRedis(withFilter: boolean): Promise<{ app: INestApplication; url: string }> {
      redis = await startRedisServer();
      connection = connectRedis({ url: redis.url });
      await connection.open();
      const store = new KuraStore({ adapter: new RedisConnectSessionStore(connection, { commandTimeoutMs: 1000 }) });
      const app = await NestFactory.create(LoginModule, new ExpressAdapter(), { logger: { log: quiet, error: quiet, warn: quiet, debug: quiet, verbose: quiet, fatal: quiet } });
      app.use(session({ store, secret: 'a secret for this test only', name: 'sid', resave: false, saveUninitialized: false, cookie: { httpOnly: true, sameSite: 'lax', maxAge: 30 * 60_000 } }));
      if (withFilter) app.useGlobalFilters(new SessionStoreErrorFilter());
      await app.listen(0, '127.0.0.1');
      const url = await app.getUrl();
      const up = await login(url);
      expect({ status: up.status, cookie: up.headers.get('set-cookie') }).toEqual({ status: 200, cookie: expect.stringMatching(/^sid=/) });
      return { app, url };
    }
    const login = (url: string) => fetch(`${url.replace('[::1]', '127.0.0.1')}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"ada"}' });

    it('answers a login 503 with Retry-After and no cookie, with the README\'s exception filter', async () => {
      const { app, url } = await appOnRedis(true);
      const warn = jest.spyOn(console, 'warn').mockImplementation(quiet);
      try {
        await redis!.stop();

        const down = await login(url);

        expect({ status: down.status, retryAfter: down.headers.get('retry-after'), cookie: down.headers.get('set-cookie'), body: await down.json() }).toEqual({
          status: 503,
          retryAfter: '1',
          cookie: null,
          body: { title: 'Service Unavailable' },
        });
        expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^session store: /));
      } finally {
        warn.mockRestore();
        await app.close();
      }
    });

    it('answers 500 and sends the cookie of a session never stored without it (why the filter is there)', async () => {
      const { app, url } = await appOnRedis(false);
      try {
        await redis!.stop();

        const down = await login(url);

        expect({ status: down.status, cookie: down.headers.get('set-cookie') }).toEqual({ status: 500, cookie: expect.stringMatching(/^sid=/) });
      } finally {
        await app.close();
      }
    });
  });
}
