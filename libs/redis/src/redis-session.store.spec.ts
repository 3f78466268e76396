import { jest } from '@jest/globals';
import { StoreUnavailableError } from '@kura/common';
import { generateSessionToken, type SessionRecord, resolveSessionSettings, SessionCache, SessionDataService, SessionService, sessionIdOf } from '@kura/session';
import { redisServerMissing, settledWhilePaused, startRedisServer, type RedisServer } from '../../../test/support/redis-server.js';
import { createRedisClient } from './redis-client.js';
import { redisServerWithClient } from '../../../test/support/redis-fixture.js';
import { idOfKey, redisKeys } from './redis-keys.js';
import type { RedisCommander } from './redis-script.js';
import { RedisSessionDataStore } from './redis-session-data.store.js';
import { RedisSessionStore } from './redis-session.store.js';
import { RedisLoginAttemptStore } from './redis-login-attempt.store.js';
import { RedisUserStore } from './redis-user.store.js';

describe('redisKeys', () => {
  it('tags each key with its whole id, whatever braces the id holds, and reads the id back', () => {
    const keys = redisKeys('app:');
    expect(keys.session('abc')).toBe('app:session:{abc}');
    expect(keys.register('u{1}%')).toBe('app:register:{u%7B1%7D%25}');
    for (const id of ['abc', 'u{1}%', '%7B', '}{']) expect(idOfKey(keys.session(id))).toBe(id);
  });

  it('refuses a prefix with a brace, which would move every key of a Redis Cluster to one slot or split a session from its data', () => {
    for (const prefix of ['tenant{a}:', 'kura{', '}']) expect(() => redisKeys(prefix)).toThrow(/may not contain \{ or \}/);
  });

  it('escapes glob characters of the prefix in the removeAll pattern', () => {
    expect(redisKeys('a*[b]:').pattern('session')).toBe('a\\*\\[b\\]:session:*');
  });
});

const missing = redisServerMissing();
if (missing) console.warn(`SKIPPING the Redis outage tests: ${missing}`);

