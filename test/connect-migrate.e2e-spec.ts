import { createRequire } from 'node:module';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { KuraStore, type KuraStoreOptions, type PreviousSessionStore } from '@kura/connect';
import { connectSessionTableDefinition } from '@kura/dynamodb';
import { createRedisClient, type RedisClient, RedisConnectSessionStore } from '@kura/redis';
import { RedisStore } from 'connect-redis';
import session from 'express-session';
import { createClient } from 'redis';
import type { RunningApp } from './contracts/connect-app.suite.js';
import { LOCAL_CREDENTIALS, testClients, testEndpoint } from './support/engine.js';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy.js';
import { listen } from './support/express-session-app.js';
import { fastifyApp } from './support/fastify-session-app.js';
import { HttpClient } from './support/http-client.js';
import { type PreviousAndKura, previousAndKuraOnRedis } from './support/previous-store-fixture.js';
import { type RedisServer, redisRunsPossible, startRedisServer } from './support/redis-server.js';

/**
 * Switching an express-session app from connect-redis or connect-dynamodb to KuraStore with `migrateFrom`, as a
 * rolling update does it: an old replica still on the previous store beside two new ones on KuraStore, all on real
 * servers, users as browsers (a cookie jar over HTTP). Nobody who was logged in before the switch is logged out by
 * it, and no logout, on either side, is undone. The interleavings inside a move are `kura-store.migrate.spec`.
 */
type Store = PreviousSessionStore;
interface Previous {
  readonly name: string;
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  /** The previous store, as the old replicas have it (and KuraStore's `migrateFrom`), reaching it through a proxy that can stall. */
  store(): Store;
  /** Where KuraStore keeps sessions beside it. */
  kura(): Omit<KuraStoreOptions, 'migrateFrom' | 'userOf'>;
  stall(): Promise<void>;
  pass(): Promise<void>;
}

const connectRedis = (): Previous => {
  let server: RedisServer;
  let kuraServer: RedisServer;
  let client: ReturnType<typeof createClient>;
  let kuraClient: RedisClient;
  return {
    name: 'connect-redis on Redis',
    setUp: async () => {
      [server, kuraServer] = await Promise.all([startRedisServer(), startRedisServer()]);
      client = createClient({ url: server.url });
      kuraClient = await createRedisClient({ url: kuraServer.url });
      await Promise.all([client.connect(), kuraClient.connect()]);
    },
    tearDown: async () => {
      client?.destroy();
      kuraClient?.destroy();
      await Promise.all([server?.stop(), kuraServer?.stop()]);
    },
    store: () => new RedisStore({ client }),
    kura: () => ({ adapter: new RedisConnectSessionStore(kuraClient) }),
    // Paused with SIGSTOP: a Redis that stopped answering (KuraStore's sessions are on a server of their own).
    stall: async () => void process.kill(server.pid, 'SIGSTOP'),
    pass: async () => void process.kill(server.pid, 'SIGCONT'),
  };
};

const connectDynamoDb = (): Previous => {
  const table = `m${Date.now().toString(36)}-cd`;
  const kuraTable = `m${Date.now().toString(36)}-kura`;
  let proxy: FaultProxy;
  let clients: ReturnType<typeof testClients>[] = [];
  return {
    name: 'connect-dynamodb on DynamoDB Local',
    setUp: async () => {
      proxy = await startFaultProxy(testEndpoint());
      clients = [testClients(), testClients(proxy.endpoint)];
      await clients[0]!.client.send(new CreateTableCommand(connectSessionTableDefinition(table)));
      await new KuraStore({ tableName: kuraTable, client: clients[0]!.client }).ensureTable();
    },
    tearDown: async () => {
      for (const { client } of clients) client.destroy();
      await proxy?.close();
    },
    store: () => {
      const DynamoDbStore = (createRequire(import.meta.url)('connect-dynamodb') as (options: { session: unknown }) => new (options: object) => Store)({ session });
      return new DynamoDbStore({ client: clients[1]!.client, table });
    },
    kura: () => ({ tableName: kuraTable, connection: { region: 'us-east-1', endpoint: testEndpoint(), credentials: LOCAL_CREDENTIALS, timeoutMs: 5000 } }),
    stall: async () => proxy.set('blackhole'),
    pass: async () => proxy.set('pass'),
  };
};

