import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { type ConnectSessionStore, ManualClock, StoreUnavailableError } from '@kura/common';
import { createDynamoDbClients, DynamoDbConnectSessionStore, ensureConnectSessionTable } from '@kura/dynamodb';
import type { RedisStore } from 'connect-redis';
import { LOCAL_CREDENTIALS, testEndpoint } from '../../../test/support/engine.js';
import { previousAndKuraOnRedis } from '../../../test/support/previous-store-fixture.js';
import { credentialOf, newSid, newUser, sessionsOn, userOf } from '../../../test/support/migrate-sessions.js';
import { redisServerMissing, type RedisServer } from '../../../test/support/redis-server.js';
import { CredentialReplacedError } from './credential-replaced.error.js';
import { KuraStore } from './kura-store.js';
import { MARK_SEEN_KEY, MOVED_KEY, type PreviousSessionStore } from './previous-store.js';
import { itemKeyOf } from './session-key.js';

/**
 * `migrateFrom` with `move: false`, the first step of a rollout that logs nobody out: a following replica beside the
 * app's old replicas (connect-redis alone), then beside moving replicas. Each interleaving on real servers
 * (connect-redis on one redis-server, KuraStore on another); the journey through real apps behind round robin is
 * `test/connect-migrate-follow.e2e-spec`.
 */
const missing = redisServerMissing();
if (missing) console.warn(`SKIPPING KuraStore's following replica: ${missing}`);
const describeWithRedis = missing ? describe.skip : describe;
const MINUTE = 60_000;
const clock = new ManualClock(Date.now());
const sessionFor = sessionsOn(clock);
/** The session as JSON would save it (what the app sees, without the store's read marker). */
const plain = (session: unknown) => JSON.parse(JSON.stringify(session)) as Record<string, unknown>;

/** `adapter` with some of its calls replaced (each given the original). */
function hooked(adapter: ConnectSessionStore, hooks: Partial<{ [K in keyof ConnectSessionStore]-?: (original: NonNullable<ConnectSessionStore[K]>, ...args: Parameters<NonNullable<ConnectSessionStore[K]>>) => ReturnType<NonNullable<ConnectSessionStore[K]>> }>): ConnectSessionStore {
  return new Proxy(adapter, {
    get(target, name, receiver) {
      const original = Reflect.get(target, name, receiver) as unknown;
      const hook = (hooks as Record<string | symbol, ((...args: unknown[]) => unknown) | undefined>)[name];
      if (typeof original !== 'function') return original;
      const bound = (original as (...args: unknown[]) => unknown).bind(target);
      return hook ? (...args: unknown[]) => hook(bound, ...args) : bound;
    },
  });
}

/** KuraStore's storage under both kinds of replica: Redis (a redis-server of its own) or DynamoDB (DynamoDB Local). */
const storages = {
  Redis: async (onRedis: ConnectSessionStore) => ({ adapter: onRedis, close: () => undefined }),
  DynamoDB: async () => {
    const { client } = createDynamoDbClients({ region: 'us-east-1', endpoint: testEndpoint(), credentials: LOCAL_CREDENTIALS, timeoutMs: 5000 });
    const tableName = `f${randomBytes(4).toString('hex')}-kura-follow`;
    await ensureConnectSessionTable(client, tableName);
    return { adapter: new DynamoDbConnectSessionStore(client, { tableName }) as ConnectSessionStore, close: () => client.destroy() };
  },
};