(missing ? describe.skip : describe)('RedisSessionStore when Redis fails', () => {
  let server: RedisServer;
  beforeEach(async () => {
    server = await startRedisServer();
  });
  afterEach(async () => {
    await server.stop();
  });

  const id = () => sessionIdOf(generateSessionToken());

  it('fails at once with StoreUnavailableError, never "absent", when Redis went away (no offline queue)', async () => {
    const client = await createRedisClient({ url: server.url });
    await client.connect();
    const store = new RedisSessionStore(client);
    await store.ping();
    await server.stop();
    // The client notices the closed socket and starts reconnecting in the background.
    await new Promise((resolve) => setTimeout(resolve, 100));

    const started = Date.now();
    const failure = await store.find(id(), Date.now()).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(StoreUnavailableError);
    expect((failure as StoreUnavailableError).operation).toBe('session.find');
    expect((failure as StoreUnavailableError).reason).toMatch(/not connected/);
    expect(Date.now() - started).toBeLessThan(500);
    client.destroy();
  });

  it("answers an ending that landed even when leaving the user's listing index fails (on a Cluster, another master): a listing drops it later", async () => {
    // An outside review (2026-12-07): with the user's master paused, revoking one's own session answered 503 though
    // it had ended, and the retry met a 401. Here the index's master "fails" for every ZREM the ending sends.
    const client = await createRedisClient({ url: server.url });
    await client.connect();
    const refusingZrem: RedisCommander = { ...client, sendCommand: (args: string[]) => (args[0] === 'ZREM' ? Promise.reject(new Error('Connection is closed.')) : client.sendCommand(args)) } as RedisCommander;
    try {
      const store = new RedisSessionStore(refusingZrem);
      const now = Date.now();
      const user = { id: `zrem-${now}`, name: null };
      const sessionId = id();
      await store.insert({ id: sessionId, user, createdAt: now, lastSeenAt: now, idleExpiresAt: now + 60_000, absoluteExpiresAt: now + 600_000 });

      await expect(store.end(sessionId, now)).resolves.toEqual({ userId: user.id, live: true });
      expect(await store.find(sessionId, now)).toBeUndefined();
      const index = redisKeys().sessionsOf(user.id);
      expect(await client.sendCommand(['ZRANGE', index, '0', '-1'])).toEqual([sessionId]);
      expect(await new RedisSessionStore(client).listOfUser(user.id, now, 10)).toEqual([]);
      expect(await client.sendCommand(['ZRANGE', index, '0', '-1'])).toEqual([]);
    } finally {
      client.destroy();
    }
  });

  it('fails within the command timeout when Redis stops answering', async () => {
    const client = await createRedisClient({ url: server.url });
    await client.connect();
    const store = new RedisSessionStore(client, { commandTimeoutMs: 300 });

    const { outcome, ms } = await settledWhilePaused(server, () => store.end(id(), Date.now()));
    client.destroy();

    expect(outcome).toBeInstanceOf(StoreUnavailableError);
    expect((outcome as StoreUnavailableError).reason).toMatch(/command timeout/);
    // Its own deadline ended it (the reason says so), not Redis; ten deadlines, for a loaded machine's timers.
    expect(ms).toBeLessThan(3000);
  });

  // The review of 2026-12-05: a logout whose ending Redis made after the request's deadline (a slow master; a WAIT
  // that times out does the same) answered 503 before deleting the data, and the client's retry, a new call, took
  // the tombstone for someone else's ending: the data outlived the logout until its own expiry.
  it("deletes the session's data when a logout that answered 503 after its ending landed is sent again", async () => {
    const client = await createRedisClient({ url: server.url });
    await client.connect();
    const settings = resolveSessionSettings({ store: new RedisSessionStore(client, { commandTimeoutMs: 100 }), dataStore: new RedisSessionDataStore(client, { commandTimeoutMs: 100 }) });
    const sessions = new SessionService(settings, new SessionCache(settings));
    await sessions.revoke((await sessions.create({ id: 'warm', name: null })).token); // Redis knows the scripts
    const issued = await sessions.create({ id: 'leaving', name: null });
    await new SessionDataService(settings).patch(issued.record, { address: '1 Main St' });
    const dataKey = redisKeys('kura:').data(issued.record.id);
    const pausing = await createRedisClient({ url: server.url });
    await pausing.connect();

    // Redis holds writes for 300 ms: the ending is made there after the request gave up at its 100 ms deadline.
    await pausing.sendCommand(['CLIENT', 'PAUSE', '300', 'WRITE']);
    const first = await sessions.revoke(issued.token).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 400));
    pausing.destroy();
    const landed = await client.sendCommand(['HEXISTS', redisKeys('kura:').session(issued.record.id), 'endedAt']);
    await sessions.revoke(issued.token);
    const left = await client.sendCommand(['EXISTS', dataKey]);
    client.destroy();

    expect(first).toBeInstanceOf(StoreUnavailableError);
    expect(landed).toBe(1);
    expect(left).toBe(0);
  });
});

