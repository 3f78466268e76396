import { randomBytes } from 'node:crypto';
import { ManualClock } from '@kura/common';
import type { RedisConnectSessionStore } from '@kura/redis';
import type { RedisStore } from 'connect-redis';
import { previousAndKuraOnRedis } from '../../../test/support/previous-store-fixture.js';
import { redisServerMissing } from '../../../test/support/redis-server.js';
import { KuraStore } from './kura-store.js';
import { MOVED_KEY, type PreviousSessionStore } from './previous-store.js';

/**
 * Review of `migrateFrom` with `move: false` (kura-store.migrate-follow.spec): interleavings across old replicas
 * (connect-redis alone), following and moving replicas that lost an acknowledged change, undid an ending or logged
 * a user out, each on two redis-servers as the spec it completes.
 */
const missing = redisServerMissing();
if (missing) console.warn(`SKIPPING the review of KuraStore's following replica: ${missing}`);
const describeWithRedis = missing ? describe.skip : describe;
const MINUTE = 60_000;
const clock = new ManualClock(Date.now());
const newSid = () => randomBytes(18).toString('base64url');
const newUser = () => `user-${randomBytes(6).toString('hex')}`;
const sessionFor = (data: Record<string, unknown>, ms = 30 * MINUTE) => ({ cookie: { originalMaxAge: ms, expires: new Date(clock.now() + ms).toISOString(), httpOnly: true, path: '/' }, ...data });
const userOf = (session: Record<string, unknown>) => session.user;
const credentialOf = (session: Record<string, unknown>) => session.pw;