const previousStores = [connectDynamoDb, ...(redisRunsPossible('moving sessions from connect-redis') ? [connectRedis] : [])];

describe.each(previousStores.map((make) => [make().name, make] as const))('moving to KuraStore from %s, during a rolling update', (_name, make) => {
  const previous = make();
  let old: RunningApp;
  let replicas: RunningApp[];
  let stores: KuraStore[];
  /** A following replica (`move: false`), the first step of the two-step rollout. */
  let follower: RunningApp;
  let followerStore: KuraStore;
  beforeAll(async () => {
    await previous.setUp();
    old = await listen(previous.store());
    const userOf = (stored: Record<string, unknown>) => (stored.user as { name?: string } | undefined)?.name;
    stores = [0, 1].map(() => new KuraStore({ ...previous.kura(), userOf, migrateFrom: { store: previous.store(), timeoutMs: 2000 } }));
    replicas = await Promise.all(stores.map((store) => listen(store)));
    followerStore = new KuraStore({ ...previous.kura(), userOf, migrateFrom: { store: previous.store(), move: false, timeoutMs: 2000 } });
    follower = await listen(followerStore);
  });
  afterAll(async () => {
    await Promise.all([old, follower, ...(replicas ?? [])].filter(Boolean).map((app) => app.close()));
    for (const store of [...(stores ?? []), followerStore]) store?.close();
    await previous.tearDown();
  });

  /** A browser whose user logged in on the old replica (before the switch), with `cart` in its session. */
  async function loggedInBefore(name: string, cart = '3'): Promise<HttpClient> {
    const user = new HttpClient(old.url);
    expect((await user.post(`${old.url}/login?user=${name}`)).status).toBe(200);
    expect((await user.post(`${old.url}/keys/cart?value=${cart}`)).status).toBe(200);
    return user;
  }
  const sidOf = async (user: HttpClient) => (await user.jar.getCookies(old.url)).find((cookie) => cookie.key === 'sid')?.value;
  const me = async (user: HttpClient, app: RunningApp) => (await user.get(`${app.url}/me`)).status;

  it('a user logged in before the switch is logged in on every new replica, with what the session held; the old replica finds a stub and keeps the cookie', async () => {
    const user = await loggedInBefore('ada');
    const cookie = await sidOf(user);

    const moved = await user.get(`${replicas[0]!.url}/session`);
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ user: { name: 'ada' }, cart: '3' });
    expect(await me(user, replicas[1]!)).toBe(200);

    // An old replica still running: the session moved, so it sees nobody, under the same cookie.
    const there = await user.get(`${old.url}/me`);
    expect(there.status).toBe(401);
    expect(there.headers.getSetCookie()).toEqual([]);
    expect(await sidOf(user)).toBe(cookie);
    expect(await me(user, replicas[0]!)).toBe(200);
    // Changes go on as KuraStore's, seen by every new replica.
    await user.post(`${replicas[1]!.url}/keys/cart?value=4`);
    expect((await user.get(`${replicas[0]!.url}/session`)).body).toMatchObject({ user: { name: 'ada' }, cart: '4' });
  });

  it('a logout on the old replica before the move, or on a new replica after it, holds on every replica', async () => {
    const before = await loggedInBefore('bob');
    expect((await before.post(`${old.url}/logout`)).status).toBe(204);
    expect(await me(before, replicas[0]!)).toBe(401);

    const after = await loggedInBefore('carol');
    expect(await me(after, replicas[0]!)).toBe(200);
    const cookie = (await after.jar.getCookieString(old.url));
    expect((await after.post(`${replicas[1]!.url}/logout`)).status).toBe(204);
    // The browser may still send the old cookie (copied, or replayed): nowhere is it logged in.
    for (const app of [replicas[0]!, replicas[1]!, old]) expect((await after.get(`${app.url}/me`, { cookies: false, headers: { cookie } })).status).toBe(401);

    // Logged out before it ever reached a new replica: the logout there reaches the previous store too.
    const never = await loggedInBefore('dan');
    const neverCookie = await never.jar.getCookieString(old.url);
    expect((await never.post(`${replicas[0]!.url}/logout`)).status).toBe(204);
    for (const app of [old, replicas[1]!]) expect((await never.get(`${app.url}/me`, { cookies: false, headers: { cookie: neverCookie } })).status).toBe(401);
  });

  it('a following replica (move: false) and the old one serve each other\'s logins and changes; beside moving replicas, it serves what they moved; a logout on it holds everywhere', async () => {
    const user = await loggedInBefore('ivy');
    expect((await user.get(`${follower.url}/session`)).body).toMatchObject({ user: { name: 'ivy' }, cart: '3' });
    expect((await user.post(`${follower.url}/keys/cart?value=5`)).status).toBe(200);
    expect((await user.get(`${old.url}/session`)).body).toMatchObject({ user: { name: 'ivy' }, cart: '5' });
    const fresh = new HttpClient(follower.url);
    expect((await fresh.post(`${follower.url}/login?user=jo`)).status).toBe(200);
    expect(await me(fresh, old)).toBe(200);

    // Step 2: moving replicas beside the following one (the old one is gone).
    expect((await user.get(`${replicas[0]!.url}/session`)).body).toMatchObject({ user: { name: 'ivy' }, cart: '5' });
    expect((await user.post(`${follower.url}/keys/cart?value=6`)).status).toBe(200);
    expect((await user.get(`${replicas[1]!.url}/session`)).body).toMatchObject({ user: { name: 'ivy' }, cart: '6' });
    for (const app of [replicas[0]!, follower, replicas[1]!]) expect(await me(fresh, app)).toBe(200);
    const cookie = await fresh.jar.getCookieString(follower.url);
    expect((await fresh.post(`${follower.url}/logout`)).status).toBe(204);
    for (const app of [replicas[0]!, replicas[1]!, follower, old]) expect((await fresh.get(`${app.url}/me`, { cookies: false, headers: { cookie } })).status).toBe(401);
  });

  it('a logout that lands on the old replica after the move (it deletes the stub) ends the session on the new ones too', async () => {
    const user = await loggedInBefore('bea');
    expect(await me(user, replicas[0]!)).toBe(200);
    const cookie = await user.jar.getCookieString(old.url);

    expect((await user.post(`${old.url}/logout`)).status).toBe(204);

    for (const app of [replicas[0]!, replicas[1]!]) expect((await user.get(`${app.url}/me`, { cookies: false, headers: { cookie } })).status).toBe(401);
  });

  it('"log out everywhere" on a new replica ends the sessions of the user not moved yet', async () => {
    const laptop = await loggedInBefore('eve');
    const phone = await loggedInBefore('eve');
    const others = await loggedInBefore('frank');
    expect(await me(laptop, replicas[0]!)).toBe(200);

    expect((await laptop.post(`${replicas[0]!.url}/logout-everywhere?others=1`)).body).toEqual({ ended: 0 });

    expect(await me(phone, replicas[1]!)).toBe(401);
    expect(await me(phone, old)).toBe(401);
    expect(await me(laptop, replicas[1]!)).toBe(200);
    expect(await me(others, replicas[1]!)).toBe(200);
  });

  it('50 first requests of one session at once, over two new replicas, each setting a key: all answered, none lost', async () => {
    const user = await loggedInBefore('gus');
    const cookie = await user.jar.getCookieString(old.url);

    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, index) => user.post(`${replicas[index % 2]!.url}/keys/k${index}?value=${index}`, undefined, { cookies: false, headers: { cookie } })),
    );

    expect(answers.map((answer) => answer.status)).toEqual(Array(50).fill(200));
    const stored = (await user.get(`${replicas[1]!.url}/session`)).body as Record<string, unknown>;
    const lost = Array.from({ length: 50 }, (_, index) => `k${index}`).filter((key) => stored[key] === undefined);
    console.info(`moving from ${previous.name}: ${lost.length} of 50 concurrent updates lost`);
    expect(lost).toEqual([]);
    expect(stored).toMatchObject({ user: { name: 'gus' }, cart: '3' });
  });

  it('the previous store stalled: a session not moved yet, or moved during the rollout, gets a 503 with Retry-After within the timeout, never a logout; once it answers, the user is there', async () => {
    const moved = await loggedInBefore('hal');
    expect(await me(moved, replicas[0]!)).toBe(200);
    const waiting = await loggedInBefore('ivy');

    await previous.stall();
    let answer;
    let movedAnswer;
    const started = Date.now();
    try {
      answer = await waiting.get(`${replicas[0]!.url}/me`);
      // Moved a moment ago: during the rollout its reads look at the previous store too (an old replica's logout).
      movedAnswer = await moved.get(`${replicas[0]!.url}/me`);
    } finally {
      await previous.pass();
    }
    const ms = (Date.now() - started) / 2;

    console.info(`${previous.name} stalled: answered ${answer.status} in ${ms} ms`);
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('1');
    expect(movedAnswer.status).toBe(503);
    expect(ms).toBeLessThan(4000);
    expect(await me(waiting, replicas[1]!)).toBe(200);
    expect(await me(moved, replicas[1]!)).toBe(200);
  });
});

