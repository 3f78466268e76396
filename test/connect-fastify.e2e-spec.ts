import { createHash, randomBytes } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { DynamoDbCallLog, KuraStore, type KuraStoreOptions, StoreUnavailableError } from '@kura/connect';
import { ensureConnectSessionTable } from '@kura/dynamodb';
import Fastify, { type FastifyInstance } from 'fastify';
import { LOCAL_CREDENTIALS, testClients, testEndpoint } from './support/engine.js';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy.js';
import { freePort } from './support/free-port.js';
import { HttpClient } from './support/http-client.js';

declare module 'fastify' {
  interface Session {
    [key: string]: unknown;
  }
}

/**
 * KuraStore under @fastify/session (with @fastify/cookie), over real HTTP: two instances of one Fastify app,
 * each with its own store and DynamoDB client, on one table in DynamoDB Local. @fastify/session's defaults
 * stay (rolling: true saves the session on every request); only saveUninitialized is off.
 */
const SECRET = 'a secret of at least 32 characters for @fastify/session';
const tableName = `f${randomBytes(4).toString('hex')}-fastify`;
const connection = (extra: Partial<NonNullable<KuraStoreOptions['connection']>> = {}) => ({
  region: 'us-east-1',
  endpoint: testEndpoint(),
  credentials: LOCAL_CREDENTIALS,
  timeoutMs: 5000,
  ...extra,
});

/** The app as the README has it: @fastify/session with KuraStore, and a 503 for store outages. */
async function fastifyApp(store: KuraStore): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    store,
    secret: SECRET,
    cookieName: 'sid',
    saveUninitialized: false,
    cookie: { maxAge: 30 * 60_000, httpOnly: true, sameSite: 'lax', secure: false },
  });
  app.setErrorHandler((error, request, reply) => {
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
  await app.listen({ host: '127.0.0.1', port: 0 });
  return app;
}

interface Instance {
  url: string;
  calls: DynamoDbCallLog;
  close(): Promise<void>;
}

async function startInstance(options: Partial<KuraStoreOptions> = {}): Promise<Instance> {
  const calls = new DynamoDbCallLog();
  const store = new KuraStore({ tableName, connection: connection({ callLog: calls }), ...options });
  const app = await fastifyApp(store);
  const { port } = app.server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: async () => {
      app.server.closeAllConnections();
      await app.close();
      store.close();
    },
  };
}

const { client } = testClients();
let first: Instance;
let second: Instance;
beforeAll(async () => {
  await ensureConnectSessionTable(client, tableName);
  [first, second] = await Promise.all([startInstance(), startInstance()]);
});
afterAll(async () => {
  await Promise.all([first?.close(), second?.close()]);
  client.destroy();
});

/** A browser: one cookie jar for both instances, which share the host and differ only in port. */
const browser = () => new HttpClient('http://127.0.0.1/');
const logIn = async (user: HttpClient, on: Instance, query = '') => {
  const login = await user.post(`${on.url}/login?user=ada${query}`);
  if (login.status !== 200) throw new Error(`login: ${login.status} ${login.text}`);
};
const cookieOf = (user: HttpClient) => user.jar.getCookieString(first.url);
/** @fastify/cookie signs as `<sid>.<signature>`. */
const sessionIdOf = (cookie: string) => {
  const signed = decodeURIComponent(/sid=([^;]+)/.exec(cookie)![1]!);
  return signed.slice(0, signed.lastIndexOf('.'));
};
const itemKeyOf = (sessionId: string) => createHash('sha256').update(sessionId).digest('base64url');
const tableDump = async () => JSON.stringify((await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }))).Items);

