import { hash, randomBytes } from 'node:crypto';
import { ManualClock, StoreUnavailableError } from '@kura/common';
import type { RedisConnectSessionStore } from '@kura/redis';
import type { RedisStore } from 'connect-redis';
import { holding } from '../../../test/support/held-adapter.js';
import { previousAndKuraOnRedis } from '../../../test/support/previous-store-fixture.js';
import { redisServerMissing } from '../../../test/support/redis-server.js';
import { KuraStore } from './kura-store.js';
import { itemKeyOf } from './session-key.js';
import { MOVED_KEY, type PreviousSessionStore } from './previous-store.js';

/**
 * `migrateFrom` while old replicas still run the previous store, and after: what an adversarial review of the first
 * design found (2026-12-04), each case failing on that design (connect-redis on one redis-server, KuraStore on
 * another). The first design kept a move's outcome only in the previous store's stub and an hour-long deletion mark.
 *
 * "Time passing" is played with Redis's own expiry, not by deleting keys: a store whose clock is set in the past
 * writes its marks/items with PEXPIREAT in the past, so Redis frees them at once, as it would an hour (a day)
 * later. Cookies are given real expiries (days ahead), so connect-redis keeps the previous store's copies.
 */
const missing = redisServerMissing();
const describeWithRedis = missing ? describe.skip : describe;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const WEEK = 7 * 24 * HOUR;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const newSid = () => randomBytes(18).toString('base64url');
const newUser = () => `user-${randomBytes(6).toString('hex')}`;
/** A session as express-session stores it, its cookie expiring a week from real now. */
const sessionFor = (data: Record<string, unknown>) => ({ cookie: { originalMaxAge: WEEK, expires: new Date(Date.now() + WEEK).toISOString(), httpOnly: true, path: '/' }, ...data });
const userOf = (session: Record<string, unknown>) => session.user;
type Settle = (error: unknown, value?: unknown) => void;

