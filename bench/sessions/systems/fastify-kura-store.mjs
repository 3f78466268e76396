// @fastify/session (its defaults, saveUninitialized: false) + Kura's KuraStore (@kura/connect), configured like the
// connect-dynamodb anchor, or with REDIS_URL on Redis (@kura/redis's RedisConnectSessionStore) like the connect-redis
// one. Session data is kept as top-level session keys, as KuraStore's README advises.
import Fastify from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { announce, settings, verifyLogin } from './common.mjs';
import { kuraStore } from './kura-store.mjs';

const store = await kuraStore();
const app = Fastify();
app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));
await app.register(fastifyCookie);
await app.register(fastifySession, {
  store,
  secret: settings.secret,
  cookieName: 'sid',
  saveUninitialized: false,
  cookie: { httpOnly: true, sameSite: 'lax', secure: false, maxAge: 30 * 60 * 1000 },
});

// Every key but the user and the store's own `__kura` (documented in libs/connect/README.md).
const dataOf = (session) => Object.fromEntries(Object.keys(session).filter((key) => /^[a-z]\w*$/i.test(key) && key !== 'user' && key !== 'cookie').map((key) => [key, session.get(key)]));
app.post('/auth/login', async (request, reply) => {
  const user = await verifyLogin(request.body?.email, request.body?.password);
  if (!user) return reply.code(401).send({ status: 401 });
  await request.session.regenerate();
  request.session.set('user', user);
  return { user };
});
app.get('/auth/me', async (request, reply) => {
  const user = request.session.get('user');
  return user ? { user } : reply.code(401).send({ status: 401 });
});
app.get('/session/data', async (request, reply) => (request.session.get('user') ? dataOf(request.session) : reply.code(401).send({ status: 401 })));
app.patch('/session/data', async (request, reply) => {
  if (!request.session.get('user')) return reply.code(401).send({ status: 401 });
  for (const [key, value] of Object.entries(request.body ?? {})) request.session.set(key, value);
  return dataOf(request.session);
});

announce((await app.listen({ host: settings.host, port: settings.port })).replace('http://', ''));
