import { KuraStore } from '@kura/connect';
import type { RunningApp } from './contracts/connect-app.suite.js';
import { fastifyApp } from './support/fastify-session-app.js';
import { HttpClient } from './support/http-client.js';
import { previousAndKuraOnRedis } from './support/previous-store-fixture.js';
import { redisRunsPossible } from './support/redis-server.js';

/**
 * `migrateFrom` with @fastify/session 11 (its defaults: rolling, a save on every request), an old replica on
 * connect-redis beside a new one on KuraStore, over real HTTP. (test/connect-migrate does it with express-session,
 * from connect-redis and connect-dynamodb.)
 */
const describeWithRedis = redisRunsPossible('@fastify/session moving from connect-redis') ? describe : describe.skip;

describeWithRedis('@fastify/session moving from connect-redis to KuraStore, during a rolling update', () => {
  const redis = previousAndKuraOnRedis();
  let old: RunningApp;
  let fresh: RunningApp;
  beforeAll(async () => {
    old = await fastifyApp(redis.previous);
    fresh = await fastifyApp(new KuraStore({ adapter: redis.adapter, userOf: (s) => (s.user as { name?: string } | undefined)?.name, migrateFrom: { store: redis.previous } }));
  });
  afterAll(() => Promise.all([old, fresh].filter(Boolean).map((app) => app.close())));

  it('a user logged in on the old replica is logged in on the new one with the same data; the old one sees a stub; changes and logout hold', async () => {
    const user = new HttpClient(old.url);
    expect((await user.post(`${old.url}/login?user=ada`)).status).toBe(200);
    expect((await user.post(`${old.url}/keys/cart?value=3`)).status).toBe(200);
    const cookieBefore = await user.jar.getCookieString(old.url);

    expect((await user.get(`${fresh.url}/me`)).status).toBe(200);
    expect((await user.get(`${fresh.url}/session`)).body).toMatchObject({ user: { name: 'ada' }, cart: '3' });
    expect((await user.get(`${old.url}/me`)).status).toBe(401);
    expect((await user.get(`${fresh.url}/me`)).status).toBe(200);
    expect((await user.post(`${fresh.url}/keys/cart?value=4`)).status).toBe(200);
    expect((await user.get(`${fresh.url}/session`)).body).toMatchObject({ user: { name: 'ada' }, cart: '4' });

    expect((await user.post(`${fresh.url}/logout`)).status).toBe(204);
    for (const app of [fresh, old]) expect((await user.get(`${app.url}/me`, { cookies: false, headers: { cookie: cookieBefore } })).status).toBe(401);
  });

  it('a logout that lands on the old replica after the move ends the session on the new one too', async () => {
    const user = new HttpClient(old.url);
    expect((await user.post(`${old.url}/login?user=bob`)).status).toBe(200);
    expect((await user.get(`${fresh.url}/me`)).status).toBe(200); // moved

    expect((await user.post(`${old.url}/logout`)).status).toBe(204);

    expect((await user.get(`${fresh.url}/me`)).status).toBe(401);
  });
});

describeWithRedis('@fastify/session: the two-step rollout (following replicas first, then moving ones) logs nobody out', () => {
  const redis = previousAndKuraOnRedis();
  const userOf = (s: Record<string, unknown>) => (s.user as { name?: string } | undefined)?.name;
  let old: RunningApp;
  let following: RunningApp;
  let moving: RunningApp;
  let movingStore: KuraStore;
  beforeAll(async () => {
    old = await fastifyApp(redis.previous);
    following = await fastifyApp(new KuraStore({ adapter: redis.adapter, userOf, migrateFrom: { store: redis.previous, move: false } }));
    movingStore = new KuraStore({ adapter: redis.adapter, userOf, migrateFrom: { store: redis.previous } });
    moving = await fastifyApp(movingStore);
  });
  afterAll(() => Promise.all([old, following, moving].filter(Boolean).map((app) => app.close())));

  it('step 1, an old and a following replica: each serves the other\'s logins and changes; step 2, a following and a moving replica: every session on both, changes and logout hold', async () => {
    const ada = new HttpClient(old.url);
    const bob = new HttpClient(following.url);
    expect((await ada.post(`${old.url}/login?user=ada`)).status).toBe(200);
    expect((await ada.post(`${following.url}/keys/cart?value=3`)).status).toBe(200);
    expect((await ada.get(`${old.url}/session`)).body).toMatchObject({ user: { name: 'ada' }, cart: '3' });
    expect((await bob.post(`${following.url}/login?user=bob`)).status).toBe(200);
    expect((await bob.get(`${old.url}/me`)).status).toBe(200);
    expect((await bob.post(`${old.url}/keys/cart?value=1`)).status).toBe(200);
    expect((await bob.get(`${following.url}/session`)).body).toMatchObject({ user: { name: 'bob' }, cart: '1' });

    // Step 2: no old replica serves any more.
    expect((await ada.get(`${moving.url}/session`)).body).toMatchObject({ user: { name: 'ada' }, cart: '3' }); // moved
    expect((await ada.get(`${following.url}/session`)).body).toMatchObject({ user: { name: 'ada' }, cart: '3' });
    expect((await ada.post(`${following.url}/keys/cart?value=4`)).status).toBe(200);
    expect((await ada.get(`${moving.url}/session`)).body).toMatchObject({ user: { name: 'ada' }, cart: '4' });
    for (const app of [following, moving, following]) expect((await bob.get(`${app.url}/me`)).status).toBe(200);
    expect(await movingStore.sessionsOf('bob')).toHaveLength(1); // moved, into its user's index

    expect((await ada.post(`${following.url}/logout`)).status).toBe(204);
    for (const app of [moving, following]) expect((await ada.get(`${app.url}/me`)).status).toBe(401);
    expect((await bob.post(`${moving.url}/logout`)).status).toBe(204);
    for (const app of [moving, following]) expect((await bob.get(`${app.url}/me`)).status).toBe(401);
  });
});