describeWithRedis.each(Object.keys(storages) as (keyof typeof storages)[])('KuraStore following the move (migrateFrom with move: false), KuraStore on %s', (storage) => {
  const redis = previousAndKuraOnRedis();
  let previous: RedisStore;
  let adapter: ConnectSessionStore;
  let closeStorage: () => void;
  let previousServer: RedisServer;
  /** The replicas of each version: following, and moving. */
  let follower: KuraStore;
  let mover: KuraStore;
  const held = (sid: string) => redis.held(sid);
  const oldSave = (sid: string, session: object) => redis.oldSave(sid, session);
  const oldLogin = (data: Record<string, unknown>) => redis.oldLogin(sessionFor(data));
  /** A login on a replica: a fresh session id, written with its user (express-session's regenerate, then its save). */
  const login = async (replica: KuraStore, data: Record<string, unknown>) => {
    const sid = newSid();
    await replica.set(sid, sessionFor(data));
    return sid;
  };
  const movedHere = async (sid: string) => (await adapter.read(itemKeyOf(sid), clock.now())) !== undefined;

  afterAll(() => closeStorage?.());
  beforeAll(async () => {
    ({ previous, previousServer } = redis);
    ({ adapter, close: closeStorage } = await storages[storage](redis.adapter));
    follower = new KuraStore({ adapter, clock, userOf, credentialOf, migrateFrom: { store: previous, move: false } });
    mover = new KuraStore({ adapter, clock, userOf, credentialOf, migrateFrom: { store: previous } });
  });

  describe('beside old replicas (the first step): one of them, as they see it', () => {
    it('serves a session an old replica made without moving it, and saves its changes there, where old replicas read them', async () => {
      const sid = await oldLogin({ user: 'ada', cart: [1] });

      const loaded = await follower.get(sid);
      expect(plain(loaded)).toEqual({ ...plain(sessionFor({})), user: 'ada', cart: [1] });
      loaded!.cart = [1, 2];
      await follower.set(sid, loaded!);

      expect(await movedHere(sid)).toBe(false);
      // What an old replica loads: the change, and how many endings of ada's sessions the session has seen (none).
      expect(await held(sid)).toEqual({ ...plain(sessionFor({})), user: 'ada', cart: [1, 2], [MARK_SEEN_KEY]: { count: 0, of: expect.any(String) } });
      // Never handed to the app.
      expect(plain(await follower.get(sid))).not.toHaveProperty(MARK_SEEN_KEY);
    });

    it('writes a login there, which old replicas serve; a session without a user carries no count', async () => {
      const sid = await login(follower, { user: 'bob' });
      expect(await held(sid)).toMatchObject({ user: 'bob', [MARK_SEEN_KEY]: { count: 0, of: expect.any(String) } });
      expect(await movedHere(sid)).toBe(false);
      const visitor = await login(follower, { theme: 'dark' });
      expect(await held(visitor)).toEqual({ ...plain(sessionFor({})), theme: 'dark' });
    });

    it('a logout here ends the session there too, and an old replica\'s request in flight writing it back is never served by a Kura replica', async () => {
      const sid = await oldLogin({ user: 'ada' });
      const inFlight = await held(sid);
      expect(await follower.get(sid)).toMatchObject({ user: 'ada' });

      await follower.destroy(sid);
      expect(await held(sid)).toBeNull();
      await oldSave(sid, inFlight!); // the old replica's request ends after the logout

      expect(await follower.get(sid)).toBeNull();
      expect(await mover.get(sid)).toBeNull(); // nor moved, later
    });

    it('a logout on an old replica is one here: nothing left to serve', async () => {
      const sid = await login(follower, { user: 'ada' });
      await new Promise<void>((resolve, reject) => previous.destroy(sid, (error) => (error ? reject(error) : resolve())));
      expect(await follower.get(sid)).toBeNull();
    });

    it('touches there as old replicas do (connect-redis\'s touch moves its expiry), and writes nothing for it here', async () => {
      const sid = await oldLogin({ user: 'ada' });
      await redis.previousClient.expire(`sess:${sid}`, 60);
      const loaded = await follower.get(sid);
      await follower.touch(sid, loaded!);
      expect(await redis.previousClient.ttl(`sess:${sid}`)).toBeGreaterThan(25 * 60);
      expect(await movedHere(sid)).toBe(false);
    });

    it('an outage of the previous store is a 503 for every session there, never a logout nor a login written elsewhere', async () => {
      const sid = await oldLogin({ user: 'ada' });
      const stalled = new KuraStore({ adapter, clock, userOf, migrateFrom: { store: previous, move: false, timeoutMs: 200 } });
      process.kill(previousServer.pid, 'SIGSTOP');
      try {
        await expect(stalled.get(sid)).rejects.toBeInstanceOf(StoreUnavailableError);
        const fresh = newSid();
        await expect(stalled.set(fresh, sessionFor({ user: 'bob' }))).rejects.toBeInstanceOf(StoreUnavailableError);
        await expect(stalled.destroy(sid)).rejects.toBeInstanceOf(StoreUnavailableError);
        expect(await movedHere(fresh)).toBe(false);
      } finally {
        process.kill(previousServer.pid, 'SIGCONT');
      }
      // Once the store answers again (the stalled commands answered first, on the same connection: on a loaded machine
      // that took longer than the 200 ms this store waits, and the logout below timed out in a CI run), the logout,
      // sent again, ends it.
      await redis.previousClient.ping();
      await stalled.destroy(sid);
      expect(await held(sid)).toBeNull();
    });
  });

  describe('beside moving replicas (the second step): every moved session served from here', () => {
    it('serves a session a moving replica moved, and saves its changes here, where the moving replicas read them', async () => {
      const sid = await oldLogin({ user: 'ada', cart: [1] });
      expect(await mover.get(sid)).toMatchObject({ user: 'ada' });
      expect(await held(sid)).toHaveProperty(MOVED_KEY);

      const loaded = await follower.get(sid);
      expect(plain(loaded)).toMatchObject({ user: 'ada', cart: [1] });
      loaded!.cart = [1, 2];
      await follower.set(sid, loaded!);

      expect(await mover.get(sid)).toMatchObject({ cart: [1, 2] });
      expect(await held(sid)).toHaveProperty(MOVED_KEY); // the stub stays a stub
    });

    it('a change saved here after a moving replica moved the session this request had read there reaches the moved session; the stub goes back', async () => {
      const sid = await oldLogin({ user: 'ada', cart: [1], theme: 'light' });
      const loaded = await follower.get(sid); // served from there
      expect(await mover.get(sid)).toMatchObject({ cart: [1] }); // moved meanwhile
      const stub = await held(sid);
      clock.advance(1000);
      const moved = await mover.get(sid);
      moved!.theme = 'dark'; // a change on a moving replica meanwhile
      await mover.set(sid, moved!);

      loaded!.cart = [1, 2];
      await follower.set(sid, loaded!); // lands over the stub

      expect(await held(sid)).toEqual(stub); // the move's stub, as it was (its time the move's)
      expect(plain(await mover.get(sid))).toMatchObject({ user: 'ada', cart: [1, 2], theme: 'dark' });
      expect(plain(await follower.get(sid))).toMatchObject({ user: 'ada', cart: [1, 2], theme: 'dark' });
    });

    it('a change saved here during a move (before its second read there, or between that read and its stub) is never lost', async () => {
      for (const when of ['second read', 'stub'] as const) {
        const sid = await oldLogin({ user: 'ada', cart: [1] });
        const loaded = await follower.get(sid); // read there, before the move
        const saveHere = async () => {
          loaded!.cart = [1, when];
          await follower.set(sid, loaded!);
        };
        // The moving replica's previous store: the follower's save lands just before the move's second read, or its stub.
        let gets = 0;
        const racing: PreviousSessionStore = {
          get: (id, done) => void ((gets += 1) === 2 && when === 'second read' ? saveHere() : Promise.resolve()).then(() => previous.get(id, done as never)),
          set: (id, session, done) => void (when === 'stub' ? saveHere() : Promise.resolve()).then(() => previous.set(id, session as never, done as never)),
          destroy: (id, done) => previous.destroy(id, done as never),
        };
        const moving = new KuraStore({ adapter, clock, userOf, migrateFrom: { store: racing } });

        expect(await moving.get(sid)).toMatchObject({ user: 'ada' });

        expect(await held(sid)).toHaveProperty(MOVED_KEY);
        expect(plain(await mover.get(sid))).toMatchObject({ user: 'ada', cart: [1, when] });
      }
    });

    it('a touch here of a session a moving replica moved since the request read it leaves the stub lasting the rollout (a stub gone reads as a logout)', async () => {
      const sid = await oldLogin({ user: 'ada' });
      const loaded = await follower.get(sid); // an unchanged request, served from there
      expect(await mover.get(sid)).toMatchObject({ user: 'ada' }); // the user's other tab: moved, the stub lasts the rollout and 5 minutes

      await follower.touch(sid, loaded!); // express-session's touch at the end of the first request: the session's 30 minutes

      expect(await held(sid)).toHaveProperty(MOVED_KEY);
      expect(await redis.previousClient.ttl(`sess:${sid}`)).toBeGreaterThan(60 * 60);
      expect(await mover.get(sid)).toMatchObject({ user: 'ada' });
    });

    it('a save here after a moving replica logged the session out (this request had read it there) brings it back nowhere', async () => {
      const sid = await oldLogin({ user: 'ada' });
      const loaded = await follower.get(sid);
      expect(await mover.get(sid)).toMatchObject({ user: 'ada' });
      await mover.destroy(sid);

      loaded!.cart = [9];
      await follower.set(sid, loaded!);

      expect(await held(sid)).toBeNull();
      expect(await follower.get(sid)).toBeNull();
      expect(await mover.get(sid)).toBeNull();
    });

    it('a move completing between this read of KuraStore and of the previous store: the stub sends it back here', async () => {
      const sid = await oldLogin({ user: 'ada', cart: [1] });
      let gets = 0;
      const racing: PreviousSessionStore = {
        // The follower's first look there comes after a moving replica moved the session (its KuraStore read found nothing).
        get: (id, done) => void ((gets += 1) === 1 ? mover.get(sid) : Promise.resolve()).then(() => previous.get(id, done as never)),
        set: (id, session, done) => previous.set(id, session as never, done as never),
        destroy: (id, done) => previous.destroy(id, done as never),
      };
      const following = new KuraStore({ adapter, clock, userOf, migrateFrom: { store: racing, move: false } });

      expect(plain(await following.get(sid))).toMatchObject({ user: 'ada', cart: [1] });
    });

    it('a login keeping the session id, saved here after a moving replica moved the session, ends it in both stores: what moved is the previous user\'s', async () => {
      const sid = await oldLogin({ user: 'ada', cart: [1] });
      const loaded = await follower.get(sid);
      expect(await mover.get(sid)).toMatchObject({ user: 'ada' });

      loaded!.user = 'mallory'; // an app that does not regenerate the id at login
      await follower.set(sid, loaded!);

      expect(await held(sid)).toBeNull();
      expect(await movedHere(sid)).toBe(false);
      expect(await mover.get(sid)).toBeNull();
      expect(await follower.get(sid)).toBeNull();
    });

    it('a login here is moved by a moving replica on its next request there, into its user\'s index', async () => {
      const user = newUser();
      const sid = await login(follower, { user });
      expect(await mover.get(sid)).toMatchObject({ user });
      expect(await held(sid)).toHaveProperty(MOVED_KEY);
      expect(await mover.sessionsOf(user)).toHaveLength(1);
      expect(plain(await follower.get(sid))).toMatchObject({ user });
    });

    it('a logout here of a moved session ends it in both stores', async () => {
      const sid = await oldLogin({ user: 'ada' });
      expect(await mover.get(sid)).toMatchObject({ user: 'ada' });
      await follower.destroy(sid);
      expect(await held(sid)).toBeNull();
      expect(await mover.get(sid)).toBeNull();
      expect(await follower.get(sid)).toBeNull();
    });
  });

  it('without userOf: serves and saves sessions there, and writes no count into them', async () => {
    const plainFollower = new KuraStore({ adapter, clock, migrateFrom: { store: previous, move: false } });
    const sid = await oldLogin({ user: 'ada', cart: [1] });
    const loaded = await plainFollower.get(sid);
    loaded!.cart = [1, 2];
    await plainFollower.set(sid, loaded!);
    expect(await held(sid)).toEqual({ ...plain(sessionFor({})), user: 'ada', cart: [1, 2] });
    const login = newSid();
    await plainFollower.set(login, sessionFor({ user: 'bob' }));
    expect(await held(login)).toEqual({ ...plain(sessionFor({})), user: 'bob' });
  });

  describe('ending every session of a user (destroySessionsOf) reaches the sessions still there', () => {
    it('ends an old replica\'s session and a login made here before it, on every Kura replica; a login made after it lives', async () => {
      const user = newUser();
      const old = await oldLogin({ user });
      const before = await login(follower, { user });

      await follower.destroySessionsOf(user);
      const after = await login(follower, { user });

      expect(await follower.get(old)).toBeNull();
      expect(await held(old)).toBeNull();
      expect(await mover.get(before)).toBeNull();
      expect(await follower.get(before)).toBeNull();
      expect(await follower.get(after)).toMatchObject({ user });
      expect(await mover.get(after)).toMatchObject({ user }); // and moves
    });

    it('spares the session of the request asking ("end my other sessions"), though it is still there', async () => {
      const user = newUser();
      const current = await login(follower, { user });
      const other = await login(follower, { user });
      const loaded = await follower.get(current);

      await follower.destroySessionsOf(user, { except: current });
      loaded!.note = 'after';
      await follower.set(current, loaded!);

      expect(await follower.get(other)).toBeNull();
      expect(await follower.get(current)).toMatchObject({ user, note: 'after' });
      expect(await mover.get(current)).toMatchObject({ user, note: 'after' });
    });

    it('a login on its way when the ending lands (it counted the endings before) is ended at its first read', async () => {
      const user = newUser();
      // The login read the count (0) and its write is on its way: it lands after the ending.
      const sid = newSid();
      const slow: PreviousSessionStore = {
        get: (id, done) => previous.get(id, done as never),
        set: (id, session, done) => void follower.destroySessionsOf(user).then(() => previous.set(id, session as never, done as never), done),
        destroy: (id, done) => previous.destroy(id, done as never),
      };
      const racing = new KuraStore({ adapter, clock, userOf, migrateFrom: { store: slow, move: false } });
      await racing.set(sid, sessionFor({ user }));
      expect(await held(sid)).toMatchObject({ user, [MARK_SEEN_KEY]: { count: 0, of: expect.any(String) } });

      expect(await follower.get(sid)).toBeNull();
      expect(await mover.get(sid)).toBeNull();
    });

    it('a save here of an old replica\'s session after an ending that landed since its read keeps it ended', async () => {
      const user = newUser();
      const sid = await oldLogin({ user, cart: [1] });
      const loaded = await follower.get(sid); // no ending yet: served

      await mover.destroySessionsOf(user); // on another replica, while the request runs
      loaded!.cart = [1, 2];
      await follower.set(sid, loaded!); // written there with the count its read saw

      expect(await follower.get(sid)).toBeNull();
      expect(await mover.get(sid)).toBeNull();
    });

    it('two "end my other sessions" at once, from two devices, end each other (as without migrateFrom)', async () => {
      const user = newUser();
      const phone = await login(follower, { user });
      const laptop = await oldLogin({ user });
      expect(await follower.get(phone)).toMatchObject({ user });
      expect(await follower.get(laptop)).toMatchObject({ user });

      await follower.destroySessionsOf(user, { except: phone });
      await mover.destroySessionsOf(user, { except: laptop }); // its request read the laptop's session before the phone's ending

      expect(await follower.get(phone)).toBeNull();
      expect(await follower.get(laptop)).toBeNull();
    });

    it('the mark stays a few members: an ending sparing none takes out every one before it, one sparing a session the ones sparing it', async () => {
      const user = newUser();
      const { createHash } = await import('node:crypto');
      const markKey = createHash('sha256').update(`previous-ended\u0000${user}`).digest('base64url');
      const phone = await login(follower, { user });
      for (let i = 0; i < 3; i += 1) await follower.destroySessionsOf(user, { except: phone });
      expect((await adapter.userIndex(markKey)).map((entry) => entry.addedAtMs)).toEqual([3]);
      await follower.destroySessionsOf(user);
      expect((await adapter.userIndex(markKey)).map((entry) => entry.addedAtMs)).toEqual([4]);
    });

    it('with credentialOf: a session there made with a credential a change replaced is refused here, though the change left no mark (made by a store without migrateFrom, or its ending failed)', async () => {
      const user = newUser();
      const sid = await oldLogin({ user, pw: 1 });
      await new KuraStore({ adapter, clock, userOf, credentialOf }).destroySessionsOf(user, { credential: 2 });

      expect(await follower.get(sid)).toBeNull();
      expect(await held(sid)).toBeNull();
      expect(await mover.get(sid)).toBeNull();
    });

    it('a login keeping the session id here, of another user, counts that user\'s endings, not the previous user\'s', async () => {
      const ada = newUser();
      const bob = newUser();
      for (let i = 0; i < 3; i += 1) await follower.destroySessionsOf(ada); // ada's endings: 3
      const sid = await login(follower, { user: ada }); // written with ada's count, 3
      const loaded = await follower.get(sid);
      loaded!.user = bob; // bob logs in on that browser, the session id kept
      await follower.set(sid, loaded!);

      await follower.destroySessionsOf(bob); // bob's first ending: count 1

      expect(await follower.get(sid)).toBeNull();
      expect(await mover.get(sid)).toBeNull();
    });

    it('with credentialOf: a save giving a session there a credential a change replaced is refused and leaves it nowhere; the one in force is kept', async () => {
      const user = newUser();
      await mover.destroySessionsOf(user, { credential: 2 });
      const sid = await login(follower, { user, pw: 2 });
      const loaded = await follower.get(sid);
      loaded!.pw = 1; // a credential the change replaced (an app restoring an old one)
      await expect(follower.set(sid, loaded!)).rejects.toBeInstanceOf(CredentialReplacedError);
      expect(await held(sid)).toBeNull();
    });

    it('with credentialOf: a login here made with a credential a change replaced is refused and left nowhere', async () => {
      const user = newUser();
      await mover.destroySessionsOf(user, { credential: 2 });
      const sid = newSid();
      await expect(follower.set(sid, sessionFor({ user, pw: 1 }))).rejects.toBeInstanceOf(CredentialReplacedError);
      expect(await held(sid)).toBeNull();
      const fine = await login(follower, { user, pw: 2 });
      expect(await follower.get(fine)).toMatchObject({ user, pw: 2 });
    });

    it('a mark the version before left (no count) still ends the sessions old replicas made, and not a login made here since', async () => {
      const user = newUser();
      const old = await oldLogin({ user });
      // What a moving replica of the version before wrote for destroySessionsOf: one member, "0:previous-store".
      const { createHash } = await import('node:crypto');
      const markKey = createHash('sha256').update(`previous-ended\u0000${user}`).digest('base64url');
      await adapter.addToUserIndex(markKey, { id: 'previous-store', addedAtMs: 0 }, undefined);
      const since = await login(follower, { user });

      expect(await follower.get(old)).toBeNull();
      expect(await follower.get(since)).toMatchObject({ user });
    });
  });

  it('costs, counted: a session served from there, saved there, a login, a logout', async () => {
    const calls: Record<string, number> = {};
    const names = ['read', 'replace', 'update', 'delete', 'addToUserIndex', 'userIndex', 'removeFromUserIndex', 'noteIndexed'] as const;
    const counted = Object.fromEntries(names.map((name) => [name, (...args: unknown[]) => ((calls[name] = (calls[name] ?? 0) + 1), (adapter[name] as (...a: unknown[]) => unknown).apply(adapter, args))]));
    const there: Record<string, number> = {};
    const countedPrevious = Object.fromEntries((['get', 'set', 'destroy', 'touch'] as const).map((name) => [name, (...args: unknown[]) => ((there[name] = (there[name] ?? 0) + 1), (previous[name] as (...a: unknown[]) => unknown).apply(previous, args))]));
    const store = new KuraStore({ adapter: counted as never, clock, userOf, migrateFrom: { store: countedPrevious as never, move: false } });
    const costOf = async (step: () => Promise<unknown>) => {
      for (const tally of [calls, there]) for (const key of Object.keys(tally)) delete tally[key];
      await step();
      return { here: { ...calls }, there: { ...there } };
    };
    const sid = await oldLogin({ user: newUser() });

    // A read: the session and its record here, the user's mark; the session there.
    expect(await costOf(() => store.get(sid))).toEqual({ here: { read: 1, userIndex: 2 }, there: { get: 1 } });
    const loaded = await store.get(sid);
    loaded!.cart = [1];
    // A save (of a session an old replica wrote: with the count of endings its read saw): the write there, the record.
    expect(await costOf(() => store.set(sid, loaded!))).toEqual({ here: { userIndex: 1 }, there: { set: 1 } });
    loaded!.cart = [1, 2];
    expect(await costOf(() => store.set(sid, loaded!))).toEqual({ here: { userIndex: 1 }, there: { set: 1 } });
    expect(await costOf(() => store.touch(sid, loaded!))).toEqual({ here: { userIndex: 1 }, there: { touch: 1 } });
    // A login: the count, the write there.
    expect(await costOf(() => store.set(newSid(), sessionFor({ user: 'bob' })))).toEqual({ here: { userIndex: 1 }, there: { set: 1 } });
    // A logout: the session here, its record, its deletion; read there (its cookie's lifetime, which its record must outlast), destroyed there.
    expect(await costOf(() => store.destroy(sid))).toEqual({ here: { read: 1, addToUserIndex: 1, delete: 1 }, there: { get: 1, destroy: 1 } });
  });
  describe('found by the first review', () => {

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

  describe('found by the second review', () => {

    // A move carries over a follower's save that saw no record relative to what it read first (`found`); `stillLive` on
    // any Kura replica (B) that read the moved item before the move's second read put the stub back over the
    // follower's whole session, with no base to carry it over from, and the move's second read then found a stub and
    // carried nothing: acknowledged to C, lost. Order: A's item written, C's save there and its read of the record
    // (none yet), B's read, A's record and second read. `stillLive` now leaves a whole session there to the move for
    // 30 s (MOVE_SETTLE_MS).
    it("a follower's save landing during a move, with a third request reading the moved session before the move's second read, is not lost", async () => {
      const sid = await oldLogin({ user: 'ada', cart: [1] });
      const loaded = await follower.get(sid); // request C, on a follower, reads the session there
      loaded!.cart = [1, 2];
      let once = false;
      // Request A, on a mover, moves the session: right after its item is written (before its record)…
      const moving = new KuraStore({
        adapter: hooked(adapter, {
          replace: async (replace, id, item) => {
            await replace(id, item);
            if (once) return;
            once = true;
            await follower.set(sid, loaded!); // …C saves its change (acknowledged): no record yet, so the move is to carry it over…
            expect(await mover.get(sid)).toMatchObject({ user: 'ada' }); // …and request B, on any Kura replica, reads the moved session.
          },
        }),
        clock,
        userOf,
        credentialOf,
        migrateFrom: { store: previous },
      });
      expect(await moving.get(sid)).toMatchObject({ user: 'ada' });
      expect(once).toBe(true);

      expect(await held(sid)).toHaveProperty(MOVED_KEY);
      expect(await mover.get(sid)).toMatchObject({ cart: [1, 2] });
      expect(await follower.get(sid)).toMatchObject({ cart: [1, 2] });
    });

    describe('the record outlives every copy there a Kura replica could serve (a "remember me" cookie of 30 days)', () => {
      const DAYS_30 = 30 * 24 * 60 * MINUTE;
      /** A follower whose record writes are seen: the latest expiry a record was given. */
      const watched = () => {
        let recordUntil = 0;
        const store = new KuraStore({
          adapter: hooked(adapter, {
            addToUserIndex: (add, key, entry, untilMs) => {
              if (entry.id === 'previous-store' && entry.addedAtMs === 0 && untilMs !== undefined) recordUntil = Math.max(recordUntil, untilMs);
              return add(key, entry, untilMs);
            },
          }),
          clock,
          userOf,
          credentialOf,
          migrateFrom: { store: previous, move: false },
        });
        return { store, recordUntil: () => recordUntil };
      };
      const heldUntil = async (sid: string) => Date.now() + (await redis.previousClient.pTTL(`sess:${sid}`));

      it("a logout on a follower: the copy an old replica's request in flight writes back outlives no record", async () => {
        const sid = await redis.oldLogin(sessionFor({ user: 'ada' }, DAYS_30));
        const inFlight = await held(sid); // an old replica's request has loaded it…
        const { store, recordUntil } = watched();
        expect(await store.get(sid)).toMatchObject({ user: 'ada' });
        await store.destroy(sid); // …the user logs out on a follower…
        await redis.oldSave(sid, inFlight!); // …and the old replica's request saves it back (connect-redis: for its cookie's 30 days)

        expect(await follower.get(sid)).toBeNull();
        expect(recordUntil()).toBeGreaterThanOrEqual(await heldUntil(sid)); // observed: the rollout and one day, not 30
      });

      it('an ending a follower reads: the copy an old replica\'s request in flight writes back outlives no record', async () => {
        const user = newUser();
        const sid = await redis.oldLogin(sessionFor({ user }, DAYS_30));
        const inFlight = await held(sid);
        await follower.destroySessionsOf(user);
        const { store, recordUntil } = watched();
        expect(await store.get(sid)).toBeNull(); // ended, in both stores
        await redis.oldSave(sid, inFlight!);

        expect(await follower.get(sid)).toBeNull();
        expect(recordUntil()).toBeGreaterThanOrEqual(await heldUntil(sid));
      });
    });

    it('on connect-dynamodb, the stub lasts the rollout (connect-dynamodb sets its expiry by the cookie\'s maxAge, which JSON has not)', async () => {
      // connect-dynamodb's own expiry rule (DynamoDBStore#getExpiresValue, run on every set): epoch seconds.
      const DynamoDbStore = (createRequire(import.meta.url)('connect-dynamodb') as (connect: { Store: unknown }) => { prototype: { getExpiresValue(sess: object): number } })({ Store: function Store() {} });
      const expiresThere: Record<string, number> = {};
      const recorded: PreviousSessionStore = {
        get: (id, done) => previous.get(id, done as never),
        set: (id, session, done) => {
          expiresThere[id] = DynamoDbStore.prototype.getExpiresValue(session) * 1000;
          return previous.set(id, session as never, done as never);
        },
        destroy: (id, done) => previous.destroy(id, done as never),
      };
      const rolloutSeconds = 3 * 24 * 3600; // a canary rollout of three days
      const moving = new KuraStore({ adapter, clock, userOf, migrateFrom: { store: recorded, rolloutSeconds } });
      const sid = await oldLogin({ user: 'ada' });
      expect(await moving.get(sid)).toMatchObject({ user: 'ada' });

      expect(await held(sid)).toHaveProperty(MOVED_KEY);
      // A stub gone within the rollout reads as an old replica's logout: observed, one day (connect-dynamodb's default).
      expect(expiresThere[sid]).toBeGreaterThanOrEqual(Date.now() + rolloutSeconds * 1000);
    });
  });
});
