import { randomBytes } from 'node:crypto';
import { ManualClock } from '@kura/common';
import { createRedisClient, type RedisClient, RedisConnectSessionStore } from '@kura/redis';
import { redisServerMissing, type RedisServer, startRedisServer } from '../../../test/support/redis-server.js';
import { KuraStore } from './kura-store.js';
import { itemKeyOf } from './session-key.js';
import { MAX_SESSIONS_PER_USER, userIndexKeyOf } from './user-sessions.js';

/**
 * KuraStore's user index on a redis-server of its own, for what is quicker to show there than on DynamoDB Local
 * (kura-store.users.spec): the cap of a user's sessions, which takes a thousand logins.
 */
const missing = redisServerMissing();
if (missing) console.warn(`SKIPPING KuraStore's user index on Redis: ${missing}`);
const describeWithRedis = missing ? describe.skip : describe;
const MINUTE = 60_000;
const clock = new ManualClock(Date.now());
const userOf = (session: Record<string, unknown>) => session.user;
const newSid = () => randomBytes(18).toString('base64url');
const newUser = () => `user-${randomBytes(6).toString('hex')}`;
const sessionFor = (data: Record<string, unknown>, ms = 30 * MINUTE) => ({ cookie: { originalMaxAge: ms, expires: new Date(clock.now() + ms).toISOString(), path: '/' }, ...data });

describeWithRedis('KuraStore: every session of a user, on Redis', () => {
  let server: RedisServer;
  let client: RedisClient;
  let adapter: RedisConnectSessionStore;
  let sut: KuraStore;
  beforeAll(async () => {
    server = await startRedisServer();
    client = await createRedisClient({ url: server.url });
    await client.connect();
    adapter = new RedisConnectSessionStore(client);
    sut = new KuraStore({ adapter, clock, userOf });
  });
  afterAll(async () => {
    client?.destroy();
    await server?.stop();
  });

  it(`keeps at most ${MAX_SESSIONS_PER_USER} sessions of a user: a login past that ends the oldest`, async () => {
    const user = newUser();
    const sids: string[] = [];
    for (let start = 0; start < MAX_SESSIONS_PER_USER; start += 100) {
      const batch = Array.from({ length: 100 }, () => newSid());
      sids.push(...batch);
      await Promise.all(batch.map((sid) => sut.set(sid, sessionFor({ user }))));
      clock.advance(1); // each hundred logged in a millisecond after the one before
    }

    const latest = newSid();
    await sut.set(latest, sessionFor({ user }));

    const indexed = new Set((await adapter.userIndex(userIndexKeyOf(user))).map((entry) => entry.id));
    expect(indexed.size).toBe(MAX_SESSIONS_PER_USER);
    expect(indexed.has(itemKeyOf(latest))).toBe(true);
    const ended = (await Promise.all(sids.map((sid) => sut.get(sid)))).filter((session) => session === null);
    expect(ended).toHaveLength(1);
    expect(await sut.get(latest)).not.toBeNull();
    // The one ended was among the first hundred.
    expect((await Promise.all(sids.slice(0, 100).map((sid) => sut.get(sid)))).filter((session) => session === null)).toHaveLength(1);
  });
});
