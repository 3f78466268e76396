import { StoreUnavailableError } from '@kura/common';
import { connectSession, connectSessionStoreContract, newConnectId } from '../../../test/contracts/connect-session-store.contract.js';
import { redisCommandCounter } from '../../../test/support/redis-command-counter.js';
import { redisServerWithClient } from '../../../test/support/redis-fixture.js';
import { redisServerMissing, settledWhilePaused, startRedisServer, type RedisServer } from '../../../test/support/redis-server.js';
import { createClient } from 'redis';
import { createRedisClient, type RedisClient } from './redis-client.js';
import { connectRedis } from './redis-connection.js';
import { masterWithLaggingReplica } from '../../../test/support/replication-link.js';
import type { RedisCommander } from './redis-script.js';
import { RedisConnectSessionStore } from './redis-connect-session.store.js';

const missing = redisServerMissing();
if (missing) console.warn(`SKIPPING RedisConnectSessionStore: ${missing}`);
const describeWithRedis = missing ? describe.skip : describe;

/** A client the test connects and destroys: node-redis's own, or the one createRedisClient makes. */
type Connectable = RedisCommander & { connect(): Promise<unknown>; destroy(): void };

/** The adapter on a redis-server of its own, through a client `connect` makes for its URL. */
async function onRedisServer(connect: (url: string) => Connectable | Promise<Connectable>) {
  const server = await startRedisServer();
  const client = await connect(server.url);
  await client.connect();
  return {
    sut: new RedisConnectSessionStore(client),
    close: async () => {
      client.destroy();
      await server.stop();
    },
  };
}

if (!missing) {
  connectSessionStoreContract('Redis (its own redis-server)', () => onRedisServer((url) => createRedisClient({ url })));
  // An app may hand the adapter a client of its own: node-redis v6's defaults speak RESP3 (maps, booleans).
  connectSessionStoreContract("Redis through an app's own client (node-redis's createClient defaults)", () =>
    onRedisServer((url) => createClient({ url }).on('error', () => undefined)),
  );
}

