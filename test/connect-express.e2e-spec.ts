import { createHash, randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { CreateTableCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbCallLog, KuraStore, type KuraStoreOptions, StoreUnavailableError } from '@kura/connect';
import { connectSessionTableDefinition, ensureConnectSessionTable } from '@kura/dynamodb';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import { LOCAL_CREDENTIALS, testClients, testEndpoint } from './support/engine.js';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy.js';
import { freePort } from './support/free-port.js';
import { HttpClient } from './support/http-client.js';

/**
 * KuraStore under express-session, over real HTTP: two instances of one Express app (two servers, each with
 * its own store and DynamoDB client) on one table in DynamoDB Local, as two replicas behind a balancer.
 */
const SECRET = 'a secret long enough for express-session';
const tableName = `x${randomBytes(4).toString('hex')}-express`;
const connection = (extra: Partial<NonNullable<KuraStoreOptions['connection']>> = {}) => ({
  region: 'us-east-1',
  endpoint: testEndpoint(),
  credentials: LOCAL_CREDENTIALS,
  timeoutMs: 5000,
  ...extra,
});

/** The app as its README would have it: express-session with KuraStore, explicit saves, 503 on outages. */
function expressApp(store: object) {
  const app = express();
  app.use(session({ store, secret: SECRET, name: 'sid', resave: false, saveUninitialized: false, cookie: { maxAge: 30 * 60_000, httpOnly: true, sameSite: 'lax', secure: false } }));
  app.post('/login', (req: Request, res: Response, next: NextFunction) =>
    req.session.regenerate((error?: unknown) => {
      if (error) return next(error);
      req.session.user = { name: req.query.user };
      if (req.query.maxAgeMs) req.session.cookie.maxAge = Number(req.query.maxAgeMs);
      req.session.save((error?: unknown) => (error ? next(error) : res.json({ user: req.session.user })));
    }),
  );
  app.get('/me', (req, res) => (req.session.user ? res.json({ user: req.session.user }) : res.status(401).json({ status: 401 })));
  app.get('/session', (req, res) => res.json(req.session));
  app.post('/keys/:key', (req: Request, res: Response, next: NextFunction) => {
    req.session[req.params.key!] = req.query.value;
    req.session.save((error?: unknown) => (error ? next(error) : res.json({})));
  });
  app.post('/logout', (req: Request, res: Response, next: NextFunction) => req.session.destroy((error?: unknown) => (error ? next(error) : res.status(204).end())));
  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (!(error instanceof StoreUnavailableError)) return next(error);
    res.status(503).set('Retry-After', String(error.retryAfterSeconds)).json({ title: 'Service Unavailable' });
  });
  return app;
}

interface Instance {
  url: string;
  store: KuraStore;
  calls: DynamoDbCallLog;
  close(): Promise<void>;
}

async function startInstance(options: Partial<KuraStoreOptions> = {}): Promise<Instance> {
  const calls = new DynamoDbCallLog();
  const store = new KuraStore({ tableName, connection: connection({ callLog: calls }), ...options });
  const server = await new Promise<Server>((resolve) => {
    const listening = expressApp(store).listen(0, '127.0.0.1', () => resolve(listening));
  });
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    store,
    calls,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
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
const cookieOf = async (user: HttpClient) => user.jar.getCookieString(first.url);
const sessionIdOf = (cookie: string) => {
  const signed = decodeURIComponent(/sid=([^;]+)/.exec(cookie)![1]!);
  return signed.slice(2, signed.lastIndexOf('.'));
};
/** The item key KuraStore keeps for a session id, computed here independently of the store. */
const createHashOf = (sessionId: string) => createHash('sha256').update(sessionId).digest('base64url');
const tableDump = async () => JSON.stringify((await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }))).Items);

describe('express-session with KuraStore on two instances', () => {
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

  it('keeps only the SHA-256 of the session id in the table', async () => {
    const user = browser();
    await logIn(user, first);
    const sid = sessionIdOf(await cookieOf(user));

    const dump = await tableDump();

    expect(dump).toContain(createHashOf(sid));
    expect(dump).not.toContain(sid);
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
    expect(await tableDump()).toContain(createHashOf(sessionIdOf(replayed)));
  });

  it('costs one read and no write per authenticated GET at steady state', async () => {
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

describe('express-session with KuraStore when DynamoDB cannot answer', () => {
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
    proxy.set('blackhole');
  });
  afterAll(async () => {
    await Promise.all([stalled?.close(), refused?.close()]);
    await proxy?.close();
  });

  it.each([
    ['a proxy that stalls', () => stalled],
    ['a closed port', () => refused],
  ])('answers 503 with Retry-After through the error middleware with %s, never 500 and never logged in', async (_case, instance) => {
    const user = browser();
    await logIn(user, first);

    for (const call of [() => user.get(`${instance().url}/me`), () => user.post(`${instance().url}/login?user=eve`), () => user.post(`${instance().url}/logout`)]) {
      const response = await call();
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('1');
      expect(response.body).toEqual({ title: 'Service Unavailable' });
    }
    expect((await user.get(`${first.url}/me`)).body).toEqual({ user: { name: 'ada' } });
  });

  it('answers again once DynamoDB is back', async () => {
    const user = browser();
    await logIn(user, first);

    proxy.set('pass');

    expect((await user.get(`${stalled.url}/me`)).status).toBe(200);
  });
});

describe('connect-dynamodb, for comparison', () => {
  it('loses updates when 50 concurrent requests change different keys of one session', async () => {
    const comparisonTable = `${tableName}-cd`;
    await client.send(new CreateTableCommand(connectSessionTableDefinition(comparisonTable)));
    const connectDynamoDb = createRequire(import.meta.url)('connect-dynamodb') as (options: { session: unknown }) => new (options: object) => object;
    const DynamoDbStore = connectDynamoDb({ session });
    const instances = [0, 1].map(() => expressApp(new DynamoDbStore({ client, table: comparisonTable })));
    const servers = await Promise.all(instances.map((app) => new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    })));
    const urls = servers.map((server) => `http://127.0.0.1:${(server.address() as { port: number }).port}`);
    try {
      const user = browser();
      await user.post(`${urls[0]}/login?user=ada`);
      const cookie = await user.jar.getCookieString(urls[0]!);

      await Promise.all(Array.from({ length: 50 }, (_, index) => user.post(`${urls[index % 2]}/keys/k${index}?value=${index}`, undefined, { cookies: false, headers: { cookie } })));

      const stored = (await user.get(`${urls[1]}/session`)).body as Record<string, unknown>;
      const lost = Array.from({ length: 50 }, (_, index) => `k${index}`).filter((key) => stored[key] === undefined).length;
      console.info(`connect-dynamodb lost ${lost} of 50 concurrent updates`);
      expect(lost).toBeGreaterThan(0);
    } finally {
      for (const server of servers) {
        server.closeAllConnections();
        server.close();
      }
    }
  });
});
