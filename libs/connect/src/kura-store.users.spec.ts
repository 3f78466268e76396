import { randomBytes } from 'node:crypto';
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { type ConnectSessionStore, ManualClock, StoreUnavailableError, UserIndexFullError } from '@kura/common';
import { createDynamoDbClients, DynamoDbCallLog, DynamoDbConnectSessionStore, ensureConnectSessionTable } from '@kura/dynamodb';
import { LOCAL_CREDENTIALS, testEndpoint } from '../../../test/support/engine.js';
import { type FaultProxy, startFaultProxy } from '../../../test/support/fault-proxy.js';
import { holding } from '../../../test/support/held-adapter.js';
import { CredentialReplacedError } from './credential-replaced.error.js';
import { KuraStore } from './kura-store.js';
import { KuraStoreOptionsError } from './kura-store.options.js';
import { itemKeyOf } from './session-key.js';
import { credentialKeyOfUser, userIndexKeyOf } from './user-sessions.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const tableName = `u${randomBytes(4).toString('hex')}-kura-users`;
const clock = new ManualClock(Date.now());
const callLog = new DynamoDbCallLog();
const connection = { region: 'us-east-1', endpoint: testEndpoint(), credentials: LOCAL_CREDENTIALS, timeoutMs: 5000 };
const { client } = createDynamoDbClients({ ...connection, callLog });
/** The adapter under every store here, so a test can look at a user's index itself. */
const adapter = new DynamoDbConnectSessionStore(client, { tableName });
const userOf = (session: Record<string, unknown>) => session.user;
let sut: KuraStore;
let proxy: FaultProxy;

beforeAll(async () => {
  await ensureConnectSessionTable(client, tableName);
  sut = new KuraStore({ adapter, clock, userOf });
  proxy = await startFaultProxy(testEndpoint());
});
afterAll(async () => {
  await proxy.close();
  client.destroy();
});
beforeEach(() => callLog.reset());

const newSid = () => randomBytes(18).toString('base64url');
const newUser = () => `user-${randomBytes(6).toString('hex')}`;
const sessionFor = (data: Record<string, unknown>, ms = 30 * MINUTE) => ({ cookie: { originalMaxAge: ms, expires: new Date(clock.now() + ms).toISOString(), path: '/' }, ...data });
const writes = () => callLog.snapshot().writes;
/** A login as the frameworks make one: a new session id, written whole with the user (after `regenerate`). */
async function logIn(user: string | number, data: Record<string, unknown> = {}, store = sut): Promise<string> {
  const sid = newSid();
  await store.set(sid, sessionFor({ user, ...data }));
  return sid;
}
/** Every call of the port on `inner`, as a plain object whose calls a test can replace. */
const wrapped = (inner: ConnectSessionStore): ConnectSessionStore => ({
  read: (...args) => inner.read(...args),
  readOrMark: (...args) => inner.readOrMark!(...args),
  replace: (...args) => inner.replace(...args),
  update: (...args) => inner.update(...args),
  delete: (...args) => inner.delete(...args),
  addToUserIndex: (...args) => inner.addToUserIndex(...args),
  userIndex: (...args) => inner.userIndex(...args),
  removeFromUserIndex: (...args) => inner.removeFromUserIndex(...args),
  noteIndexed: (...args) => inner.noteIndexed(...args),
});
const indexOf = (user: string) => adapter.userIndex(userIndexKeyOf(user));
const rawItem = async (id: string) => (await client.send(new GetItemCommand({ TableName: tableName, Key: { id: { S: id } }, ConsistentRead: true }))).Item;