describeWithRedis('RedisConnectSessionStore on a real redis-server', () => {
  let server: RedisServer;
  let client: RedisClient;
  let sut: RedisConnectSessionStore;
  beforeAll(async () => {
    server = await startRedisServer();
    client = await createRedisClient({ url: server.url });
    await client.connect();
    sut = new RedisConnectSessionStore(client, { keyPrefix: 'app:' });
  });
  afterAll(async () => {
    client?.destroy();
    await server?.stop();
  });

  it('keeps a session as one hash under its hashed id, expiring (PEXPIREAT) when the session does', async () => {
    const id = newConnectId();
    const written = connectSession({ user: { name: 'ada' } });

    await sut.replace(id, written);

    const key = `app:connect:{${id}}`;
    expect(await client.sendCommand(['HGETALL', key])).toEqual([
      'gen', written.generation, 'exp', String(written.expiresAtMs), 'cookie', written.cookie, 'd:user', '{"name":"ada"}',
    ]);
    expect(Number(await client.sendCommand(['PEXPIRETIME', key]))).toBe(written.expiresAtMs);
  });

  it('moves the key\'s expiry with the session\'s', async () => {
    const id = newConnectId();
    const written = connectSession({});
    await sut.replace(id, written);
    const later = written.expiresAtMs + 60_000;

    await sut.update(id, written.generation, { set: new Map(), remove: [], cookie: written.cookie, expiresAtMs: later }, Date.now());

    expect(Number(await client.sendCommand(['PEXPIRETIME', `app:connect:{${id}}`]))).toBe(later);
  });

  it('keeps the expiry of an index of one member when that member is written again with an earlier end (a retry, a mark)', async () => {
    const user = newConnectId();
    const key = `app:connect-user:{${user}}`;
    const entry = { id: 'mark', addedAtMs: 0 };
    const end = Date.now() + 2 * 86_400_000;
    await sut.addToUserIndex(user, entry, end);

    await sut.addToUserIndex(user, entry, end - 86_400_000);

    expect(Number(await client.sendCommand(['PEXPIRETIME', key]))).toBe(end);
    expect(await sut.userIndex(user)).toEqual([entry]);
  });

  it('gives a user index (a set) the latest expiry it was asked for, or none once asked for none, while it holds entries', async () => {
    const user = newConnectId();
    const key = `app:connect-user:{${user}}`;
    const expiry = async () => Number(await client.sendCommand(['PEXPIRETIME', key]));
    const entry = (addedAtMs: number) => ({ id: newConnectId(), addedAtMs });
    const base = Date.now() + 3_600_000;

    await sut.addToUserIndex(user, entry(1), base);
    expect(await expiry()).toBe(base);
    await sut.addToUserIndex(user, entry(2), base - 60_000);
    expect(await expiry()).toBe(base);
    await sut.addToUserIndex(user, entry(3), base + 60_000);
    expect(await expiry()).toBe(base + 60_000);
    await sut.addToUserIndex(user, entry(4), undefined);
    expect(await expiry()).toBe(-1);
    await sut.addToUserIndex(user, entry(5), base + 120_000);
    expect(await expiry()).toBe(-1);
    expect(await client.sendCommand(['SCARD', key])).toBe(5);

    await sut.removeFromUserIndex(user, await sut.userIndex(user));
    expect(await expiry()).toBe(-2);
    await sut.addToUserIndex(user, entry(6), base);
    expect(await expiry()).toBe(base);
  });

  it('without waitForReplicas (no WAIT follows), writes nothing where it refuses: a save, a touch or a whole write landing on a logout or another generation, an index entry already there', async () => {
    // Redis's count of changes (dirty): writes of the same value count too. Nothing saves the RDB on a test server.
    const dirty = async () => Number(/rdb_changes_since_last_save:(\d+)/.exec(String(await client.sendCommand(['INFO', 'persistence'])))![1]);
    const [deleted, replaced] = [newConnectId(), newConnectId()];
    const first = connectSession({ user: 'ada' });
    await sut.replace(deleted, first);
    await sut.delete(deleted, Date.now());
    await sut.replace(replaced, first);
    await sut.replace(replaced, connectSession({ user: 'grace' }));
    const [user, entry, end] = [newConnectId(), { id: newConnectId(), addedAtMs: 1 }, Date.now() + 3_600_000];
    await sut.addToUserIndex(user, entry, end);
    const change = { set: new Map([['cart', '[]']]), remove: [], cookie: first.cookie, expiresAtMs: first.expiresAtMs };
    const before = await dirty();

    const refused = {
      saveOnLogout: await sut.update(deleted, first.generation, change, Date.now()),
      saveOnAnotherGeneration: await sut.update(replaced, first.generation, change, Date.now()),
      touchOnLogout: await sut.update(deleted, undefined, { ...change, set: new Map() }, Date.now()),
    };
    await sut.replace(deleted, connectSession({ user: 'ada' }));
    await sut.addToUserIndex(user, entry, end);
    const changes = (await dirty()) - before;

    expect(refused).toEqual({ saveOnLogout: false, saveOnAnotherGeneration: false, touchOnLogout: false });
    // Before 0cd63c4 none of these wrote; a write with no WAIT after it confirms nothing.
    expect(changes).toBe(0);
  });

  it('reads with one HGETALL and writes nothing; replaces, updates and deletes with one script each', async () => {
    const counter = await redisCommandCounter(server.url);
    try {
      const id = newConnectId();
      const written = connectSession({ user: 'ada' });
      // Each script once, so that Redis has them all (the first run of a script meets NOSCRIPT, then EVAL).
      const warm = newConnectId();
      const warmed = connectSession({});
      await sut.replace(warm, warmed);
      await sut.update(warm, warmed.generation, { set: new Map(), remove: [], cookie: warmed.cookie, expiresAtMs: warmed.expiresAtMs }, Date.now());
      await sut.delete(warm, Date.now());
      await counter.take();

      await sut.read(id, Date.now());
      expect(await counter.take()).toEqual({ commands: 1, writes: 0, byCommand: { hgetall: 1 } });
      await sut.replace(id, written);
      await sut.update(id, written.generation, { set: new Map([['a', '1']]), remove: [], cookie: written.cookie, expiresAtMs: written.expiresAtMs }, Date.now());
      // Redis counts the commands a script runs too: only EVALSHA is sent. Inside, a replace is HMGET (no deletion
      // mark, not this very write again), HKEYS (the fields to take out after writing: none for a new session),
      // one HSET and PEXPIREAT; a change of one key is HMGET, one HSET and PEXPIREAT. No DEL: a key deleted and
      // written again in one script fails halfway on the old owner of a moving Redis Cluster slot.
      expect((await counter.take()).byCommand).toEqual({ evalsha: 2, hkeys: 1, hset: 2, hmget: 2, pexpireat: 2 });
      // A deletion leaves a mark of one field until DELETED_SESSION_MARK_MS from now: HKEYS, HSET (the mark), HDEL
      // (every other field) and PEXPIREAT.
      await sut.delete(id, Date.now());
      expect((await counter.take()).byCommand).toEqual({ evalsha: 1, hkeys: 1, hset: 1, hdel: 1, pexpireat: 1 });
    } finally {
      await counter.close();
    }
  });
});