describeWithRedis('KuraStore migrateFrom during and after a rolling update', () => {
  const redis = previousAndKuraOnRedis();
  // Set by the fixture's beforeAll, which runs first.
  let previous: RedisStore;
  let adapter: RedisConnectSessionStore;
  let sut: KuraStore;
  const held = (sid: string) => redis.held(sid);
  const oldSave = (sid: string, session: object) => redis.oldSave(sid, session);
  const oldLogin = (data: Record<string, unknown>) => redis.oldLogin(sessionFor(data));
  /** A replica whose clock reads `agoMs` before real now (its marks and items are freed by Redis that much earlier). */
  const replicaAgo = (agoMs: number, migrateFrom: PreviousSessionStore = previous) =>
    new KuraStore({ adapter, clock: new ManualClock(Date.now() - agoMs), userOf, migrateFrom: { store: migrateFrom } });

  beforeAll(() => {
    ({ previous, adapter } = redis);
    sut = new KuraStore({ adapter, userOf, migrateFrom: { store: previous } });
  });

  it('a logout on an old replica after the move (it destroys the stub and answers 204) ends the session on every new replica', async () => {
    const sid = await oldLogin({ user: 'ada' });
    expect(await sut.get(sid)).toMatchObject({ user: 'ada' }); // moved; stub left there
    // The user clicks "log out"; during the rollout the load balancer sends it to an old replica:
    // express-session loads the stub and req.session.destroy() deletes it in connect-redis. Acknowledged.
    await new Promise<void>((resolve, reject) => previous.destroy(sid, (error) => (error ? reject(error) : resolve())));
    expect(await held(sid)).toBeNull();

    // Next request, on a new replica: logged out there too.
    expect(await sut.get(sid)).toBeNull();
  });

  it('a whole session an old replica saved over the stub gets the stub back at a new replica\'s read once the move has settled (30 s); before, it is left to the move\'s own second read, which carries such a save over', async () => {
    const sid = await oldLogin({ user: 'ada', cart: [1] });
    const loadedByOldReplica = await held(sid); // an old replica's request, in flight
    const clock = new ManualClock(Date.now());
    const store = new KuraStore({ adapter, clock, userOf, migrateFrom: { store: previous } });
    expect(await store.get(sid)).toMatchObject({ user: 'ada' }); // moved: the stub there
    await oldSave(sid, loadedByOldReplica!); // its end-of-request save lands over the stub

    clock.advance(10_000);
    expect(await store.get(sid)).toMatchObject({ user: 'ada' });
    expect(await held(sid)).not.toHaveProperty(MOVED_KEY);
    clock.advance(25_000);
    expect(await store.get(sid)).toMatchObject({ user: 'ada' });
    expect(await held(sid)).toHaveProperty(MOVED_KEY);
  });

  // Before MOVE_SETTLE_MS, the new replica's read at +1 s put the stub back over the old replica's write-back, and
  // bob's login on an old replica then landed on the stub (kuraMovedAt kept): the moved session ended. Now the
  // write-back is left there for 30 s, bob logs in on it (no kuraMovedAt), and 30 s later the stub goes over bob's
  // login while new replicas keep serving ada's session to the browser bob logged in on.
  it("someone logging in as another user on an old replica within 30 s of the move (on the old replica's write-back) ends the moved session, as on the stub", async () => {
    const clock = new ManualClock(Date.now());
    const sut = new KuraStore({ adapter, clock, userOf, migrateFrom: { store: previous } });
    const sid = await oldLogin({ user: 'ada', cart: [1] });
    const inFlight = await held(sid); // an old replica's request has loaded it (resave: true)…
    expect(await sut.get(sid)).toMatchObject({ user: 'ada' }); // …a new replica moves it…
    await oldSave(sid, inFlight!); // …and the old replica's request writes it back over the stub
    clock.advance(1000);
    expect(await sut.get(sid)).toMatchObject({ user: 'ada' }); // a new replica's read within the 30 s
    // A shared computer: on an old replica, bob logs in on that browser's session without a new session id.
    await oldSave(sid, { ...(await held(sid))!, user: 'bob' });

    clock.advance(40_000);
    expect(await sut.get(sid)).toBeNull(); // observed: ada's session, to the browser bob logged in on
    expect(await held(sid)).toMatchObject({ user: 'bob' }); // and bob's login there is kept, not stubbed over
  });

  it('a destroy whose call to the previous store failed stays a destroy after KuraStore\'s deletion mark expires (1 h)', async () => {
    const sid = await oldLogin({ user: 'ada' });
    const failingDestroy: PreviousSessionStore = {
      get: (id, done) => previous.get(id, done as never),
      set: (id, session, done) => previous.set(id, session as never, done as never),
      destroy: (_id, done: Settle) => done(new Error('connection lost')),
    };
    // The logout happened 61 minutes ago, on a replica whose connection to the previous store failed.
    await expect(replicaAgo(61 * MINUTE, failingDestroy).destroy(sid)).resolves.toBeUndefined(); // its record is written
    expect(await held(sid)).toMatchObject({ user: 'ada' });

    // Nobody used the cookie within the hour; now someone does.
    expect(await sut.get(sid)).toBeNull();
  });

  describe('an old replica\'s request that loaded the session before the move saves it after (resave: true, @fastify/session rolling: true): the whole session is back in the previous store', () => {
    it('destroySessionOf (end one device) holds an hour later', async () => {
      const user = newUser();
      const sid = await oldLogin({ user, device: 'stolen laptop' });
      const loadedByOldReplica = await held(sid); // an old replica's request, in flight
      const movedAnHourAgo = replicaAgo(61 * MINUTE);
      expect(await movedAnHourAgo.get(sid)).toMatchObject({ user });
      expect(await held(sid)).toHaveProperty(MOVED_KEY);
      await oldSave(sid, loadedByOldReplica!); // its end-of-request save lands over the stub
      expect(await held(sid)).not.toHaveProperty(MOVED_KEY);

      // The user ends the stolen laptop's session from the sessions page (61 minutes ago).
      const [entry] = await movedAnHourAgo.sessionsOf(user);
      expect(await movedAnHourAgo.destroySessionOf(user, entry!.handle)).toBe(true);

      // The thief waited an hour.
      expect(await sut.get(sid)).toBeNull();
    });

    it('a logout on a new replica (destroy reached both stores) holds an hour later', async () => {
      const sid = await oldLogin({ user: 'ada' });
      const loadedByOldReplica = await held(sid);
      const anHourAgo = replicaAgo(61 * MINUTE);
      expect(await anHourAgo.get(sid)).toMatchObject({ user: 'ada' });
      await anHourAgo.destroy(sid); // logout, acknowledged: KuraStore's mark, and DEL in connect-redis
      expect(await held(sid)).toBeNull();
      await oldSave(sid, loadedByOldReplica!); // the old replica's in-flight request ends after it

      expect(await sut.get(sid)).toBeNull();
    });

    it('a session whose KuraStore copy reached its absolute lifetime does not move again', async () => {
      // Absolute lifetime 1 s here, for a real Redis to free the item in real time (as it would after 24 h).
      const replica = new KuraStore({ adapter, userOf, absoluteTtlSeconds: 1, migrateFrom: { store: previous } });
      const sid = await oldLogin({ user: 'ada' });
      const loadedByOldReplica = await held(sid);
      expect(await replica.get(sid)).toMatchObject({ user: 'ada' });
      await oldSave(sid, loadedByOldReplica!);
      await new Promise((resolve) => setTimeout(resolve, 1200));

      // Its absolute lifetime is over: the user must log in again.
      expect(await replica.get(sid)).toBeNull();
    });
  });

  it('two moves that read different contents (an old replica saved between): the late one leaves an acknowledged save in place', async () => {
    const sid = await oldLogin({ user: 'ada', role: 'admin' });
    // Move B reads the previous store, then is slow to write here (a GC pause, a slow network).
    const replaceHeld = holding(adapter, 'replace');
    const slow = new KuraStore({ adapter: replaceHeld.adapter, migrateFrom: { store: previous } });
    const moveB = slow.get(sid);
    await replaceHeld.reached;
    // An old replica's request saves the session (express-session resave / rolling: at least the cookie's expiry changes).
    const current = (await held(sid))!;
    await oldSave(sid, { ...current, cookie: { ...(current.cookie as object), expires: new Date(Date.now() + WEEK + 1000).toISOString() } });
    // Move A, on another new replica, moves it and its request saves a change (privileges dropped), acknowledged.
    const moved = (await sut.get(sid))!;
    await sut.set(sid, { ...moved, role: 'reader' });
    expect(await sut.get(sid)).toMatchObject({ role: 'reader' });

    replaceHeld.release();
    await moveB;

    expect(await sut.get(sid)).toMatchObject({ role: 'reader' });
  });

  it('after "log out everywhere", a login on an old replica during the rollout is ended when it reaches a new replica (the safe side, documented)', async () => {
    const user = newUser();
    const laptop = await oldLogin({ user });
    expect(await sut.get(laptop)).toMatchObject({ user });
    await sut.destroySessionsOf(user, { except: laptop }); // e.g. after a password change

    // The user logs in on the phone; the request lands on an old replica: a new session in connect-redis, which
    // KuraStore cannot tell from one made before the mark.
    const phone = await oldLogin({ user });
    expect(await sut.get(phone)).toBeNull();
    expect(await sut.get(laptop)).toMatchObject({ user });
  });

  describe('time passing: the record outlives every copy the previous store could keep', () => {
    // Scaled: KuraStore's idle timeout 2 s (think 30 minutes), a rollout of 1 s (think an hour); connect-redis keeps a
    // browser-session cookie's session its own day, as it does. Found by a second review: the record lasted the
    // rollout and KuraStore's idle timeout only, and a logout after the rollout did not reach the previous store.
    const browserSession = (data: Record<string, unknown>) => ({ cookie: { originalMaxAge: null, expires: null, httpOnly: true, path: '/' }, ...data });
    const replica = () => new KuraStore({ adapter, userOf, ttlSeconds: 2, migrateFrom: { store: previous, rolloutSeconds: 1 } });
    const recordTtl = (sid: string) => redis.kuraClient.sendCommand(['PTTL', `kura:connect-user:{${hash('sha256', `previous-moved\u0000${itemKeyOf(sid)}`, 'base64url')}}`]);

    /** A session moved by `sut`, whose whole copy an old replica's request in flight then wrote over the stub (kept a day). */
    async function movedWithCopyLeft(sut: KuraStore, user: string): Promise<string> {
      const sid = newSid();
      await oldSave(sid, browserSession({ user }));
      const loadedByOldReplica = await held(sid);
      expect(await sut.get(sid)).toMatchObject({ user });
      await oldSave(sid, loadedByOldReplica!);
      return sid;
    }

    it('a logout on a new replica after the rollout destroys the copy an old replica left there, and the record lasts longer than that store would have kept it', async () => {
      const sut = replica();
      const sid = await movedWithCopyLeft(sut, 'ada');
      await sleep(1100); // the rollout is over; the user is still active

      await sut.destroy(sid);

      expect(await held(sid)).toBeNull();
      expect(Number(await recordTtl(sid))).toBeGreaterThan(24 * HOUR);
      expect(await sut.get(sid)).toBeNull();
    });

    it('a session past KuraStore\'s idle timeout does not come back from a copy an old replica left there', async () => {
      const sut = replica();
      const sid = await movedWithCopyLeft(sut, 'bob');
      await sleep(3500); // idle past KuraStore's 2 s, and past the rollout

      expect(await sut.get(sid)).toBeNull();
      expect(await held(sid)).toMatchObject({ user: 'bob' }); // still there, never moved again
    });

    it('the largest maxAge express-session can hold moves, and logs out', async () => {
      const sut = new KuraStore({ adapter, userOf, absoluteTtlSeconds: null, migrateFrom: { store: previous } });
      const sid = newSid();
      const maxAge = 8.64e15 - Date.now() - 1;
      await oldSave(sid, { cookie: { originalMaxAge: maxAge, expires: new Date(Date.now() + maxAge).toISOString(), httpOnly: true, path: '/' }, user: 'eve' });
      expect(await sut.get(sid)).toMatchObject({ user: 'eve' });
      await sut.destroy(sid);
      expect(await sut.get(sid)).toBeNull();
    });
  });

  describe('a session made here, with the previous store down', () => {
    const down: PreviousSessionStore = {
      get: (_id, done: Settle) => done(new Error('ECONNREFUSED')),
      set: (_id, _s, done: Settle) => done(new Error('ECONNREFUSED')),
      destroy: (_id, done: Settle) => done(new Error('ECONNREFUSED')),
    };
    const madeHere = async (sut: KuraStore, ms: number) => {
      const sid = newSid();
      await sut.set(sid, { cookie: { originalMaxAge: ms, expires: new Date(Date.now() + ms).toISOString(), httpOnly: true, path: '/' }, user: 'cy' });
      return sid;
    };

    it('logged out: its cookie, still sent, finds "no session" (its record), not a 503', async () => {
      const sut = new KuraStore({ adapter, userOf, migrateFrom: { store: down } });
      const sid = await madeHere(sut, 60_000);
      await sut.destroy(sid);

      await expect(sut.get(sid)).resolves.toBeNull();
    });

    it('expired: an id KuraStore no longer knows, looked up in the previous store, so a 503 while it is down (documented)', async () => {
      const sut = new KuraStore({ adapter, userOf, migrateFrom: { store: down } });
      const sid = await madeHere(sut, 300);
      await sleep(500);

      await expect(sut.get(sid)).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  });

  it('with userOf, someone logging in as another user on a moved session\'s stub (an old replica, an app that keeps the session id at login) ends the moved session: the browser is theirs now', async () => {
    const sid = await oldLogin({ user: 'ada' });
    expect(await sut.get(sid)).toMatchObject({ user: 'ada' });
    // A shared computer: on an old replica the stub reads as nobody, and bob logs in on it without a new session id.
    await oldSave(sid, { ...(await held(sid))!, user: 'bob' });

    expect(await sut.get(sid)).toBeNull();
  });

  it('with the previous store down, a logout or regenerate (login) of a session KuraStore itself made needs nothing of it', async () => {
    const down: PreviousSessionStore = {
      get: (_id, done: Settle) => done(new Error('ECONNREFUSED')),
      set: (_id, _s, done: Settle) => done(new Error('ECONNREFUSED')),
      destroy: (_id, done: Settle) => done(new Error('ECONNREFUSED')),
    };
    const replica = new KuraStore({ adapter, userOf, migrateFrom: { store: down } });
    const sid = newSid(); // generated by this replica's express-session: never in the previous store
    await replica.set(sid, sessionFor({ user: 'ada' }));
    expect(await replica.get(sid)).toMatchObject({ user: 'ada' });

    await expect(replica.destroy(sid)).resolves.toBeUndefined();
  });
  it('with the previous store down, a browser whose session was moved and then logged out gets "no session", not a 503 on every request', async () => {
    let down = false;
    const flaky: PreviousSessionStore = {
      get: (id, done: Settle) => (down ? done(new Error('ECONNREFUSED')) : previous.get(id, done as never)),
      set: (id, session, done: Settle) => (down ? done(new Error('ECONNREFUSED')) : previous.set(id, session as never, done as never)),
      destroy: (id, done: Settle) => (down ? done(new Error('ECONNREFUSED')) : previous.destroy(id, done as never)),
    };
    const replica = new KuraStore({ adapter, userOf, migrateFrom: { store: flaky } });
    const sid = await oldLogin({ user: 'ada' });
    expect(await replica.get(sid)).toMatchObject({ user: 'ada' });
    await replica.destroy(sid); // logged out; express-session leaves the cookie in the browser
    down = true;

    await expect(replica.get(sid)).resolves.toBeNull();
  });
});