describeWithRedis('KuraStore following the move: interleavings found in review', () => {
  const redis = previousAndKuraOnRedis();
  let previous: RedisStore;
  let adapter: RedisConnectSessionStore;
  let follower: KuraStore;
  let mover: KuraStore;
  const held = (sid: string) => redis.held(sid);
  const oldSave = (sid: string, session: object) => previous.set(sid, session as never);
  const oldLogin = async (data: Record<string, unknown>) => {
    const sid = newSid();
    await oldSave(sid, sessionFor(data));
    return sid;
  };
  const login = async (replica: KuraStore, data: Record<string, unknown>) => {
    const sid = newSid();
    await replica.set(sid, sessionFor(data));
    return sid;
  };

  beforeAll(() => {
    ({ previous, adapter } = redis);
    follower = new KuraStore({ adapter, clock, userOf, credentialOf, migrateFrom: { store: previous, move: false } });
    mover = new KuraStore({ adapter, clock, userOf, credentialOf, migrateFrom: { store: previous } });
  });

  it("a follower's request in flight across a \"log out everywhere\" saving an old replica's session does not make it outlive the ending", async () => {
    const user = newUser();
    const sid = await oldLogin({ user, cart: [] });
    const loaded = await follower.get(sid); // the request is authenticated…
    await follower.destroySessionsOf(user); // …"log out everywhere" from another device lands…
    loaded!.cart = [1];
    await follower.set(sid, loaded!); // …and the request saves its change (resave, rolling @fastify/session: every request)

    expect(await follower.get(sid)).toBeNull();
    expect(await mover.get(sid)).toBeNull();
  });

  it("a follower's save landing during a mover's move (after the move read the previous store) is not lost", async () => {
    const sid = await oldLogin({ user: 'ada', cart: [1] });
    const loaded = await follower.get(sid);
    loaded!.cart = [1, 2];
    let saved = false;
    // The mover's move reads the session there; the follower's request saves its change (acknowledged) before the move records it.
    const hooked: PreviousSessionStore = {
      get: (id, done) =>
        void previous.get(id, (error, value) => {
          if (saved || id !== sid) return done(error, value);
          saved = true;
          follower.set(sid, loaded!).then(() => done(error, value), done);
        }),
      set: (id, session, done) => previous.set(id, session as never, done as never),
      destroy: (id, done) => previous.destroy(id, done as never),
    };
    const moving = new KuraStore({ adapter, clock, userOf, credentialOf, migrateFrom: { store: hooked } });
    expect(await moving.get(sid)).toMatchObject({ user: 'ada' });
    expect(saved).toBe(true);

    expect(await mover.get(sid)).toMatchObject({ user: 'ada', cart: [1, 2] });
    expect(await follower.get(sid)).toMatchObject({ user: 'ada', cart: [1, 2] });
    expect(await held(sid)).toHaveProperty(MOVED_KEY);
  });

  it('"end my other sessions" from a session the first one ended, its request in flight, does not bring it back', async () => {
    const user = newUser();
    const first = await oldLogin({ user });
    const second = await oldLogin({ user });
    expect(await follower.get(second)).toMatchObject({ user }); // the second device's request is authenticated…
    await follower.destroySessionsOf(user, { except: first }); // …the first device ends its other sessions, the second's included…
    await follower.destroySessionsOf(user, { except: second }); // …then the second's request ends its "other" sessions

    expect(await follower.get(first)).toBeNull(); // ended by the second
    expect(await follower.get(second)).toBeNull(); // ended by the first
    expect(await mover.get(second)).toBeNull();
  });

  it('the mark stays two members however many sessions "end my other sessions" spares, and each ending still ends what it ended', async () => {
    const user = newUser();
    const sids = await Promise.all([1, 2, 3, 4, 5].map(() => oldLogin({ user })));
    for (const sid of sids) await follower.destroySessionsOf(user, { except: sid });
    const { createHash } = await import('node:crypto');
    const markKey = createHash('sha256').update(`previous-ended\u0000${user}`).digest('base64url');
    expect(await adapter.userIndex(markKey)).toHaveLength(2);
    for (const sid of sids) expect(await follower.get(sid)).toBeNull(); // each ended by an ending sparing another
  });

  it('a login keeping its session id, saved by a follower after a mover moved that session, is in its user\'s index: "log out everywhere" ends it', async () => {
    const user = newUser();
    const sid = await oldLogin({ theme: 'dark' }); // a visitor
    const loaded = await follower.get(sid);
    expect(await mover.get(sid)).toMatchObject({ theme: 'dark' }); // another request of that browser, on a mover
    loaded!.user = user; // the login, in an app that keeps the session id
    await follower.set(sid, loaded!); // on main since acf58f6: the login ends in both stores (on follow-review: it joins the index)

    await mover.destroySessionsOf(user);
    expect(await mover.get(sid)).toBeNull();
    expect(await follower.get(sid)).toBeNull();
  });

  it("a follower's touch of a session a mover moved meanwhile leaves the stub lasting the rollout (a stub gone early is an old replica's logout)", async () => {
    const sid = await oldLogin({ user: 'ada' });
    const loaded = await follower.get(sid); // a steady request…
    expect(await mover.get(sid)).toMatchObject({ user: 'ada' }); // …the session moves meanwhile…
    await follower.touch(sid, loaded!); // …and express-session touches what the request loaded (connect-redis: EXPIRE by its cookie)

    expect(await held(sid)).toHaveProperty(MOVED_KEY);
    expect(await redis.previousClient.ttl(`sess:${sid}`)).toBeGreaterThan(3600);
  });

  it("an old replica's login as another user on a session a follower wrote (an app keeping the session id) is ended by that user's \"log out everywhere\"", async () => {
    const ada = newUser();
    const bob = newUser();
    await follower.destroySessionsOf(ada);
    await follower.destroySessionsOf(ada); // ada's sessions were ended twice: a session written for ada now has seen 2
    const sid = await login(follower, { user: ada });
    // On an old replica, the browser logs out (the user taken off) and bob logs in on the same session id.
    const there = await held(sid);
    await oldSave(sid, { ...there, user: bob });

    await follower.destroySessionsOf(bob); // bob's first ending
    expect(await follower.get(sid)).toBeNull();
    expect(await mover.get(sid)).toBeNull();
  });

  // Not fixed (a limitation of the design, as in the moving mode, where the README says so): an old replica writes no
  // count, so a login it makes after a "log out everywhere" cannot be told from a session made before it. The
  // following replica ends it at its next request there, in both stores: behind round robin, every login of that user
  // that lands on an old replica is logged out again, for as long as the first step lasts. it.failing until then.
  it.failing("a login on an old replica after that user's \"log out everywhere\" on a follower is not logged out by the follower", async () => {
    const user = newUser();
    await follower.destroySessionsOf(user); // log out everywhere, on a follower
    const sid = await oldLogin({ user }); // the user logs in again; round robin sends the login to an old replica

    expect(await follower.get(sid)).toMatchObject({ user }); // observed: null, and the session destroyed there too
    expect(await held(sid)).toMatchObject({ user });
  });
});
