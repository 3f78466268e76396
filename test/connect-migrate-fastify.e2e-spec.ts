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