describe('KuraStore: every session of a user (the userOf option)', () => {
  it('lists the live sessions of a user, newest first, with what they hold, and no one else\'s', async () => {
    const [ada, bob] = [newUser(), newUser()];
    const laptop = await logIn(ada, { device: 'laptop' });
    clock.advance(1000);
    const phone = await logIn(ada, { device: 'phone' });
    await logIn(bob, { device: 'bob' });
    await sut.set(newSid(), sessionFor({ cart: 1 })); // anonymous: in no index

    const listed = await sut.sessionsOf(ada, { current: phone });

    expect(listed.map((entry) => [entry.session.device, entry.current])).toEqual([
      ['phone', true],
      ['laptop', false],
    ]);
    expect(listed[0]!.expiresAt.getTime()).toBe(clock.now() + 30 * MINUTE);
    expect(listed[0]!.session).toMatchObject({ user: ada, cookie: { originalMaxAge: 30 * MINUTE } });
    // A handle is neither the session id nor the key it is stored under.
    for (const sid of [laptop, phone]) expect(listed.map((entry) => entry.handle)).not.toContain(sid);
    expect(listed.map((entry) => entry.handle)).not.toContain(itemKeyOf(laptop));
  });

  it('costs a login one write more (the index), and a steady request or a save that keeps its user nothing more', async () => {
    const user = newUser();

    const sid = await logIn(user);
    expect(writes()).toBe(2);

    callLog.reset();
    const loaded = (await sut.get(sid))!;
    await sut.touch(sid, loaded);
    expect(callLog.snapshot()).toMatchObject({ reads: 1, writes: 0 });

    callLog.reset();
    await sut.set(sid, { ...(await sut.get(sid))!, cart: 3 });
    expect(writes()).toBe(1);
  });

  it('ends every other session of the user on "log out everywhere else", and keeps the current one and other users\'', async () => {
    const [ada, bob] = [newUser(), newUser()];
    const [first, second, current] = [await logIn(ada), await logIn(ada), await logIn(ada)];
    const bobs = await logIn(bob);

    expect(await sut.destroySessionsOf(ada, { except: current })).toBe(2);

    expect(await sut.get(first)).toBeNull();
    expect(await sut.get(second)).toBeNull();
    expect(await sut.get(current)).not.toBeNull();
    expect(await sut.get(bobs)).not.toBeNull();
    expect((await sut.sessionsOf(ada)).map((entry) => entry.current)).toEqual([false]);
    expect(await indexOf(ada)).toEqual([expect.objectContaining({ id: itemKeyOf(current) })]);
    // A user id given as a number is the same user as its decimal text.
    const numbered = await logIn(42);
    expect(await sut.destroySessionsOf('42')).toBeGreaterThanOrEqual(1);
    expect(await sut.get(numbered)).toBeNull();
  });

  it('indexes a session that names its user only later (a login that kept its session id), before the change is written', async () => {
    const user = newUser();
    const sid = newSid();
    await sut.set(sid, sessionFor({ cart: 1 }));
    expect(await indexOf(user)).toEqual([]);

    await sut.set(sid, { ...(await sut.get(sid))!, user });

    expect((await sut.sessionsOf(user)).map((entry) => entry.session.cart)).toEqual([1]);
    expect(await sut.destroySessionsOf(user)).toBe(1);
    expect(await sut.get(sid)).toBeNull();
  });

  it('adds a session written before userOf was turned on to its user\'s index when it is first read, once for good', async () => {
    const user = newUser();
    const before = new KuraStore({ adapter, clock });
    const sid = newSid();
    await before.set(sid, sessionFor({ user }));
    expect(await indexOf(user)).toEqual([]);

    callLog.reset();
    expect(await sut.get(sid)).toMatchObject({ user });
    expect(writes()).toBe(2); // the entry, then the note on the session that it joined
    callLog.reset();
    await sut.get(sid);
    // Another process (another store), or this one restarted, finds the note: nothing more to write.
    await new KuraStore({ adapter, clock, userOf }).get(sid);
    expect(writes()).toBe(0);

    expect(await sut.destroySessionsOf(user)).toBe(1);
    expect(await sut.get(sid)).toBeNull();
  });

  // Found by a review: the note was once a mark on the generation ("written whole by a store with userOf"), which
  // an update keeps; a login that kept its session id, saved by a replica without userOf, was in no index for good.
  it('indexes a login saved by a replica without userOf (a rolling upgrade, or a rollback) once a replica with it reads the session', async () => {
    const old = new KuraStore({ adapter, clock });
    const user = newUser();
    const sid = newSid();
    await sut.set(sid, sessionFor({ cart: 1 }));
    await old.set(sid, { ...(await old.get(sid))!, user });

    expect(await sut.get(sid)).toMatchObject({ user });

    expect(await sut.sessionsOf(user)).toHaveLength(1);
    expect(await sut.destroySessionsOf(user)).toBe(1);
    expect(await sut.get(sid)).toBeNull();
  });

  // Found by a review: a concurrent save gave the session a later absolute end than the one the login gave the index.
  it('never lets the index expire before a session of its user: a later absolute end written meanwhile is caught up on the next read', async () => {
    const legacy = new KuraStore({ adapter, clock, absoluteTtlSeconds: null });
    const short = new KuraStore({ adapter, clock, userOf, absoluteTtlSeconds: 3600 });
    const long = new KuraStore({ adapter, clock, userOf, absoluteTtlSeconds: 10 * 3600 });
    const user = newUser();
    const sid = newSid();
    await legacy.set(sid, sessionFor({ cart: 1 }));
    const [onShort, onLong] = [(await short.get(sid))!, (await long.get(sid))!];
    // The later save lands first, giving the session an absolute end of 10 h; the login's own (1 h) no longer changes it.
    await long.set(sid, { ...onLong, cart: 2 });
    await short.set(sid, { ...onShort, user });
    const absoluteEnd = Number((await rawItem(itemKeyOf(sid)))!.absoluteExpiresAtMs!.N);
    expect(absoluteEnd).toBe(clock.now() + 10 * HOUR);

    await sut.get(sid);

    expect(Number((await rawItem(`user:${userIndexKeyOf(user)}`))!.expiresAt!.N) * 1000).toBeGreaterThanOrEqual(absoluteEnd);
  });

  // Found by a review: an index item that reached DynamoDB's 400 KB refused every addition, and the prune that
  // would have emptied it ran only after a successful one: the user could never log in again.
  it('prunes an index the storage refuses to add to (DynamoDB\'s 400 KB item), then adds: the user logs in', async () => {
    const user = newUser();
    const twoHoursAgo = clock.now() - 2 * HOUR;
    // Entries of sessions long gone, with keys made long (2000 bytes, DynamoDB's keys stop at 2048) so that about
    // two hundred fill most of the item, then ones as long as a real entry until no other fits.
    let next = 0;
    for (const length of [2000, 43]) {
      for (;;) {
        try {
          await client.send(
            new UpdateItemCommand({
              TableName: tableName,
              Key: { id: { S: `user:${userIndexKeyOf(user)}` } },
              UpdateExpression: 'ADD #s :m',
              ExpressionAttributeNames: { '#s': 'sessions' },
              ExpressionAttributeValues: { ':m': { SS: [`${twoHoursAgo + next}:${String(next++).padStart(length, 'k')}`] } },
            }),
          );
        } catch (error) {
          if (!String(error).includes('maximum allowed size')) throw error;
          break;
        }
      }
    }
    expect((await indexOf(user)).length).toBeGreaterThan(190);

    const sid = await logIn(user);

    expect((await indexOf(user)).map((entry) => entry.id)).toEqual([itemKeyOf(sid)]);
  });

  // Found by a review: the user object itself (a common shape) was taken as "no user", so nothing was indexed and
  // destroySessionsOf ended nothing while it seemed to work.
  it('refuses a userOf that gives something other than an id, writing nothing, and takes undefined, null, false and "" as no user', async () => {
    const sid = newSid();

    await expect(sut.set(sid, sessionFor({ user: { id: 'ada', name: 'Ada' } }))).rejects.toThrow(
      "KuraStore: userOf gave an object, not a user's id (a non-empty string or a number; undefined or null for no user): give the id, e.g. (session) => session.user?.id",
    );

    expect(await sut.get(sid)).toBeNull();
    for (const none of [undefined, null, false, '']) {
      const anonymous = newSid();
      await sut.set(anonymous, sessionFor({ user: none }));
      expect(await sut.get(anonymous)).not.toBeNull();
    }
  });

  it('lists a session that changed hands under its new user only', async () => {
    const [ada, bob] = [newUser(), newUser()];
    const sid = await logIn(ada);

    await sut.set(sid, { ...(await sut.get(sid))!, user: bob });

    expect(await sut.sessionsOf(ada)).toEqual([]);
    expect(await sut.sessionsOf(bob)).toHaveLength(1);
  });

  it('ends one session by its handle, only if it is that user\'s', async () => {
    const [ada, bob] = [newUser(), newUser()];
    const [phone, laptop] = [await logIn(ada, { device: 'phone' }), await logIn(ada, { device: 'laptop' })];
    const bobs = await logIn(bob);
    const handleOf = async (user: string, device: string) => (await sut.sessionsOf(user)).find((entry) => entry.session.device === device)!.handle;
    const phoneHandle = await handleOf(ada, 'phone');
    const bobsHandle = (await sut.sessionsOf(bob))[0]!.handle;

    expect(await sut.destroySessionOf(ada, bobsHandle)).toBe(false);
    expect(await sut.destroySessionOf(bob, phoneHandle)).toBe(false);
    expect(await sut.destroySessionOf(ada, 'no-such-handle')).toBe(false);
    expect(await sut.get(bobs)).not.toBeNull();
    expect(await sut.get(phone)).not.toBeNull();

    expect(await sut.destroySessionOf(ada, phoneHandle)).toBe(true);

    expect(await sut.get(phone)).toBeNull();
    expect(await sut.get(laptop)).not.toBeNull();
    expect(await sut.destroySessionOf(ada, phoneHandle)).toBe(false);
  });

  it('ends a login whose session was still being written when "log out everywhere" ran: its write lands on a deleted session', async () => {
    const user = newUser();
    const { client: proxied } = createDynamoDbClients({ ...connection, endpoint: proxy.endpoint });
    const slow = new KuraStore({ adapter: new DynamoDbConnectSessionStore(proxied, { tableName }), clock, userOf });
    try {
      // The login's index entry is written; its session's write (PutItem) is held on its way.
      const write = proxy.hold((operation) => operation === 'PutItem');
      const sid = newSid();
      const login = slow.set(sid, sessionFor({ user }));
      await write.held;

      expect(await sut.destroySessionsOf(user)).toBe(0);
      write.release();
      await login;

      expect(await sut.get(sid)).toBeNull();
      expect(await sut.sessionsOf(user)).toEqual([]);
    } finally {
      proxied.destroy();
    }
  });

  it('writes nothing of a login whose index entry could not be written, and says the store is unavailable', async () => {
    const user = newUser();
    const failing: ConnectSessionStore = {
      read: (...args) => adapter.read(...args),
      replace: (...args) => adapter.replace(...args),
      update: (...args) => adapter.update(...args),
      delete: (...args) => adapter.delete(...args),
      userIndex: (...args) => adapter.userIndex(...args),
      removeFromUserIndex: (...args) => adapter.removeFromUserIndex(...args),
      noteIndexed: (...args) => adapter.noteIndexed(...args),
      addToUserIndex: () => Promise.reject(new StoreUnavailableError('connect.index', { retryAfterSeconds: 1, reason: 'test' })),
    };
    const store = new KuraStore({ adapter: failing, clock, userOf });
    const sid = newSid();

    await expect(store.set(sid, sessionFor({ user }))).rejects.toBeInstanceOf(StoreUnavailableError);

    expect(await sut.get(sid)).toBeNull();
    // A session that already named its user is saved as usual.
    const kept = await logIn(user);
    await store.set(kept, { ...(await store.get(kept))!, cart: 1 });
    expect(await sut.get(kept)).toMatchObject({ cart: 1 });
  });

  it('prunes a logged-out session\'s entry at once (its mark refuses a late write), and keeps for an hour the entry of a session not there yet (its write may still be on its way)', async () => {
    const user = newUser();
    const ended = await logIn(user);
    const live = newSid();
    await sut.set(live, sessionFor({ user }, 3 * HOUR));
    await sut.destroy(ended);
    const onItsWay = { id: itemKeyOf(newSid()), addedAtMs: clock.now() };
    await adapter.addToUserIndex(userIndexKeyOf(user), onItsWay, undefined);

    expect(await sut.sessionsOf(user)).toHaveLength(1);
    expect((await indexOf(user)).map((entry) => entry.id).sort()).toEqual([itemKeyOf(live), onItsWay.id].sort());

    clock.advance(HOUR + 1000);
    await sut.set(live, { ...(await sut.get(live))!, seen: 1 });
    expect(await sut.sessionsOf(user)).toHaveLength(1);
    expect(await indexOf(user)).toEqual([expect.objectContaining({ id: itemKeyOf(live) })]);
  });

  it('logs a user in whose index the storage refuses as full of logged-out sessions\' entries: pruned, they make room', async () => {
    const user = newUser();
    for (let index = 0; index < 20; index++) await sut.destroy(await logIn(user));
    // An index as full as one item holds, at 20 entries.
    const full = { ...wrapped(adapter), addToUserIndex: async (...args: Parameters<ConnectSessionStore['addToUserIndex']>) => {
      if ((await adapter.userIndex(args[0])).length >= 20) throw new UserIndexFullError('full');
      return adapter.addToUserIndex(...args);
    } };
    const store = new KuraStore({ adapter: full, clock, userOf });

    const sid = await logIn(user, {}, store);

    expect(await sut.get(sid)).toMatchObject({ user });
    expect(await indexOf(user)).toEqual([expect.objectContaining({ id: itemKeyOf(sid) })]);
  });

  it('fails a login with StoreUnavailableError, writing nothing of it, when its index stays full after pruning (young entries of sessions not there)', async () => {
    const user = newUser();
    const full = { ...wrapped(adapter), addToUserIndex: () => Promise.reject(new UserIndexFullError('full')) };
    const store = new KuraStore({ adapter: full, clock, userOf });
    const sid = newSid();

    const error = await store.set(sid, sessionFor({ user })).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(await sut.get(sid)).toBeNull();
  });

  it('prunes a large index as logins add to it, keeping every live session', async () => {
    const user = newUser();
    for (let index = 0; index < 70; index++) await sut.destroy(await logIn(user));
    expect(await indexOf(user)).toHaveLength(70);
    clock.advance(HOUR + 1000);

    const live: string[] = [];
    for (let index = 0; index < 10; index++) live.push(await logIn(user));

    expect((await indexOf(user)).map((entry) => entry.id).sort()).toEqual(live.map(itemKeyOf).sort());
    expect(await sut.destroySessionsOf(user)).toBe(10);
  });

  it('gives the index the sessions\' absolute lifetime as its expiry, so the engine frees it once every session is past it', async () => {
    const user = newUser();
    await logIn(user);
    const stored = await rawItem(`user:${userIndexKeyOf(user)}`);

    // KuraStore's default absolute lifetime: one day from the login.
    expect(Number(stored?.expiresAt?.N)).toBe(Math.ceil((clock.now() + 24 * HOUR) / 1000));
  });

  it('says what is missing when asked about users without userOf, or for no user', async () => {
    const plain = new KuraStore({ adapter, clock });

    await expect(() => plain.sessionsOf('ada')).rejects.toThrow('KuraStore.sessionsOf needs the userOf option');
    await expect(() => plain.destroySessionsOf('ada')).rejects.toThrow('KuraStore.destroySessionsOf needs the userOf option');
    await expect(() => sut.destroySessionsOf('')).rejects.toThrow('the user id must be a non-empty string or a finite number');
    await expect(() => sut.destroySessionOf('ada', '')).rejects.toThrow('the handle must be a non-empty string');
  });
});

