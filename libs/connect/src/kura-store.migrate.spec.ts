import { hash, randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import { ManualClock, StoreUnavailableError } from '@kura/common';
import type { RedisConnectSessionStore } from '@kura/redis';
import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import { holding } from '../../../test/support/held-adapter.js';
import { type PreviousAndKura, previousAndKuraOnRedis } from '../../../test/support/previous-store-fixture.js';
import { redisServerMissing, type RedisServer, settledWhilePaused, startRedisServer } from '../../../test/support/redis-server.js';
import { KuraStore } from './kura-store.js';
import { MOVED_KEY, type PreviousSessionStore } from './previous-store.js';
import { itemKeyOf } from './session-key.js';
import { credentialKeyOfUser, userIndexKeyOf } from './user-sessions.js';

/**
 * `migrateFrom`: an app switching from connect-redis to KuraStore keeps every login, on real servers (connect-redis
 * on one redis-server, KuraStore on another), including the interleavings with an old replica still running
 * connect-redis during the rollout, and an outage of the previous store. The journey through real apps is
 * `test/connect-migrate.e2e-spec`.
 */
const missing = redisServerMissing();
if (missing) console.warn(`SKIPPING KuraStore's migrateFrom: ${missing}`);
const describeWithRedis = missing ? describe.skip : describe;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const clock = new ManualClock(Date.now());
const newSid = () => randomBytes(18).toString('base64url');
const newUser = () => `user-${randomBytes(6).toString('hex')}`;
const sessionFor = (data: Record<string, unknown>, ms = 30 * MINUTE) => ({ cookie: { originalMaxAge: ms, expires: new Date(clock.now() + ms).toISOString(), httpOnly: true, path: '/' }, ...data });
const userOf = (session: Record<string, unknown>) => session.user;
const credentialOf = (session: Record<string, unknown>) => session.pw;
/** The key of session `sid`'s record, as KuraStore hands it to the adapter's user-index methods. */
const recordOf = (sid: string) => hash('sha256', `previous-moved\u0000${itemKeyOf(sid)}`, 'base64url');
/** Where KuraStore's adapter on Redis keeps it. */
const recordKeyOf = (sid: string) => `kura:connect-user:{${recordOf(sid)}}`;
type Settle = (error: unknown, value?: unknown) => void;

/**
 * connect-redis with a hook before each call of `name` (its number, from 1), to play an old replica's request
 * into a move, or to fail the call (a hook that rejects).
 */
function hooked(store: RedisStore, name: 'get' | 'set' | 'destroy', before: (call: number) => Promise<void>): PreviousSessionStore {
  let calls = 0;
  const call = (method: 'get' | 'set' | 'destroy') => (...args: unknown[]) => {
    const done = args.at(-1) as Settle;
    if (method !== name) return (store[method] as (...a: unknown[]) => unknown).apply(store, args);
    calls += 1;
    void before(calls).then(() => (store[method] as (...a: unknown[]) => unknown).apply(store, args), (error: unknown) => done(error));
  };
  return { get: call('get'), set: call('set'), destroy: call('destroy') } as PreviousSessionStore;
}

describeWithRedis('KuraStore: moving sessions from the previous store (migrateFrom)', () => {
  const redis = previousAndKuraOnRedis();
  // Set by the fixture's beforeAll, which runs first.
  let previous: RedisStore;
  let adapter: RedisConnectSessionStore;
  let previousClient: PreviousAndKura['previousClient'];
  let previousServer: RedisServer;
  let sut: KuraStore;
  const held = (sid: string) => redis.held(sid);
  /** A session an old replica made, through connect-redis itself. */
  const oldLogin = (data: Record<string, unknown>) => redis.oldLogin(sessionFor(data));

  beforeAll(() => {
    ({ previous, adapter, previousClient, previousServer } = redis);
    sut = new KuraStore({ adapter, clock, migrateFrom: { store: previous }, userOf });
  });

  it('gives a moved session the generation every Kura version gives it (a literal), so that in a rolling upgrade a move landing late from the other version writes over no save made since', async () => {
    // A move writes its item with this generation, and a replace finding it already there writes nothing (the
    // port's rule): a move landing late, or retried, leaves alone the saves made since. A version deriving it
    // otherwise would have its late move written over them.
    const sid = 'kura-moved-generation-golden';
    await new Promise<void>((resolve, reject) => previous.set(sid, sessionFor({ user: 'ada' }) as never, (error?: unknown) => (error ? reject(error) : resolve())));

    expect(await sut.get(sid)).toMatchObject({ user: 'ada' });

    expect(itemKeyOf(sid)).toBe('32hhhJmk-zHzvFuJe8JXeoL-6HeCum_CbsiXx98zSPQ');
    expect((await adapter.read(itemKeyOf(sid), clock.now()))?.generation).toBe('moved-WehX7FS2iyHxX3j1OFzMYAMIuY_n1K2BOKLpY0YgKrs');
  });

  it('moves a session on its first read, data and cookie as they were; leaves a stub of its cookie there that lasts the rollout; after the rollout, never reads the previous store again', async () => {
    const sid = await oldLogin({ user: 'ada', cart: [1, 2] });
    const before = await held(sid);

    const moved = await sut.get(sid);

    expect(JSON.parse(JSON.stringify(moved))).toEqual({ cookie: before!.cookie, user: 'ada', cart: [1, 2] });
    expect(await adapter.read(itemKeyOf(sid), clock.now())).toMatchObject({ data: new Map([['user', '"ada"'], ['cart', '[1,2]']]), movedAtMs: clock.now() });
    // The stub's cookie lasts until the rollout (an hour) ends, and five minutes more (its expiry and its maxAge, so
    // an old replica's touch cannot shorten it): connect-redis's expiry follows it.
    const lasting = HOUR + 5 * MINUTE;
    expect(await held(sid)).toEqual({ cookie: { ...(before!.cookie as object), originalMaxAge: lasting, expires: new Date(clock.now() + lasting).toISOString() }, [MOVED_KEY]: new Date(clock.now()).toISOString() });
    expect(await previousClient.ttl(`sess:${sid}`)).toBeGreaterThan(60 * 60);

    const gets = jest.spyOn(previous, 'get');
    try {
      // During the rollout, each read looks at the previous store: the stub is there, the session stays.
      expect(JSON.stringify(await sut.get(sid))).toEqual(JSON.stringify(moved));
      expect(gets).toHaveBeenCalledTimes(1);
      gets.mockClear();
      // After it (ten minutes here), never.
      const shortRollout = new KuraStore({ adapter, clock, migrateFrom: { store: previous, rolloutSeconds: 600 } });
      clock.advance(11 * MINUTE);
      try {
        const later = (await shortRollout.get(sid))!;
        await shortRollout.set(sid, { ...later, cart: [3] });
        expect(await shortRollout.get(sid)).toMatchObject({ user: 'ada', cart: [3] });
        expect(gets).not.toHaveBeenCalled();
      } finally {
        clock.advance(-11 * MINUTE);
      }
    } finally {
      gets.mockRestore();
    }
  });

  it('costs, counted: a move, a read during the rollout and after it, a logout; a session made here costs what it does without migrateFrom', async () => {
    const calls: Record<string, number> = {};
    const names = ['read', 'replace', 'update', 'delete', 'addToUserIndex', 'userIndex', 'removeFromUserIndex', 'noteIndexed'] as const;
    const counted = Object.fromEntries(names.map((name) => [name, (...args: unknown[]) => ((calls[name] = (calls[name] ?? 0) + 1), (adapter[name] as (...a: unknown[]) => unknown).apply(adapter, args))]));
    const there: Record<string, number> = {};
    const countedPrevious = Object.fromEntries((['get', 'set', 'destroy'] as const).map((name) => [name, (...args: unknown[]) => ((there[name] = (there[name] ?? 0) + 1), (previous[name] as (...a: unknown[]) => unknown).apply(previous, args))]));
    const store = new KuraStore({ adapter: counted as never, clock, migrateFrom: { store: countedPrevious as never, rolloutSeconds: 600 } });
    const costOf = async (step: () => Promise<unknown>) => {
      for (const tally of [calls, there]) for (const key of Object.keys(tally)) delete tally[key];
      await step();
      return { here: { ...calls }, there: { ...there } };
    };
    const sid = await oldLogin({ user: 'ada' });

    // The move: the record looked for, the session read there, written here with its record, read there again, the stub, read back.
    expect(await costOf(() => store.get(sid))).toEqual({ here: { read: 2, userIndex: 1, replace: 1, addToUserIndex: 1 }, there: { get: 2, set: 1 } });
    // During the rollout: one read here, one there, no write anywhere.
    expect(await costOf(() => store.get(sid))).toEqual({ here: { read: 1 }, there: { get: 1 } });
    // After it: what any session costs.
    clock.advance(11 * MINUTE);
    try {
      expect(await costOf(() => store.get(sid))).toEqual({ here: { read: 1 }, there: {} });
      // A logout: read, record, delete here; destroyed there.
      expect(await costOf(() => store.destroy(sid))).toEqual({ here: { read: 1, addToUserIndex: 1, delete: 1 }, there: { destroy: 1 } });
    } finally {
      clock.advance(-11 * MINUTE);
    }
    // A session made here: one read, and nothing there.
    const made = newSid();
    await store.set(made, sessionFor({ user: 'bob' }));
    expect(await costOf(() => store.get(made))).toEqual({ here: { read: 1 }, there: {} });
    // A new visitor's cookie (an id neither store knows): the record looked for here, one read there.
    expect(await costOf(() => store.get(newSid()))).toEqual({ here: { read: 1, userIndex: 1 }, there: { get: 1 } });
    // A login: express-session's regenerate destroys the request's fresh session id, which no store holds.
    expect(await costOf(() => new Promise((resolve) => store.regenerate({ sessionID: newSid() }, resolve)))).toEqual({ here: { read: 1, delete: 1 }, there: { destroy: 1 } });
    // With userOf, a move also adds the session to its user's index and looks for the user's mark.
    const indexed = new KuraStore({ adapter: counted as never, clock, userOf, migrateFrom: { store: countedPrevious as never } });
    const another = await oldLogin({ user: newUser() });
    expect(await costOf(() => indexed.get(another))).toEqual({ here: { read: 2, userIndex: 2, replace: 1, addToUserIndex: 2 }, there: { get: 2, set: 1 } });
  });

  it('a login does not depend on the previous store: with it gone, regenerating a fresh session id succeeds (the id gets its record instead)', async () => {
    const server = await startRedisServer();
    const client = createClient({ url: server.url, socket: { reconnectStrategy: 50 } });
    client.on('error', () => undefined);
    await client.connect();
    const store = new KuraStore({ adapter, clock, migrateFrom: { store: new RedisStore({ client }), timeoutMs: 300 } });
    try {
      await server.stop();
      const fresh = newSid();

      expect(await new Promise((resolve) => store.regenerate({ sessionID: fresh }, resolve))).toBeNull();

      expect(await store.get(fresh)).toBeNull(); // its record answers, without the previous store
    } finally {
      client.destroy();
    }
  });

  it('"log out everywhere" leaves one mark for the user in the previous store\'s stead, the same one however often it is called', async () => {
    const user = newUser();
    for (let call = 0; call < 20; call += 1) {
      await sut.destroySessionsOf(user);
      clock.advance(1);
    }

    expect(await adapter.userIndex(hash('sha256', `previous-ended\u0000${user}`, 'base64url'))).toHaveLength(1);
  });

  it('a moved session is KuraStore\'s: saves write only what changed, the user joins the index, the absolute lifetime starts at the move', async () => {
    const user = newUser();
    const sid = await oldLogin({ user, theme: 'dark' });

    const session = (await sut.get(sid))!;
    await sut.set(sid, { ...session, theme: 'light' });

    expect(await sut.get(sid)).toMatchObject({ user, theme: 'light' });
    expect((await sut.sessionsOf(user, { current: sid })).map((entry) => entry.current)).toEqual([true]);
    const item = await adapter.read(itemKeyOf(sid), clock.now());
    expect(item?.absoluteExpiresAtMs).toBe(clock.now() + DAY);
  });

  it('finds nothing for a session id neither store knows: nothing written anywhere', async () => {
    const unknown = newSid();

    expect(await sut.get(unknown)).toBeNull();

    expect(await held(unknown)).toBeNull();
    expect(await adapter.read(itemKeyOf(unknown), clock.now())).toBeUndefined();
  });

  it('moves a session the previous store still holds though the cookie inside it says it expired (its touch moved only that store\'s expiry): for one lifetime from now', async () => {
    const sid = await oldLogin({ user: 'ada' });
    clock.advance(31 * MINUTE); // past the cookie's expires; connect-redis keeps it (its TTL runs in real time)
    try {
      expect(await sut.get(sid)).toMatchObject({ user: 'ada' });
      expect((await adapter.read(itemKeyOf(sid), clock.now()))?.expiresAtMs).toBe(clock.now() + 30 * MINUTE);
    } finally {
      clock.advance(-31 * MINUTE);
    }
  });

  it('20 requests moving one session at once, each then setting a key of its own: every one finds the session, every key is kept', async () => {
    const sid = await oldLogin({ user: 'ada' });
    const stores = Array.from({ length: 4 }, () => new KuraStore({ adapter, clock, migrateFrom: { store: previous } }));

    const found = await Promise.all(
      Array.from({ length: 20 }, async (_, index) => {
        const store = stores[index % 4]!;
        const session = await store.get(sid);
        if (session) await store.set(sid, { ...session, [`k${index}`]: index });
        return session?.user;
      }),
    );

    expect(found).toEqual(Array(20).fill('ada'));
    const stored = (await sut.get(sid))!;
    expect(Array.from({ length: 20 }, (_, index) => stored[`k${index}`])).toEqual(Array.from({ length: 20 }, (_, index) => index));
    expect((await held(sid))?.[MOVED_KEY]).toBeDefined();
  });

  describe('two requests moving one session, one behind the other', () => {
    /** A store whose first `read` here, or first `get` there, is answered, then held until `go` is called. */
    function lagging(where: 'here' | 'there') {
      let go!: () => void;
      const gate = new Promise<void>((resolve) => (go = resolve));
      let held = false;
      const holdOnce = async <T>(answer: Promise<T>): Promise<T> => {
        const value = await answer;
        if (!held) {
          held = true;
          await gate;
        }
        return value;
      };
      const methods = ['replace', 'update', 'delete', 'addToUserIndex', 'userIndex', 'removeFromUserIndex', 'noteIndexed'] as const;
      const laggingAdapter = {
        ...(Object.fromEntries(methods.map((name) => [name, (adapter[name] as (...a: unknown[]) => unknown).bind(adapter)])) as Pick<RedisConnectSessionStore, (typeof methods)[number]>),
        read: (id: string, now: number) => (where === 'here' ? holdOnce(adapter.read(id, now)) : adapter.read(id, now)),
      };
      const laggingPrevious: PreviousSessionStore = {
        get: (sid, done) => void (where === 'there' ? holdOnce(previous.get(sid)) : previous.get(sid)).then((value) => done(null, value), done),
        set: (sid, session, done) => previous.set(sid, session as never, done),
        destroy: (sid, done) => previous.destroy(sid, done),
      };
      return { store: new KuraStore({ adapter: laggingAdapter, clock, migrateFrom: { store: laggingPrevious } }), go };
    }

    it('the one behind finds the stub of the first: it serves what the first moved, changes since included', async () => {
      const sid = await oldLogin({ user: 'ada' });
      const behind = lagging('here');
      const second = behind.store.get(sid); // found nothing here before the first moved it
      const first = (await sut.get(sid))!;
      await sut.set(sid, { ...first, step: 1 });
      behind.go();

      expect(await second).toMatchObject({ user: 'ada', step: 1 });
    });

    it('the one behind read the previous store before the first moved it: its write leaves the first\'s changes in place', async () => {
      const sid = await oldLogin({ user: 'ada' });
      const behind = lagging('there');
      const second = behind.store.get(sid);
      const first = (await sut.get(sid))!;
      await sut.set(sid, { ...first, step: 1 });
      behind.go();

      const late = (await second)!;
      await behind.store.set(sid, { ...late, other: 2 });
      expect(await sut.get(sid)).toMatchObject({ user: 'ada', step: 1, other: 2 });
    });
  });

  it('a logout on KuraStore reaches the previous store: an old replica finds no session, and no later read moves it back', async () => {
    const sid = await oldLogin({ user: 'ada' });
    await sut.get(sid);

    await sut.destroy(sid);

    expect(await held(sid)).toBeNull();
    expect(await sut.get(sid)).toBeNull();
  });

  it("keeps a session's record expiring when a replica whose clock is a minute behind writes it again (a logout after the move): its one member written again once emptied the set, and Redis dropped its expiry", async () => {
    const sid = await oldLogin({ user: 'ada' });
    const behind = new KuraStore({ adapter, clock: { now: () => clock.now() - MINUTE }, migrateFrom: { store: previous }, userOf });
    const recordKey = `kura:connect-user:{${hash('sha256', `previous-moved\u0000${itemKeyOf(sid)}`, 'base64url')}}`;
    const ttl = async () => Number(await redis.kuraClient.sendCommand(['PTTL', recordKey]));

    expect(await sut.get(sid)).toMatchObject({ user: 'ada' }); // moved: its record written
    const afterMove = await ttl();
    await behind.destroy(sid); // the record written again, with an end a minute earlier
    const afterLogout = await ttl();

    expect(afterMove).toBeGreaterThan(DAY);
    expect(afterLogout).toBeGreaterThan(DAY);
  });

  it('an old replica\'s logout between the move\'s write and its stub wins: the moved copy is deleted', async () => {
    const sid = await oldLogin({ user: 'ada' });
    // The move's second read of the previous store (its check after writing here) comes after an old replica's logout.
    const store = new KuraStore({ adapter, clock, migrateFrom: { store: hooked(previous, 'get', async (call) => void (call === 2 && (await previous.destroy(sid)))) } });

    expect(await store.get(sid)).toBeNull();

    expect(await adapter.read(itemKeyOf(sid), clock.now())).toBeUndefined();
    expect(await sut.get(sid)).toBeNull();
  });

  it('an old replica\'s save between the move\'s two reads of the previous store comes with it: the keys it changed are made to the moved session, then the stub is left', async () => {
    const sid = await oldLogin({ user: 'ada', cart: [1], theme: 'light' });
    const oldReplicaSave = async () => {
      const loaded = await held(sid);
      await previous.set(sid, { ...loaded, cart: [1, 2] } as never);
    };
    const store = new KuraStore({ adapter, clock, userOf, migrateFrom: { store: hooked(previous, 'get', async (call) => void (call === 2 && (await oldReplicaSave()))) } });

    expect(await store.get(sid)).toMatchObject({ user: 'ada', cart: [1, 2], theme: 'light' });

    expect(await held(sid)).toHaveProperty(MOVED_KEY);
    expect(await sut.get(sid)).toMatchObject({ user: 'ada', cart: [1, 2], theme: 'light' });
  });

  it('an old replica\'s login of another user on the session between the move\'s two reads ends what moved: the browser is theirs now', async () => {
    const sid = await oldLogin({ user: 'ada', cart: [1] });
    const anotherLogin = async () => void (await previous.set(sid, sessionFor({ user: 'mallory' }) as never));
    const store = new KuraStore({ adapter, clock, userOf, migrateFrom: { store: hooked(previous, 'get', async (call) => void (call === 2 && (await anotherLogin()))) } });

    expect(await store.get(sid)).toBeNull();

    expect(await adapter.read(itemKeyOf(sid), clock.now())).toBeUndefined();
    expect(await sut.get(sid)).toBeNull();
  });

  it('a destroy of an id not held here whose call to the previous store fails still ends it: the record keeps the copy there from ever moving, without asking the previous store again', async () => {
    // Not moved yet (an app destroying an id it did not read; most often, a login's regenerate of a fresh id): the
    // connection to the previous store just failed. The destroy resolves: a login does not fail for it.
    const sid = await oldLogin({ user: 'ada' });
    const failing = new KuraStore({ adapter, clock, migrateFrom: { store: hooked(previous, 'destroy', () => Promise.reject(new Error('connection lost'))) } });

    await expect(failing.destroy(sid)).resolves.toBeUndefined();
    expect(await held(sid)).toMatchObject({ user: 'ada' });

    const gets = jest.spyOn(previous, 'get');
    try {
      expect(await sut.get(sid)).toBeNull();
      expect(gets).not.toHaveBeenCalled();
    } finally {
      gets.mockRestore();
    }
  });

  it('"log out everywhere" ends the user\'s sessions still in the previous store, even one whose move had begun', async () => {
    const user = newUser();
    const moved = await oldLogin({ user, device: 'laptop' });
    const waiting = await oldLogin({ user, device: 'phone' });
    const racing = await oldLogin({ user, device: 'tablet' });
    await sut.get(moved);
    // The tablet's move reads the previous store, and "log out everywhere" runs before it writes here.
    const addHeld = holding(adapter, 'addToUserIndex');
    const racer = new KuraStore({ adapter: addHeld.adapter, clock, userOf, migrateFrom: { store: previous } });
    const tablet = racer.get(racing);
    await addHeld.reached;

    expect(await sut.destroySessionsOf(user, { except: moved })).toBe(0);
    addHeld.release();

    expect(await tablet).toBeNull();
    expect(await sut.get(waiting)).toBeNull();
    expect(await held(waiting)).toBeNull();
    expect(await sut.get(moved)).toMatchObject({ device: 'laptop' });
    // Another user's are not touched.
    const other = await oldLogin({ user: newUser() });
    expect(await sut.get(other)).not.toBeNull();
  });

  it('the previous store down or stalled: StoreUnavailableError within migrateFrom.timeoutMs, never "no session"; a session already moved is served without it', async () => {
    const moved = await oldLogin({ user: 'ada' });
    const waiting = await oldLogin({ user: 'ada' });
    await sut.get(moved);
    const store = new KuraStore({ adapter, clock, migrateFrom: { store: previous, timeoutMs: 300 } });

    const { outcome, ms } = await settledWhilePaused(previousServer, () => Promise.all([store.get(waiting), store.get(moved)]).catch((error: unknown) => error));

    console.info(`previous store stalled: answered in ${ms} ms`);
    expect(outcome).toBeInstanceOf(StoreUnavailableError);
    expect((outcome as StoreUnavailableError).retryAfterSeconds).toBe(1);
    // Its own deadline ended it, not the previous store; ten deadlines, for a loaded machine's timers.
    expect(ms).toBeLessThan(3000);
    expect(await store.get(moved)).toMatchObject({ user: 'ada' });
    expect(await store.get(waiting)).toMatchObject({ user: 'ada' });
  });

  it('a move whose credential check fails (the storage down, not a replaced credential) fails the read with StoreUnavailableError and ends nothing: the session stays there, and moves on the next request', async () => {
    const user = newUser();
    const sid = await oldLogin({ user, pw: 1 });
    let down = true;
    const methods = ['read', 'replace', 'update', 'delete', 'addToUserIndex', 'userIndex', 'removeFromUserIndex', 'noteIndexed'] as const;
    // The user's credential note is read by the move's check alone (`checkCredential`): that read fails.
    const failing = Object.fromEntries(
      methods.map((name) => [
        name,
        (...args: unknown[]) => (down && name === 'userIndex' && args[0] === credentialKeyOfUser(user) ? Promise.reject(new StoreUnavailableError('userIndex')) : (adapter[name] as (...a: unknown[]) => unknown).apply(adapter, args)),
      ]),
    );
    const store = new KuraStore({ adapter: failing as never, clock, userOf, credentialOf, migrateFrom: { store: previous } });

    await expect(store.get(sid)).rejects.toBeInstanceOf(StoreUnavailableError);

    expect(await held(sid)).toMatchObject({ user, pw: 1 }); // not destroyed there
    expect(await adapter.userIndex(recordOf(sid))).toEqual([]); // not recorded here
    down = false;
    expect(await store.get(sid)).toMatchObject({ user, pw: 1 });
    expect(await held(sid)).toHaveProperty(MOVED_KEY);
  });

  it('a session in the previous store too large for KuraStore (over 350,000 bytes) is left where it is: no session here, nothing written, no error', async () => {
    const user = newUser();
    const sid = await oldLogin({ user, blob: 'x'.repeat(360_000) });

    expect(await sut.get(sid)).toBeNull();

    expect(await adapter.read(itemKeyOf(sid), clock.now())).toBeUndefined();
    expect(await redis.kuraClient.sendCommand(['EXISTS', recordKeyOf(sid)])).toBe(0);
    expect(await adapter.userIndex(userIndexKeyOf(user))).toEqual([]);
    expect(await held(sid)).toMatchObject({ user, blob: expect.any(String) });
  });

  it('a session there whose cookie is null (none a framework could load) moves for the store\'s idle lifetime, and leaves no stub there (it is destroyed instead)', async () => {
    const store = new KuraStore({ adapter, clock, userOf, ttlSeconds: 1800, migrateFrom: { store: previous } });
    const sid = newSid();
    await redis.oldSave(sid, { cookie: null, user: 'ada' });

    expect(await store.get(sid)).toMatchObject({ user: 'ada' });

    expect((await adapter.read(itemKeyOf(sid), clock.now()))?.expiresAtMs).toBe(clock.now() + 30 * MINUTE);
    expect(await held(sid)).toBeNull();
  });

  it('a save between the move\'s two reads whose user userOf cannot read ends what moved: no user KuraStore can compare is the same user', async () => {
    const sid = await oldLogin({ user: 'ada', cart: [1] });
    const loaded = (await held(sid))!;
    // userOf gives an object: not a user's id (KuraStore's userOf throws on it).
    const unreadableSave = async () => void (await previous.set(sid, { ...loaded, user: { id: 'ada' } } as never));
    const store = new KuraStore({ adapter, clock, userOf, migrateFrom: { store: hooked(previous, 'get', async (call) => void (call === 2 && (await unreadableSave()))) } });

    expect(await store.get(sid)).toBeNull();

    expect(await adapter.read(itemKeyOf(sid), clock.now())).toBeUndefined();
    expect(await sut.get(sid)).toBeNull(); // its record keeps what was moved from coming back
  });

  it('a whole session over the stub during the rollout whose user userOf cannot read does not end the moved session: no user KuraStore can compare is another user', async () => {
    const sid = await oldLogin({ user: 'ada', cart: [1] });
    expect(await sut.get(sid)).toMatchObject({ user: 'ada' }); // moved: the stub there

    await redis.oldSave(sid, sessionFor({ user: { id: 'mallory' } }));

    expect(await sut.get(sid)).toMatchObject({ user: 'ada', cart: [1] });
    expect(await adapter.read(itemKeyOf(sid), clock.now())).toBeDefined();
  });

  it('the stub keeps a cookie lifetime longer than the rollout ("remember me" for 30 days): an old replica\'s rolling answer then keeps the browser\'s cookie as long; a cookie with no originalMaxAge gets the rollout\'s', async () => {
    const sid = await redis.oldLogin(sessionFor({ user: 'ada' }, 30 * DAY));
    const before = (await held(sid))!;

    expect(await sut.get(sid)).toMatchObject({ user: 'ada' });

    expect((await held(sid))?.cookie).toEqual({ ...(before.cookie as object), originalMaxAge: 30 * DAY });
    // A cookie without originalMaxAge (another framework's): the stub's lasts the rollout and the margin.
    const bare = await redis.oldLogin({ cookie: { expires: new Date(clock.now() + 30 * MINUTE).toISOString(), httpOnly: true, path: '/' }, user: 'bob' });
    expect(await sut.get(bare)).toMatchObject({ user: 'bob' });
    expect((await held(bare))?.cookie).toMatchObject({ originalMaxAge: HOUR + 5 * MINUTE, expires: new Date(clock.now() + HOUR + 5 * MINUTE).toISOString() });
  });

  it('a session\'s record outlives its cookie when its item ends sooner (a 30-day cookie, an absolute lifetime of a day): an old replica\'s copy written back after a logout never moves', async () => {
    const store = new KuraStore({ adapter, clock, userOf, absoluteTtlSeconds: 86_400, migrateFrom: { store: previous } });
    const sid = await redis.oldLogin(sessionFor({ user: 'ada' }, 30 * DAY));
    const loadedByOldReplica = (await held(sid))!;
    expect(await store.get(sid)).toMatchObject({ user: 'ada' });
    expect((await adapter.read(itemKeyOf(sid), clock.now()))?.expiresAtMs).toBe(clock.now() + DAY); // the item: a day

    await store.destroy(sid);

    // Redis frees the record in real time, not on the ManualClock: its expiry is looked at directly. The cookie's
    // 30 days (the previous store keeps a copy as long), the rollout and the margin.
    const recordTtl = Number(await redis.kuraClient.sendCommand(['PTTL', recordKeyOf(sid)]));
    expect(recordTtl).toBeGreaterThan(30 * DAY + HOUR);
    expect(recordTtl).toBeLessThanOrEqual(30 * DAY + HOUR + 5 * MINUTE); // and no longer
    clock.advance(2 * DAY);
    try {
      await redis.oldSave(sid, loadedByOldReplica); // an old replica's request in flight, written back
      expect(await store.get(sid)).toBeNull();
      expect(await held(sid)).toMatchObject({ user: 'ada' }); // never moved again
    } finally {
      clock.advance(-2 * DAY);
    }
  });

  it('destroying a session made here (never moved) costs the previous store nothing', async () => {
    const there: Record<string, number> = {};
    const countedPrevious = Object.fromEntries((['get', 'set', 'destroy'] as const).map((name) => [name, (...args: unknown[]) => ((there[name] = (there[name] ?? 0) + 1), (previous[name] as (...a: unknown[]) => unknown).apply(previous, args))]));
    const store = new KuraStore({ adapter, clock, userOf, migrateFrom: { store: countedPrevious as never } });
    const made = newSid();
    await store.set(made, sessionFor({ user: 'bob' }));

    await store.destroy(made);

    expect(there).toEqual({});
    expect(await store.get(made)).toBeNull(); // its record answers
    expect(there).toEqual({});
  });

  it('two moves of one session: the one behind, past its record check before the first wrote its record, finds the first\'s stub and serves what the first moved (a save since that wrote it whole included), not the stub', async () => {
    const sid = await oldLogin({ user: 'ada', cart: [1] });
    let reach!: () => void;
    const reached = new Promise<void>((resolve) => (reach = resolve));
    let go!: () => void;
    const gate = new Promise<void>((resolve) => (go = resolve));
    // Its first read of the previous store waits, after its record check found nothing.
    const behind = new KuraStore({ adapter, clock, userOf, migrateFrom: { store: hooked(previous, 'get', async (call) => void (call === 1 && (reach(), await gate))) } });
    const second = behind.get(sid);
    await reached;
    expect(await sut.get(sid)).toMatchObject({ user: 'ada' }); // the first move: its item, record and stub
    // A request that saves the session whole (one it did not read through this store): a generation of its own.
    await new KuraStore({ adapter, clock, userOf, migrateFrom: { store: previous } }).set(sid, sessionFor({ user: 'ada', cart: [1, 2] }));
    go();

    expect(await second).toMatchObject({ user: 'ada', cart: [1, 2] });
    expect(await sut.get(sid)).toMatchObject({ user: 'ada', cart: [1, 2] });
  });

  it('a logout through another KuraStore between a move\'s write and its second read, then an old replica\'s save there: the move carries nothing over to a session gone, and answers no session (no error)', async () => {
    const sid = await oldLogin({ user: 'ada', cart: [1] });
    const loadedByOldReplica = (await held(sid))!;
    const logoutThenOldSave = async () => {
      await sut.destroy(sid); // the moved item, just written: deleted here and there
      await redis.oldSave(sid, { ...loadedByOldReplica, cart: [1, 2] }); // an old replica's request in flight
    };
    const store = new KuraStore({ adapter, clock, userOf, migrateFrom: { store: hooked(previous, 'get', async (call) => void (call === 2 && (await logoutThenOldSave()))) } });

    expect(await store.get(sid)).toBeNull();

    expect(await adapter.read(itemKeyOf(sid), clock.now())).toBeUndefined();
    expect(await sut.get(sid)).toBeNull();
  });
});

describe('migrateFrom, unit', () => {
  it('a store that throws, or calls back with an error, is a StoreUnavailableError that carries the cause', async () => {
    const cause = new Error('connection refused');
    const adapter = { read: async () => undefined, replace: async () => undefined, update: async () => false, delete: async () => undefined, addToUserIndex: async () => 1, userIndex: async () => [], removeFromUserIndex: async () => undefined, noteIndexed: async () => false };
    const throwing: PreviousSessionStore = { get: () => { throw cause; }, set: (_s, _v, done: Settle) => done(null), destroy: (_s, done: Settle) => done(cause) };

    const store = new KuraStore({ adapter: adapter as never, migrateFrom: { store: throwing } });

    await expect(store.get('sid')).rejects.toMatchObject({ name: 'StoreUnavailableError', operation: 'migrateFrom.get', cause });
    // A moved session's logout needs the previous store (an old replica must not serve it).
    const moved = new KuraStore({ adapter: { ...adapter, read: async () => ({ data: new Map(), cookie: undefined, expiresAtMs: Date.now() + 60_000, movedAtMs: Date.now(), generation: 'g' }) } as never, migrateFrom: { store: throwing } });
    await expect(moved.destroy('sid')).rejects.toMatchObject({ name: 'StoreUnavailableError', operation: 'migrateFrom.destroy', cause });
  });
});
