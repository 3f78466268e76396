import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { type KuraStore, StoreUnavailableError } from '@kura/connect';
import Fastify, { type FastifyRequest } from 'fastify';
import { type RunningApp, runningApp } from '../contracts/connect-app.suite.js';

declare module 'fastify' {
  interface Session {
    [key: string]: unknown;
  }
}

const SECRET = 'a secret of at least 32 characters for @fastify/session';

/**
 * The app as the README has it (`store`: KuraStore, or any store, for an old replica): @fastify/session (with @fastify/cookie) and KuraStore, and a 503 for store
 * outages. @fastify/session's defaults stay (rolling: true saves the session on every request); only
 * saveUninitialized is off.
 */
export async function fastifyApp(store: object, { maxAge = 30 * 60_000, errorHandler = true }: { maxAge?: number; errorHandler?: boolean } = {}): Promise<RunningApp> {
  const app = Fastify();
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    store: store as KuraStore,
    secret: SECRET,
    cookieName: 'sid',
    saveUninitialized: false,
    cookie: { maxAge, httpOnly: true, sameSite: 'lax', secure: false },
  });
  // Without it (errorHandler: false), Fastify's own handler answers what the error says.
  if (errorHandler) app.setErrorHandler((error, request, reply) => {
    if (!(error instanceof StoreUnavailableError)) return reply.send(error);
    // @fastify/session would save the session again while sending the 503 (and clear or set its cookie):
    // the store is down, so that save fails too and Fastify answers 500 instead. Leave the session out.
    (request as { session: unknown }).session = null;
    return reply.code(503).header('retry-after', error.retryAfterSeconds).send({ title: 'Service Unavailable' });
  });
  type Query = { Querystring: Record<string, string | undefined>; Params: Record<string, string> };
  app.post<Query>('/login', async (request) => {
    await request.session.regenerate();
    request.session.set('user', { name: request.query.user });
    if (request.query.maxAgeMs) request.session.options({ maxAge: Number(request.query.maxAgeMs) });
    return { user: request.session.get('user') };
  });
  app.get('/me', async (request, reply) => {
    const user = request.session.get('user');
    return user ? { user } : reply.code(401).send({ status: 401 });
  });
  app.get('/session', async (request) => JSON.parse(JSON.stringify(request.session)) as unknown);
  app.post<Query>('/keys/:key', async (request) => {
    request.session.set(request.params.key!, request.query.value);
    return {};
  });
  app.post('/logout', async (request, reply) => {
    await request.session.destroy();
    return reply.code(204).send();
  });
  // Every session of the user (KuraStore's userOf option): list them, end the others or all, end one by its handle.
  const kura = store as KuraStore;
  const userOf = (request: FastifyRequest) => (request.session.get('user') as { name?: string } | undefined)?.name;
  app.get('/sessions', async (request, reply) => {
    const user = userOf(request);
    if (!user) return reply.code(401).send({ status: 401 });
    return (await kura.sessionsOf(user, { current: request.session.sessionId })).map(({ handle, current }) => ({ handle, current }));
  });
  app.post<Query>('/logout-everywhere', async (request, reply) => {
    const user = userOf(request);
    if (!user) return reply.code(401).send({ status: 401 });
    return { ended: await kura.destroySessionsOf(user, request.query.others ? { except: request.session.sessionId } : {}) };
  });
  app.delete<Query>('/sessions/:handle', async (request, reply) => {
    const user = userOf(request);
    if (!user) return reply.code(401).send({ status: 401 });
    return reply.code((await kura.destroySessionOf(user, request.params.handle!)) ? 204 : 404).send();
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return runningApp(app.server, () => app.close());
}