describe('KuraStore: a login that checked a password a change replaced (the credentialOf option)', () => {
  // The app keeps the password's version in the session at login (read with the hash it checks), and names the
  // version a change replaced when it ends the user's other sessions.
  const credentialOf = (session: Record<string, unknown>) => session.passwordVersion;
  const withCredentials = new KuraStore({ adapter, clock, userOf, credentialOf });
  /** A login that checked version `version` and is held just before its session joins the user's index. */
  function heldLogin(user: string, version: number, options: { credentialOf?: typeof credentialOf } = { credentialOf }) {
    const held = holding(adapter, 'addToUserIndex');
    const store = new KuraStore({ adapter: held.adapter, clock, userOf, ...options });
    const sid = newSid();
    const login = store.set(sid, sessionFor({ user, passwordVersion: version })).then(() => 'saved', (error: unknown) => error);
    return { sid, login, reached: held.reached, release: held.release };
  }

  it("refuses a login that checked the old password and joins the index after the change's destroySessionsOf read it; writes nothing of it", async () => {
    const user = newUser();
    const login = heldLogin(user, 1);
    await login.reached;

    // The change (on another replica): version 2 in force; the index does not name the held login yet.
    expect(await withCredentials.destroySessionsOf(user, { credential: 2 })).toBe(0);
    login.release();

    expect(await login.login).toBeInstanceOf(CredentialReplacedError);
    expect(await sut.get(login.sid)).toBeNull();
    // A login with the new password is kept.
    const fresh = await logIn(user, { passwordVersion: 2 }, withCredentials);
    expect(await sut.get(fresh)).toMatchObject({ user, passwordVersion: 2 });
  });

  it('without credentialOf (the control), the same login outlives the change: the window the option closes', async () => {
    const user = newUser();
    const login = heldLogin(user, 1, {});
    await login.reached;

    await sut.destroySessionsOf(user);
    login.release();

    expect(await login.login).toBe('saved');
    expect(await sut.get(login.sid)).toMatchObject({ user, passwordVersion: 1 });
  });

  it('ends a login that joined the index before the change read it, as without credentialOf; other users, and the credential in force, are not refused', async () => {
    const [ada, bob] = [newUser(), newUser()];
    const before = await logIn(ada, { passwordVersion: 1 }, withCredentials);
    const bobs = await logIn(bob, { passwordVersion: 1 }, withCredentials);

    expect(await withCredentials.destroySessionsOf(ada, { credential: 2 })).toBe(1);

    expect(await sut.get(before)).toBeNull();
    expect(await sut.get(bobs)).toMatchObject({ user: bob });
    expect(await sut.get(await logIn(bob, { passwordVersion: 1 }, withCredentials))).toMatchObject({ user: bob });
    expect(await sut.get(await logIn(ada, { passwordVersion: 2 }, withCredentials))).toMatchObject({ user: ada });
    await expect(withCredentials.set(newSid(), sessionFor({ user: ada, passwordVersion: 1 }))).rejects.toBeInstanceOf(CredentialReplacedError);
  });

  it('refuses a session that names its user later (a login that kept its session id) with a replaced credential', async () => {
    const user = newUser();
    await withCredentials.destroySessionsOf(user, { credential: 'v2' });
    const sid = await logIn('', {}, withCredentials); // anonymous first
    const session = (await withCredentials.get(sid))!;

    await expect(withCredentials.set(sid, { ...session, user, passwordVersion: 'v1' })).rejects.toBeInstanceOf(CredentialReplacedError);
    // Deleted: whatever the id held (the anonymous session) is not kept for a login that was refused.
    expect(await sut.get(sid)).toBeNull();
  });

  it('refuses a login with an old credential however late (the note never expires, whatever the clocks), and keeps one note however often the password changes', async () => {
    const user = newUser();
    await withCredentials.destroySessionsOf(user, { credential: 2 });
    clock.advance(3 * 24 * HOUR);

    await expect(withCredentials.set(newSid(), sessionFor({ user, passwordVersion: 1 }))).rejects.toBeInstanceOf(CredentialReplacedError);
    expect(await sut.get(await logIn(user, { passwordVersion: 2 }, withCredentials))).toMatchObject({ user });
    for (const version of [3, 4, 5]) await withCredentials.destroySessionsOf(user, { credential: version });
    expect((await adapter.userIndex(credentialKeyOfUser(user))).length).toBe(1);
    await expect(withCredentials.set(newSid(), sessionFor({ user, passwordVersion: 4 }))).rejects.toBeInstanceOf(CredentialReplacedError);
  });

  it('costs a login one read more, and a steady request or a save nothing more', async () => {
    const user = newUser();
    const plain = await logIn(user, { passwordVersion: 1 });
    const plainCosts = callLog.snapshot();
    callLog.reset();

    const sid = await logIn(user, { passwordVersion: 1 }, withCredentials);
    expect(callLog.snapshot()).toMatchObject({ reads: plainCosts.reads + 1, writes: plainCosts.writes });

    callLog.reset();
    const loaded = (await withCredentials.get(sid))!;
    await withCredentials.touch(sid, loaded);
    expect(callLog.snapshot()).toMatchObject({ reads: 1, writes: 0 });
    expect(plain).not.toBe(sid);
  });

  it('says what is wrong with the option or the credential', async () => {
    expect(() => new KuraStore({ adapter, credentialOf })).toThrow(KuraStoreOptionsError);
    expect(() => new KuraStore({ adapter, credentialOf })).toThrow('credentialOf needs userOf');
    await expect(sut.destroySessionsOf('ada', { credential: 1 })).rejects.toThrow('{ credential } needs the credentialOf option');
    await expect(withCredentials.destroySessionsOf('ada', { credential: {} as unknown as string })).rejects.toThrow('{ credential } was an object: give a non-empty string or a finite number');
    await expect(withCredentials.set(newSid(), sessionFor({ user: 'ada', passwordVersion: { v: 1 } }))).rejects.toThrow('credentialOf gave an object');
  });
});