describe('@fastify/session with KuraStore on two instances', () => {
  it('logs in on one instance and is logged in on the other', async () => {
    const user = browser();

    await logIn(user, first);

    expect((await user.get(`${second.url}/me`)).body).toEqual({ user: { name: 'ada' } });
  });

  it('logs out on the second instance, and the first sees no session at once', async () => {
    const user = browser();
    await logIn(user, first);
    const stolen = await cookieOf(user);

    expect((await user.post(`${second.url}/logout`)).status).toBe(204);

    expect((await user.get(`${first.url}/me`, { cookies: false, headers: { cookie: stolen } })).status).toBe(401);
  });

  it('keeps only the SHA-256 of the session id in the table, and never the marker of what was read', async () => {
    const user = browser();
    await logIn(user, first);
    await user.post(`${second.url}/keys/cart?value=1`);
    const sid = sessionIdOf(await cookieOf(user));

    const dump = await tableDump();

    expect(dump).toContain(itemKeyOf(sid));
    expect(dump).not.toContain(sid);
    expect(dump).not.toContain('__kura');
  });

  it('finds an expired session absent on both instances, though its item is still in the table', async () => {
    const user = browser();
    const loggedInAt = Date.now();
    await logIn(user, first, '&maxAgeMs=3000');
    const replayed = await cookieOf(user);
    expect((await user.get(`${second.url}/me`)).status).toBe(200);

    await new Promise((resolve) => setTimeout(resolve, loggedInAt + 3100 - Date.now()));

    for (const instance of [first, second]) {
      expect((await user.get(`${instance.url}/me`, { cookies: false, headers: { cookie: replayed } })).status).toBe(401);
    }
    expect(await tableDump()).toContain(itemKeyOf(sessionIdOf(replayed)));
  });

  it('costs one read and no write per authenticated GET at steady state, though rolling saves every request', async () => {
    const user = browser();
    await logIn(user, first);
    first.calls.reset();
    second.calls.reset();

    for (let request = 0; request < 10; request += 1) expect((await user.get(`${[first, second][request % 2]!.url}/me`)).status).toBe(200);

    const totals = [first.calls.snapshot(), second.calls.snapshot()];
    expect(totals.reduce((sum, calls) => sum + calls.reads, 0)).toBe(10);
    expect(totals.reduce((sum, calls) => sum + calls.writes, 0)).toBe(0);
    // One capacity unit per read: strongly consistent, so a logout elsewhere is seen at once.
    expect(totals.reduce((sum, calls) => sum + calls.readCapacityUnits, 0)).toBe(10);
  });

  it('loses none of 50 concurrent updates of different keys of one session, on both instances', async () => {
    const user = browser();
    await logIn(user, first);
    const cookie = await cookieOf(user);
    first.calls.reset();
    second.calls.reset();

    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, index) => user.post(`${[first, second][index % 2]!.url}/keys/k${index}?value=${index}`, undefined, { cookies: false, headers: { cookie } })),
    );

    expect(answers.map(({ status }) => status)).toEqual(Array(50).fill(200));
    // One read and one write per request: no conflict to retry, whatever the contention.
    const totals = [first.calls.snapshot(), second.calls.snapshot()];
    expect(totals.map(({ reads, writes }) => ({ reads, writes })).reduce((sum, calls) => ({ reads: sum.reads + calls.reads, writes: sum.writes + calls.writes }))).toEqual({ reads: 50, writes: 50 });
    const stored = (await user.get(`${second.url}/session`)).body as Record<string, unknown>;
    const lost = Array.from({ length: 50 }, (_, index) => `k${index}`).filter((key) => stored[key] === undefined);
    expect(lost).toEqual([]);
    expect(stored.user).toEqual({ name: 'ada' });
  });
});

describe('@fastify/session with KuraStore when DynamoDB cannot answer', () => {
  let proxy: FaultProxy;
  let stalled: Instance;
  let refused: Instance;
  beforeAll(async () => {
    proxy = await startFaultProxy(testEndpoint());
    const failing = { timeoutMs: 300, maxAttempts: 1 };
    [stalled, refused] = await Promise.all([
      startInstance({ connection: connection({ ...failing, endpoint: proxy.endpoint }) }),
      startInstance({ connection: connection({ ...failing, endpoint: `http://127.0.0.1:${await freePort()}` }) }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([stalled?.close(), refused?.close()]);
    await proxy?.close();
  });

  const expectUnavailable = (response: { status: number; headers: Headers; body: unknown }) => {
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(response.body).toEqual({ title: 'Service Unavailable' });
  };

  it.each([
    ['a proxy that stalls', () => stalled],
    ['a closed port', () => refused],
  ])('answers 503 with Retry-After through setErrorHandler with %s, never 500 and never logged in', async (_case, instance) => {
    proxy.set('blackhole');
    const user = browser();
    await logIn(user, first);

    for (const call of [() => user.get(`${instance().url}/me`), () => user.post(`${instance().url}/login?user=eve`), () => user.post(`${instance().url}/logout`)]) {
      expectUnavailable(await call());
    }
    expect((await user.get(`${first.url}/me`)).body).toEqual({ user: { name: 'ada' } });
  });

  it('answers 503 when the save after the handler cannot be written, and writes nothing', async () => {
    proxy.set('pass');
    const user = browser();
    await logIn(user, first);
    proxy.hold((operation) => operation === 'UpdateItem'); // never released: the write times out

    expectUnavailable(await user.post(`${stalled.url}/keys/cart?value=lost`));

    expect(((await user.get(`${first.url}/session`)).body as Record<string, unknown>).cart).toBeUndefined();
  });

  it('answers again once DynamoDB is back', async () => {
    proxy.set('pass');
    const user = browser();
    await logIn(user, first);

    expect((await user.get(`${stalled.url}/me`)).status).toBe(200);
  });
});
