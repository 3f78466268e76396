// Anchor: Fastify 5 + @fastify/session (its defaults, saveUninitialized: false) + connect-dynamodb as the store,
// which @fastify/session accepts (it takes express-session compatible stores), or with REDIS_URL connect-redis
// (`new RedisStore({ client })`, as its README makes it). @fastify/session's default `rolling: true` saves the
// session at every answer: connect-redis then sends a `SET` after the `GET` of each request.
import Fastify from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import connectDynamoDb from 'connect-dynamodb';
import { RedisStore } from 'connect-redis';
import { announce, client, redisClient, redisUrl, settings, verifyLogin } from './common.mjs';

const DynamoDBStore = connectDynamoDb({ Store: fastifySession.Store });
const app = Fastify();
app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));
await app.register(fastifyCookie);
await app.register(fastifySession, {
  store: redisUrl ? new RedisStore({ client: await redisClient() }) : new DynamoDBStore({ client, table: settings.sessionsTable }),
  secret: settings.secret,
  cookieName: 'sid',
  saveUninitialized: false,
  cookie: { httpOnly: true, sameSite: 'lax', secure: false, maxAge: 30 * 60 * 1000 },
});

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
app.get('/session/data', async (request, reply) =>
  request.session.get('user') ? request.session.get('data') ?? {} : reply.code(401).send({ status: 401 }),
);
app.patch('/session/data', async (request, reply) => {
  if (!request.session.get('user')) return reply.code(401).send({ status: 401 });
  const data = { ...request.session.get('data'), ...request.body };
  request.session.set('data', data);
  return data;
});

announce((await app.listen({ host: settings.host, port: settings.port })).replace('http://', ''));