describeWithRedis('RedisConnectSessionStore when Redis fails', () => {
  let server: RedisServer;
  beforeEach(async () => {
    server = await startRedisServer();
  });
  afterEach(async () => {
    await server.stop();
  });

  it('fails at once with StoreUnavailableError, never "absent", when Redis went away', async () => {
    const client = await createRedisClient({ url: server.url });
    await client.connect();
    const sut = new RedisConnectSessionStore(client);
    await server.stop();
    await new Promise((resolve) => setTimeout(resolve, 100));

    const started = Date.now();
    const failures = await Promise.all([
      sut.read(newConnectId(), Date.now()).catch((error: unknown) => error),
      sut.replace(newConnectId(), connectSession({})).catch((error: unknown) => error),
      sut.update(newConnectId(), undefined, { set: new Map(), remove: [], cookie: undefined, expiresAtMs: Date.now() + 1000 }, Date.now()).catch((error: unknown) => error),
      sut.delete(newConnectId(), Date.now()).catch((error: unknown) => error),
    ]);

    expect(failures.map((failure) => failure instanceof StoreUnavailableError && failure.operation)).toEqual(['connect.get', 'connect.set', 'connect.touch', 'connect.destroy']);
    expect((failures[0] as StoreUnavailableError).reason).toMatch(/not connected/);
    expect(Date.now() - started).toBeLessThan(500);
    client.destroy();
  });

  it('fails within the command timeout when Redis stops answering', async () => {
    const client = await createRedisClient({ url: server.url });
    await client.connect();
    const sut = new RedisConnectSessionStore(client, { commandTimeoutMs: 300 });

    const { outcome, ms } = await settledWhilePaused(server, () => sut.read(newConnectId(), Date.now()));
    client.destroy();

    expect(outcome).toBeInstanceOf(StoreUnavailableError);
    expect((outcome as StoreUnavailableError).reason).toMatch(/timeout/);
    // Its own deadline ended it (the reason says so), not Redis: paused, Redis never answers. The bound is ten
    // deadlines, not one: a CI rehearsal on two loaded cores (2026-12-06) took 1068 ms to run the timer's callback.
    expect(ms).toBeLessThan(3000);
  });
});

describeWithRedis('RedisConnectSessionStore with a session of many keys', () => {
  const redis = redisServerWithClient();

  it('writes and changes 500 keys at once (in chunks far below Lua\'s stack limit), losing none', async () => {
    const sut = new RedisConnectSessionStore(redis.client);
    const id = newConnectId();
    const keys = Array.from({ length: 500 }, (_, index) => `key-${index}`);
    const written = connectSession(Object.fromEntries(keys.map((key) => [key, key])));
    await sut.replace(id, written);
    const set = new Map(keys.slice(0, 450).map((key) => [key, JSON.stringify(`${key}!`)]));
    const remove = keys.slice(450);

    expect(await sut.update(id, written.generation, { set, remove, cookie: undefined, expiresAtMs: written.expiresAtMs }, Date.now())).toBe(true);

    const read = await sut.read(id, Date.now());
    expect(read?.data).toEqual(set);
    expect(read?.cookie).toBeUndefined();
  });
});

describeWithRedis('RedisConnectSessionStore with waitForReplicas: a save whose cookie settings changed since its read', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  let onMaster: RedisClient;
  let onReplica: RedisClient;
  let sut: RedisConnectSessionStore;
  beforeAll(async () => {
    // In sync, its link never lagged here.
    const { master, replica } = await masterWithLaggingReplica('redis', cleanups);
    onMaster = await createRedisClient({ url: master.url });
    await onMaster.connect();
    onReplica = await createRedisClient({ url: replica.url });
    await onReplica.connect();
    const connection = connectRedis({ url: master.url, waitForReplicas: { replicas: 1, timeoutMs: 2000 } });
    await connection.open();
    cleanups.push(async () => {
      await connection.close();
      onMaster.destroy();
      onReplica.destroy();
    });
    sut = new RedisConnectSessionStore(connection);
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("writes its keys, confirmed on the replica, its token gone; the other request's cookie, settings, end and the key's expiry kept", async () => {
    const id = newConnectId();
    const key = `kura:connect:{${id}}`;
    const read = connectSession({}, { cookieSettings: 'a' });
    await sut.replace(id, read);
    // Another request shortened the session (a touch with replicas: its nearer end carries a token).
    const theirs = Date.now() + 600_000;
    expect(await sut.update(id, undefined, { set: new Map(), remove: [], cookie: '{"theirs":1}', cookieSettings: 'b', expiresAtMs: theirs }, Date.now())).toBe(true);
    const freed = Number(await onMaster.sendCommand(['PEXPIRETIME', key]));

    const mine = { set: new Map([['x', '1']]), remove: [], cookie: '{"mine":1}', cookieSettings: 'a', cookieSettingsRead: 'a', expiresAtMs: Date.now() + 7_200_000 };
    expect(await sut.update(id, read.generation, mine, Date.now())).toBe(true);

    const fields = async (client: RedisClient) => {
      const flat = (await client.sendCommand(['HGETALL', key])) as string[];
      return Object.fromEntries(Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]]));
    };
    // Acknowledged after WAIT: the replica has the key written.
    expect(await fields(onReplica)).toMatchObject({ 'd:x': '1', cookie: '{"theirs":1}', cs: 'b', exp: String(theirs) });
    const stored = await fields(onMaster);
    expect(stored).toMatchObject({ 'd:x': '1', cookie: '{"theirs":1}', cs: 'b', exp: String(theirs) });
    expect(stored.uc).toBeUndefined();
    expect(Number(await onMaster.sendCommand(['PEXPIRETIME', key]))).toBe(freed);
    expect(await sut.read(id, Date.now())).toMatchObject({ cookie: '{"theirs":1}', cookieSettings: 'b', expiresAtMs: theirs });
  });
});