(missing ? describe.skip : describe)('RedisSessionStore.ping: whether Redis can be trusted with accounts and sessions', () => {
  const servers: RedisServer[] = [];
  const clients: { destroy(): void }[] = [];
  afterEach(async () => {
    clients.splice(0).forEach((client) => client.destroy());
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });
  const storeOn = async (options: Parameters<typeof startRedisServer>[0] = {}) => {
    const server = await startRedisServer(options);
    servers.push(server);
    const client = await createRedisClient({ url: server.url });
    await client.connect();
    clients.push(client);
    return { server, store: new RedisSessionStore(client) };
  };
  const reasonOf = (store: RedisSessionStore) =>
    store.ping().then(
      () => undefined,
      (error: unknown) => (error instanceof StoreUnavailableError ? error.reason : error),
    );

  it('answers for a master with a policy that evicts nothing Kura keeps without expiry', async () => {
    const { store } = await storeOn({ args: ['--maxmemory-policy', 'volatile-lru'] });

    expect(await reasonOf(store)).toBeUndefined();
  });

  it('keeps every session it can still find in its user\'s register when a volatile-* policy evicts to make room (else log out everywhere and a password change missed it)', async () => {
    // volatile-lru (ElastiCache's default) evicts, of the keys with an expiry, the least recently used: a register is
    // read only by revocations, a session on every request. 64 samples: nearly the whole keyspace here.
    const { server, store } = await storeOn({ args: ['--maxmemory-policy', 'volatile-lru', '--maxmemory-samples', '64'] });
    const client = await createRedisClient({ url: server.url });
    await client.connect();
    clients.push(client);
    const HOUR = 3_600_000;
    const now = Date.now();
    const user = { id: 'evicted-user', name: null };
    const id = sessionIdOf(generateSessionToken());
    await store.insert({ id, user, createdAt: now, lastSeenAt: now, idleExpiresAt: now + HOUR, absoluteExpiresAt: now + 8 * HOUR });
    await store.register(user.id, { id, absoluteExpiresAt: now + 8 * HOUR, credentialVersion: 0 }, now);
    // Redis's LRU clock counts whole seconds: the register is now the least recently used.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    // Memory pressure: a little room, then day-long keys (and the user's requests) until Redis has evicted ours.
    const used = Number(/^used_memory:(\d+)/m.exec(String(await client.sendCommand(['INFO', 'memory'])))?.[1]);
    await client.sendCommand(['CONFIG', 'SET', 'maxmemory', String(used + 512 * 1024)]);
    const keys = redisKeys();
    const bothThere = async () => Number(await client.sendCommand(['EXISTS', keys.session(id), keys.register(user.id)])) === 2;
    for (let n = 0; n < 4000 && (await bothThere()); n += 1) {
      await client.sendCommand(['SET', `filler:${n}`, 'x'.repeat(4096), 'EX', '86400']);
      if (n % 10 === 0) await store.find(id, now);
    }

    const found = await store.find(id, now);
    const registered = (await store.registered(user.id)).map((entry) => entry.id);

    // Evicted, the session is logged out (a 401): safe. Found, it must be in the register revocation reads.
    expect(found === undefined || registered.includes(id)).toBe(true);
  });

  it('refuses an allkeys-* eviction policy, which could evict accounts', async () => {
    const { store } = await storeOn({ args: ['--maxmemory-policy', 'allkeys-lru'] });

    expect(await reasonOf(store)).toMatch(/^Redis's maxmemory-policy is allkeys-lru, which may evict accounts and sessions/);
  });

  // Only readiness refused one: a process that served all the same (one `npm start`, Lambda, a replica ready before the
  // policy was set) acknowledged 300 registrations of which Redis then evicted 295 (an outside review, 2026-12-06).
  it('refuses every call of every store on the connection under an allkeys-* policy, and serves once it is noeviction, without a restart', async () => {
    const { server, store } = await storeOn({ args: ['--maxmemory-policy', 'allkeys-lru'] });
    const client = clients.at(-1) as unknown as RedisCommander;
    const users = new RedisUserStore(client);
    const attempts = new RedisLoginAttemptStore(client);
    const user = { id: 'u-1', email: 'ada@example.com', passwordHash: 'hash', name: null, createdAt: 0 };
    const refusals = await Promise.allSettled([users.insert(user), attempts.reserve('k', 'a', 10, Date.now() + 60_000), store.find(sessionIdOf(generateSessionToken()), Date.now())]);

    for (const refusal of refusals) {
      expect(refusal.status).toBe('rejected');
      expect(((refusal as PromiseRejectedResult).reason as StoreUnavailableError).reason).toMatch(/^Redis's maxmemory-policy is allkeys-lru, which may evict accounts/);
    }
    const operator = await createRedisClient({ url: server.url });
    await operator.connect();
    clients.push(operator);
    expect(await operator.sendCommand(['DBSIZE'])).toBe(0);
    await operator.sendCommand(['CONFIG', 'SET', 'maxmemory-policy', 'noeviction']);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the policy is read again at most every second

    await expect(users.insert(user)).rejects.toThrow(); // read again, not yet answered: refused once more
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(users.insert(user)).resolves.toBeUndefined();
    expect(await users.findByEmail('ada@example.com')).toMatchObject({ id: 'u-1' });
  });

  // The stores read the policy at their first call only: an outside review had a registration answered 201 after
  // `CONFIG SET maxmemory-policy allkeys-lru` on a running process, readiness aside. The probe's INFO now tells them.
  it('refuses every call from the first readiness check after an allkeys-* policy is set on a running process', async () => {
    const { server, store } = await storeOn();
    const users = new RedisUserStore(clients.at(-1) as unknown as RedisCommander);
    const user = (n: number) => ({ id: `u-${n}`, email: `user${n}@example.com`, passwordHash: 'hash', name: null, createdAt: 0 });
    await users.insert(user(1));
    expect(await reasonOf(store)).toBeUndefined();
    const operator = await createRedisClient({ url: server.url });
    await operator.connect();
    clients.push(operator);

    const keys = await operator.sendCommand(['DBSIZE']);
    await operator.sendCommand(['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lfu']);
    expect(await reasonOf(store)).toMatch(/^Redis's maxmemory-policy is allkeys-lfu/);

    const refused = await users.insert(user(2)).then(() => undefined, (error: unknown) => error);
    expect(refused).toBeInstanceOf(StoreUnavailableError);
    expect((refused as StoreUnavailableError).reason).toMatch(/^Redis's maxmemory-policy is allkeys-lfu, which may evict accounts/);
    expect(await operator.sendCommand(['DBSIZE'])).toBe(keys);
  });

  it('reads the policy again every 10 s of calls, and refuses from then on an allkeys-* policy set on a running process', async () => {
    const { server } = await storeOn();
    const users = new RedisUserStore(clients.at(-1) as unknown as RedisCommander);
    const user = (n: number) => ({ id: `u-${n}`, email: `user${n}@example.com`, passwordHash: 'hash', name: null, createdAt: 0 });
    await users.insert(user(1));
    const operator = await createRedisClient({ url: server.url });
    await operator.connect();
    clients.push(operator);
    await operator.sendCommand(['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru']);
    const now = performance.now.bind(performance);
    const later = jest.spyOn(performance, 'now').mockImplementation(() => now() + 10_001);

    try {
      await users.insert(user(2)); // the call that finds the reading due goes on; the reading is made beside it
      await new Promise((resolve) => setTimeout(resolve, 100));
      const keys = await operator.sendCommand(['DBSIZE']);

      await expect(users.insert(user(3))).rejects.toMatchObject({ reason: expect.stringMatching(/^Redis's maxmemory-policy is allkeys-lru, which may evict accounts/) });
      expect(await operator.sendCommand(['DBSIZE'])).toBe(keys);
    } finally {
      later.mockRestore();
    }
  });

  it('refuses a replica, which would answer every read and refuse every login and logout', async () => {
    const { server: master } = await storeOn();
    const { store: onReplica } = await storeOn({ args: ['--replicaof', '127.0.0.1', String(master.port)] });

    expect(await reasonOf(onReplica)).toMatch(/^Redis answered from a replica, which refuses every write \(READONLY\): point the URL at the master/);
  });
});

(missing ? describe.skip : describe)('RedisSessionStore keys', () => {
  const redis = redisServerWithClient();

  const HOUR = 3_600_000;
  const expireTime = async (key: string) => Number(await redis.client.sendCommand(['PEXPIRETIME', key]));

  it('lets Redis free the keys it writes (sessions a while after expiry, tombstones keep that) but a register, which no eviction may take', async () => {
    const store = new RedisSessionStore(redis.client, { retainExpiredMs: HOUR });
    const keys = redisKeys();
    const now = Date.now();
    const id = sessionIdOf(generateSessionToken());
    const user = { id: 'keys-user', name: null };
    await store.insert({ id, user, createdAt: now, lastSeenAt: now, idleExpiresAt: now + HOUR / 2, absoluteExpiresAt: now + 8 * HOUR });

    expect(await expireTime(keys.session(id))).toBe(now + HOUR / 2 + HOUR);
    expect(await expireTime(keys.sessionsOf(user.id))).toBe(now + 8 * HOUR);

    await store.end(id, now);
    expect(await expireTime(keys.session(id))).toBe(now + HOUR / 2 + HOUR);
    const tombstone = Object.fromEntries(((await redis.client.sendCommand(['HGETALL', keys.session(id)])) as string[]).flatMap((value, index, all) => (index % 2 === 0 ? [[value, all[index + 1]]] : [])));
    expect(Object.keys(tombstone).sort()).toEqual(['absoluteExpiresAt', 'endedAt', 'endedBy', 'idleExpiresAt', 'userId']);
    expect(tombstone).toMatchObject({ userId: user.id, endedAt: String(now) });

    // A register written with an expiry by an earlier version loses it at the next login.
    await redis.client.sendCommand(['HSET', keys.register(user.id), 'cv', '0']);
    await redis.client.sendCommand(['PEXPIREAT', keys.register(user.id), String(now + 8 * HOUR)]);
    await store.register(user.id, { id: 'a', absoluteExpiresAt: now + 8 * HOUR, credentialVersion: 0 }, now);
    expect(await expireTime(keys.register(user.id))).toBe(-1);
    await store.register(user.id, { id: 'b', absoluteExpiresAt: now + 2 * HOUR, credentialVersion: 0 }, now);
    expect(await expireTime(keys.register(user.id))).toBe(-1);
  });
});

// Session 42's review: entries stay until their absolute expiry unless their session is logged out, and the Redis
// register, unlike DynamoDB's, was never pruned: a client logging in every few seconds grew it by thousands, each
// login's script returning it whole.
(missing ? describe.skip : describe)("RedisSessionStore: a user's register past a thousand entries", () => {
  const redis = redisServerWithClient();
  const HOUR = 3_600_000;

  it('drops the entries of sessions that are over every hundredth login, ending the idle ones still there and keeping every one that may be live', async () => {
    const store = new RedisSessionStore(redis.client, { retainExpiredMs: HOUR });
    const keys = redisKeys();
    const user = { id: `busy-${Date.now()}`, name: null };
    const now = Date.now();
    const session = (overrides: Partial<SessionRecord> = {}): SessionRecord => ({
      id: sessionIdOf(generateSessionToken()), user, createdAt: now - HOUR, lastSeenAt: now - HOUR, idleExpiresAt: now + HOUR, absoluteExpiresAt: now + 8 * HOUR, ...overrides,
    });
    const live = session();
    const ended = session();
    // Past its idle expiry, its hash kept a while longer: a use that read it in time could still extend it.
    const idle = session({ idleExpiresAt: now - 60_000 });
    for (const record of [live, ended, idle]) await store.insert(record);
    await store.end(ended.id, now);
    const entry = (record: SessionRecord) => ({ id: record.id, absoluteExpiresAt: record.absoluteExpiresAt, credentialVersion: 0 });
    // 995 sessions whose hashes Redis let go (expired long before their absolute expiry), one past its absolute expiry.
    const gone = Array.from({ length: 995 }, () => `s:${sessionIdOf(generateSessionToken())}`);
    const fields = [...gone.flatMap((field) => [field, `${now + HOUR}:0`]), `s:${sessionIdOf(generateSessionToken())}`, `${now - 1}:0`];
    for (let start = 0; start < fields.length; start += 200) await redis.client.sendCommand(['HSET', keys.register(user.id), ...fields.slice(start, start + 200)]);
    for (const record of [live, ended, idle]) await redis.client.sendCommand(['HSET', keys.register(user.id), `s:${record.id}`, `${record.absoluteExpiresAt}:0`]);
    const login = session({ createdAt: now });
    await store.insert(login);

    // Its entry is the thousandth.
    const outcome = await store.register(user.id, entry(login), now);

    expect(outcome).toMatchObject({ outcome: 'registered' });
    expect((await store.registered(user.id)).map((registered) => registered.id).sort()).toEqual([live.id, login.id].sort());
    expect(await store.find(live.id, now)).toEqual(live);
    // The idle one is ended, not only unregistered: a tombstone, which no late extension brings back.
    expect(await redis.client.sendCommand(['HMGET', keys.session(idle.id), 'createdAt', 'endedAt'])).toEqual([null, String(now)]);

    // Below the next hundred, a login reads nothing more: one entry is added, the rest left as they are.
    const next = session({ createdAt: now });
    await store.insert(next);
    await store.register(user.id, entry(next), now);
    expect(await store.registered(user.id)).toHaveLength(3);
  }, 60_000);

  it('registers a login all the same when the store fails its prune (upkeep, done at a later hundredth)', async () => {
    // The prune's reads fail (HMGET refused as by a node going away); every other command reaches the real server.
    const failingReads: RedisCommander = {
      sendCommand: (args) => (args[0] === 'HMGET' ? Promise.reject(new Error('Connection is closed.')) : redis.client.sendCommand(args)),
    };
    const store = new RedisSessionStore(failingReads, { retainExpiredMs: HOUR });
    const keys = redisKeys();
    const user = { id: `busy-failing-${Date.now()}`, name: null };
    const now = Date.now();
    const fields = Array.from({ length: 999 }, () => [`s:${sessionIdOf(generateSessionToken())}`, `${now + HOUR}:0`]).flat();
    for (let start = 0; start < fields.length; start += 200) await redis.client.sendCommand(['HSET', keys.register(user.id), ...fields.slice(start, start + 200)]);
    const login: SessionRecord = { id: sessionIdOf(generateSessionToken()), user, createdAt: now, lastSeenAt: now, idleExpiresAt: now + HOUR, absoluteExpiresAt: now + 8 * HOUR };
    await store.insert(login);

    await expect(store.register(user.id, { id: login.id, absoluteExpiresAt: login.absoluteExpiresAt, credentialVersion: 0 }, now)).resolves.toMatchObject({ outcome: 'registered' });
    expect(await store.registered(user.id)).toHaveLength(1000);
  }, 60_000);
});

// The review of 2026-12-05: the listing paged by rank, so a login or an ending on another device between two pages
// listed a session twice or skipped a live one. It pages by score now.
(missing ? describe.skip : describe)('RedisSessionStore.listOfUser while another device logs in or out', () => {
  const fixture = redisServerWithClient();
  const HOUR = 3_600_000;
  const MINUTE = 60_000;

  const session = (userId: string, createdAt: number, now: number, live = true): SessionRecord => ({
    id: sessionIdOf(generateSessionToken()),
    user: { id: userId, email: 'ada@example.com', name: 'Ada' },
    createdAt,
    lastSeenAt: createdAt,
    // Idle-expired but still stored (Redis keeps it a while): in the index, skipped by the listing, so a second page is read.
    idleExpiresAt: live ? now + HOUR : now - MINUTE,
    absoluteExpiresAt: now + 8 * HOUR,
  });

  /** A commander that lets `between` run once, after the first page was read, before the second is asked for. */
  const betweenPages = (redis: RedisCommander, between: () => Promise<unknown>): RedisCommander => {
    let pages = 0;
    return {
      async sendCommand(args) {
        // A page of the index (ZREVRANGE, by rank, before the review; ZRANGE … BYSCORE since).
        if ((args[0] === 'ZRANGE' || args[0] === 'ZREVRANGE') && (pages += 1) === 2) await between();
        return redis.sendCommand(args);
      },
    };
  };

  /** Newest first: s5 live, s4 idle-expired (still stored), s3, s2, s1 live. */
  async function fiveSessions(userId: string, now: number) {
    const store = new RedisSessionStore(fixture.client);
    const [s1, s2, s3, s4, s5] = [50, 40, 30, 20, 10].map((minutes, index) => session(userId, now - minutes * MINUTE, now, index !== 3)) as [SessionRecord, SessionRecord, SessionRecord, SessionRecord, SessionRecord];
    for (const record of [s1, s2, s3, s4, s5]) await store.insert(record);
    return { store, s1, s2, s3, s5 };
  }

  it('skips no session that stayed live throughout when another device logs out between two pages', async () => {
    const now = Date.now();
    const userId = `list-end-${now}`;
    const { store, s2, s3, s5 } = await fiveSessions(userId, now);
    const listing = new RedisSessionStore(betweenPages(fixture.client, () => store.end(s5.id, Date.now())));

    const listed = (await listing.listOfUser(userId, now, 3)).map((record) => record.id);

    expect(listed).toEqual([s5.id, s3.id, s2.id]);
  });

  it('lists no session twice when another device logs in between two pages', async () => {
    const now = Date.now();
    const userId = `list-login-${now}`;
    const { store, s2, s3, s5 } = await fiveSessions(userId, now);
    const listing = new RedisSessionStore(betweenPages(fixture.client, () => store.insert(session(userId, now, now))));

    const listed = (await listing.listOfUser(userId, now, 3)).map((record) => record.id);

    expect(listed).toEqual([s5.id, s3.id, s2.id]);
  });

  it('pages through sessions made in the same millisecond, each listed once', async () => {
    const now = Date.now();
    const userId = `list-ties-${now}`;
    const store = new RedisSessionStore(fixture.client);
    const sessions = Array.from({ length: 7 }, (_, index) => session(userId, now - MINUTE, now, index % 3 !== 0));
    for (const record of sessions) await store.insert(record);

    const listed = (await store.listOfUser(userId, now, 2)).map((record) => record.id);
    const all = (await store.listOfUser(userId, now, 10)).map((record) => record.id);

    expect(listed).toHaveLength(2);
    expect(new Set(all)).toEqual(new Set(sessions.filter((_, index) => index % 3 !== 0).map((record) => record.id)));
    expect(all).toHaveLength(4);
  });
});