/**
 * An express-session app with a sliding idle timeout (`rolling: true, resave: false`): express-session keeps an
 * active user's unchanged session alive with `store.touch`, which in connect-redis (and connect-dynamodb) moves only
 * that store's expiry, never the cookie stored inside the session, whose `expires` goes stale. Found by a review.
 */
(redisRunsPossible('moving a sliding session from connect-redis') ? describe : describe.skip)('moving an express-session app with rolling: true from connect-redis', () => {
  const redis = previousAndKuraOnRedis();
  let client: PreviousAndKura['previousClient'];
  let old: RunningApp;
  let fresh: RunningApp;
  const sliding = { rolling: true, cookie: { maxAge: 2000, httpOnly: true, sameSite: 'lax' as const, secure: false } };
  beforeAll(async () => {
    client = redis.previousClient;
    old = await listen(redis.previous, undefined, sliding);
    fresh = await listen(new KuraStore({ adapter: redis.adapter, migrateFrom: { store: redis.previous } }), undefined, sliding);
  });
  afterAll(() => Promise.all([old, fresh].filter(Boolean).map((app) => app.close())));

  it('an active user (idle timeout 2 s, a request every 0.6 s for 3 s) is still logged in after the switch', async () => {
    const user = new HttpClient(old.url);
    expect((await user.post(`${old.url}/login?user=ada`)).status).toBe(200);
    for (let i = 0; i < 5; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect((await user.get(`${old.url}/me`)).status).toBe(200);
    }
    const [key] = await client.keys('sess:*');
    const stored = JSON.parse((await client.get(key!))!) as { cookie: { expires: string } };
    expect(Date.parse(stored.cookie.expires)).toBeLessThan(Date.now()); // stale inside; connect-redis's TTL is not
    expect(await client.pTTL(key!)).toBeGreaterThan(0);

    expect((await user.get(`${fresh.url}/me`)).status).toBe(200);
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The stub must last the rollout: a stub gone from the previous store then reads as an old replica's logout. Three
 * ways it went early, found by a second review (each logged an active user out on the new replicas): express-session
 * on an old replica touching it (its expiry reset to the cookie's maxAge), @fastify/session saving it on every
 * request, and connect-redis with a fixed ttl and browser-session cookies. Idle timeouts of 2 s stand for 30 minutes.
 */
(redisRunsPossible('the stub lasting the rollout') ? describe : describe.skip)('moving from connect-redis: the stub lasts the rollout, whatever old replicas do with it', () => {
  const redis = previousAndKuraOnRedis();
  let client: PreviousAndKura['previousClient'];
  const apps: RunningApp[] = [];
  beforeAll(() => void (client = redis.previousClient));
  afterAll(() => Promise.all(apps.map((app) => app.close())));
  const kura = () => new KuraStore({ adapter: redis.adapter, migrateFrom: { store: redis.previous } });
  /** An active user on the new replica: a request every 0.5 s for `ms`; the statuses. */
  const activeOn = async (user: HttpClient, app: RunningApp, ms: number) => {
    const statuses: number[] = [];
    for (let waited = 0; waited < ms; waited += 500) {
      await sleep(500);
      statuses.push((await user.get(`${app.url}/me`)).status);
    }
    return statuses;
  };

  it('express-session (rolling, idle timeout 2 s): a request on an old replica after the move touches the stub; the user, active on a new replica, stays logged in', async () => {
    const settings = { rolling: true, cookie: { maxAge: 2000, httpOnly: true, sameSite: 'lax' as const, secure: false } };
    const old = await listen(new RedisStore({ client }), undefined, settings);
    const fresh = await listen(kura(), undefined, settings);
    apps.push(old, fresh);
    const user = new HttpClient(old.url);
    expect((await user.post(`${old.url}/login?user=ada`)).status).toBe(200);
    expect((await user.get(`${fresh.url}/me`)).status).toBe(200); // moved; stub lasts rollout + 60 s
    // The load balancer sends one request to an old replica: it sees the stub (401) and express-session touches it.
    expect((await user.get(`${old.url}/me`)).status).toBe(401);
    const [key] = await client.keys('sess:*');
    expect(await client.pTTL(key!)).toBeGreaterThan(3_600_000); // the rollout, and then some

    expect(await activeOn(user, fresh, 3500)).toEqual(Array(7).fill(200));
  });

  it('@fastify/session (its default rolling: a save on every request) on an old replica rewrites the stub; the user, active on a new replica, stays logged in', async () => {
    const old = await fastifyApp(new RedisStore({ client }), { maxAge: 2000 });
    const fresh = await fastifyApp(kura(), { maxAge: 2000 });
    apps.push(old, fresh);
    const user = new HttpClient(old.url);
    expect((await user.post(`${old.url}/login?user=bob`)).status).toBe(200);
    expect((await user.get(`${fresh.url}/me`)).status).toBe(200);
    expect((await user.get(`${old.url}/me`)).status).toBe(401);

    expect(await activeOn(user, fresh, 3500)).toEqual(Array(7).fill(200));
  });

  it('connect-redis with a fixed ttl (2 s) and browser-session cookies (express-session\'s default): the stub outlives the ttl; the user stays logged in', async () => {
    const settings = { cookie: { httpOnly: true, sameSite: 'lax' as const, secure: false } };
    const old = await listen(new RedisStore({ client, ttl: 2 }), undefined, settings);
    const fresh = await listen(new KuraStore({ adapter: redis.adapter, migrateFrom: { store: new RedisStore({ client, ttl: 2 }) } }), undefined, settings);
    apps.push(old, fresh);
    const user = new HttpClient(old.url);
    expect((await user.post(`${old.url}/login?user=cy`)).status).toBe(200);
    expect((await user.get(`${fresh.url}/me`)).status).toBe(200);

    expect(await activeOn(user, fresh, 3500)).toEqual(Array(7).fill(200));
  });
});
