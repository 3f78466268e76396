import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { KuraStore, StoreUnavailableError } from '@kura/connect';

const env = process.env;
const store = new KuraStore({
  tableName: env.SESSIONS_TABLE ?? 'kura-example-sessions',
  connection: { region: env.AWS_REGION ?? 'us-east-1', endpoint: env.DYNAMODB_ENDPOINT },
  userOf: (session) => session.user, // whose each session is: lets the store end them all (below)
});
if (env.KURA_CREATE_TABLES === 'true') await store.ensureTable();
if (!env.SESSION_SECRET) console.warn('SESSION_SECRET is not set: a random one is used, so no other process accepts these cookies');

const app = Fastify();
await app.register(fastifyCookie);
await app.register(fastifySession, {
  store,
  secret: env.SESSION_SECRET ?? randomBytes(32).toString('base64url'),
  saveUninitialized: false,
  cookie: { maxAge: 30 * 60_000, httpOnly: true, sameSite: 'lax', secure: 'auto' },
});

// DynamoDB could not answer: 503, and when to try again.
app.setErrorHandler((error, request, reply) => {
  if (!(error instanceof StoreUnavailableError)) return reply.send(error);
  // Otherwise @fastify/session would try to save the session again while sending the 503, fail, and answer 500.
  request.session = null;
  return reply.code(503).header('retry-after', error.retryAfterSeconds).send({ title: 'Service Unavailable' });
});

// Login by name only: a demo of the session, not of accounts. Your app checks credentials here.
app.post('/login', async (request, reply) => {
  const user = request.body?.user;
  if (typeof user !== 'string' || user === '') return reply.code(400).send({ title: 'user is required' });
  await request.session.regenerate(); // a login never keeps the session the client came with
  request.session.set('user', user);
  return { user };
});
app.get('/me', async (request, reply) => {
  const user = request.session.get('user');
  return user ? { user } : reply.code(401).send({ title: 'Unauthorized' });
});
app.post('/logout', async (request, reply) => {
  await request.session.destroy();
  // @fastify/session leaves the browser its cookie, which names an ended session: cleared, as express-session's example does.
  return reply.clearCookie('sessionId', { path: '/' }).code(204).send();
});
// Every session of this user, on every process: "log out everywhere" (a lost phone, a password changed).
// With { except: request.session.sessionId } and without the destroy, "log out my other sessions" instead.
app.post('/logout-everywhere', async (request, reply) => {
  const user = request.session.get('user');
  if (!user) return reply.code(401).send({ title: 'Unauthorized' });
  const others = await store.destroySessionsOf(user, { except: request.session.sessionId });
  await request.session.destroy();
  return { ended: others + 1 };
});

const address = await app.listen({ port: Number(env.PORT ?? 3000), host: env.HOST ?? '127.0.0.1' });
console.log(`listening on ${address}`);
process.once('SIGTERM', () => app.close().then(() => store.close()));
