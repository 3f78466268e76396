import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { type Clock, type ConnectSessionStore, ManualClock, StoreUnavailableError } from '@kura/common';
import { createDynamoDbClients, DynamoDbConnectSessionStore, ensureConnectSessionTable } from '@kura/dynamodb';
import { createRedisClient, type RedisClient, RedisConnectSessionStore } from '@kura/redis';
import { LOCAL_CREDENTIALS, testEndpoint } from '../../../test/support/engine.js';
import { holding } from '../../../test/support/held-adapter.js';
import { previousAndKuraOnRedis } from '../../../test/support/previous-store-fixture.js';
import { redisServerMissing, type RedisServer, startRedisServer } from '../../../test/support/redis-server.js';
import { CredentialReplacedError } from './credential-replaced.error.js';
import { KuraStore } from './kura-store.js';
import { credentialKeyOfUser } from './user-sessions.js';

/**
 * `credentialOf` with `destroySessionsOf(user, { credential })` (the credential now in force: a login made with
 * another is refused), on DynamoDB Local and on a redis-server of its own, where three reviews (2026-12-04) broke the
 * first versions: a credential that comes in a later save than the user (as Passport's login makes it); a login with
 * a step after the password that outlived a note kept for a time (an hour, then a session's lifetime: a rolling
 * session without an absolute end, a move from the previous store that starts a new lifetime, a replica's clock
 * behind); a failed check leaving the first save live; a change with no previous password; two changes racing. A
 * fourth (same day) added a change after another made on a replica whose clock was ahead, and a session in no index
 * (written before userOf) made with the replaced credential, read after the change, and a logged-in session that
 * moved from the previous store after a change made by a store without migrateFrom. Each test failed on the version
 * it was written against. The held-login race itself is in kura-store.users.spec.
 */
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const clock = new ManualClock(Date.now());
const newSid = () => randomBytes(18).toString('base64url');
const newUser = () => `user-${randomBytes(6).toString('hex')}`;
const sessionFor = (data: Record<string, unknown>, ms = 30 * MINUTE) => ({ cookie: { originalMaxAge: ms, expires: new Date(clock.now() + ms).toISOString(), path: '/' }, ...data });
const userOf = (session: Record<string, unknown>) => session.user;
const credentialOf = (session: Record<string, unknown>) => session.passwordVersion;
/** A browser-session cookie (no maxAge): the store's `ttlSeconds` is its idle lifetime. */
const browserSessionFor = (data: Record<string, unknown>) => ({ cookie: { originalMaxAge: null, path: '/' }, ...data });
const outcome = (work: Promise<unknown>) => work.then(() => 'saved', (error: unknown) => error);

/** `adapter` whose `method` calls on `key` wait until `parties` of them arrived (all go on together). */
function barrier(adapter: ConnectSessionStore, method: 'userIndex' | 'addToUserIndex', key: string, parties: number): ConnectSessionStore {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return new Proxy(adapter, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (name !== method || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: unknown[]) => {
        if (args[0] === key) {
          arrived += 1;
          if (arrived >= parties) open();
          await opened;
        }
        return value.apply(target, args);
      };
    },
  });
}

/**
 * A login that checked version 1, saved as Passport's is: the user alone (held before its index entry while a change
 * puts version 2 in force), then the version, on the same session object. What its second save did, and what the
 * session is after. `wrap` dresses the login's adapter; `beforeSecond` runs just before the second save.
 */
async function userThenVersion(base: ConnectSessionStore, user: string, wrap = (held: ConnectSessionStore) => held, beforeSecond: () => unknown = () => undefined) {
  const held = holding(base, 'addToUserIndex');
  const loginStore = new KuraStore({ adapter: wrap(held.adapter), clock, userOf, credentialOf });
  const changeStore = new KuraStore({ adapter: base, clock, userOf, credentialOf });
  const sid = newSid();
  const session: Record<string, unknown> = sessionFor({ user });
  const firstSave = loginStore.set(sid, session);
  await held.reached;
  await changeStore.destroySessionsOf(user, { credential: 2 });
  held.release();
  await firstSave;
  session.passwordVersion = 1;
  beforeSecond();
  const secondSave = await outcome(loginStore.set(sid, session));
  return { secondSave, live: await changeStore.get(sid) };
}

const tableName = `c${randomBytes(4).toString('hex')}-kura-cred`;
const { client: dynamo } = createDynamoDbClients({ region: 'us-east-1', endpoint: testEndpoint(), credentials: LOCAL_CREDENTIALS, timeoutMs: 5000 });
const redisMissing = redisServerMissing();
let redisServer: RedisServer | undefined;
let redis: RedisClient | undefined;
const adapters: Record<string, ConnectSessionStore> = {};

beforeAll(async () => {
  await ensureConnectSessionTable(dynamo, tableName);
  adapters.dynamodb = new DynamoDbConnectSessionStore(dynamo, { tableName });
  if (!redisMissing) {
    redisServer = await startRedisServer();
    redis = await createRedisClient({ url: redisServer.url });
    await redis.connect();
    adapters.redis = new RedisConnectSessionStore(redis);
  }
});
afterAll(async () => {
  dynamo.destroy();
  redis?.destroy();
  await redisServer?.stop();
});

describe.each(['dynamodb', 'redis'])('KuraStore credentialOf on %s', (storage) => {
  const run = storage === 'redis' && redisMissing ? it.skip : it;
  const adapter = () => adapters[storage]!;

  // Passport's req.login (0.6+) regenerates the session, sets session.passport.user and saves it at once; an app that
  // keeps the version beside the user adds it after that, in a second save: checked there, and the session, live for
  // the user since the first, deleted.
  run('refuses a login that checked the replaced password when its credential comes in a later save than its user (Passport)', async () => {
    const { secondSave, live } = await userThenVersion(adapter(), newUser());

    expect({ secondSave, live }).toEqual({ secondSave: expect.any(CredentialReplacedError), live: null });
  });

  // A login with a step after the password (a second factor, a terms page, an account chooser) keeps the checked
  // version in a session that names no user yet (in no index, so destroySessionsOf cannot end it) for as long as that
  // session lives: the note lasts the store's absolute lifetime (a day by default), not an hour.
  run("refuses a login made with the replaced password with an error that says 401 to express's and Fastify's own error handlers (an app without one of its own answered 500)", async () => {
    const user = newUser();
    const store = new KuraStore({ adapter: adapter(), clock, userOf, credentialOf });
    await store.destroySessionsOf(user, { credential: 2 });

    const saved = await outcome(store.set(newSid(), sessionFor({ user, passwordVersion: 1 })));

    expect(saved).toBeInstanceOf(CredentialReplacedError);
    expect(saved).toMatchObject({ statusCode: 401 });
  });

  run('refuses a login that checked the replaced password and names its user more than an hour after the change (a step after the password)', async () => {
    const user = newUser();
    const store = new KuraStore({ adapter: adapter(), clock, userOf, credentialOf });
    const sid = newSid();
    // Password checked (version 1): the session holds the pending login, no user yet.
    await store.set(sid, sessionFor({ pendingUser: user, passwordVersion: 1 }, 3 * HOUR));

    await store.destroySessionsOf(user, { credential: 2 });
    clock.advance(HOUR + MINUTE);
    const loaded = (await store.get(sid))!;
    expect(loaded).toMatchObject({ pendingUser: user, passwordVersion: 1 });
    const saved = await outcome(store.set(sid, { ...loaded, user, pendingUser: undefined }));

    expect({ saved, live: await store.get(sid) }).toEqual({ saved: expect.any(CredentialReplacedError), live: null });
  });

  // A change that gives no credential (null from the database): nothing noted, every other session ended all the same.
  run('ends the other sessions of a change that gives no credential (null)', async () => {
    const user = newUser();
    const store = new KuraStore({ adapter: adapter(), clock, userOf, credentialOf });
    const [other, current] = [newSid(), newSid()];
    await store.set(other, sessionFor({ user }));
    await store.set(current, sessionFor({ user }));

    const ended = await store.destroySessionsOf(user, { except: current, credential: null as unknown as string }).then(
      (count) => count,
      (error: unknown) => String(error),
    );

    expect({ ended, other: await store.get(other) }).toEqual({ ended: 1, other: null });
  });

  // Under absoluteTtlSeconds: null a session used within its idle lifetime lives for ever: a step after the password
  // (a pending login, version 1 checked, no user yet) outlived a note kept the idle lifetime, then named its user.
  run('refuses a step after the password that names its user after the note, on a store without an absolute lifetime (absoluteTtlSeconds: null, a rolling session)', async () => {
    const user = newUser();
    const store = new KuraStore({ adapter: adapter(), clock, userOf, credentialOf, absoluteTtlSeconds: null, ttlSeconds: 3600 });
    const sid = newSid();
    // Password checked (version 1): the session holds the pending login, no user yet.
    await store.set(sid, browserSessionFor({ pendingUser: user, passwordVersion: 1 }));

    await store.destroySessionsOf(user, { credential: 2 });
    // The browser keeps the pending session alive: a request every half hour, for three hours.
    for (let step = 0; step < 6; step += 1) {
      clock.advance(30 * MINUTE);
      const loaded = (await store.get(sid))!;
      expect(loaded).toMatchObject({ pendingUser: user, passwordVersion: 1 });
      await store.touch(sid, loaded);
    }
    const loaded = (await store.get(sid))!;
    const saved = await outcome(store.set(sid, { ...loaded, user, pendingUser: undefined }));

    expect({ saved, live: await store.get(sid) }).toEqual({ saved: expect.any(CredentialReplacedError), live: null });
  });

  // A note kept for a time was measured on the clock of the replica that made the change: one two minutes behind
  // left a window at the end of the session's life where the pending login named its user unchecked.
  run('refuses a step after the password that names its user near the end of its life, when the replica that made the change has a clock two minutes behind', async () => {
    const user = newUser();
    const behind: Clock = { now: () => clock.now() - 2 * MINUTE };
    const loginStore = new KuraStore({ adapter: adapter(), clock, userOf, credentialOf, absoluteTtlSeconds: 3600 });
    const changeStore = new KuraStore({ adapter: adapter(), clock: behind, userOf, credentialOf, absoluteTtlSeconds: 3600 });
    const sid = newSid();
    // Password checked (version 1) a second before the change.
    await loginStore.set(sid, sessionFor({ pendingUser: user, passwordVersion: 1 }, 3 * HOUR));
    clock.advance(SECOND);

    await changeStore.destroySessionsOf(user, { credential: 2 });
    // Thirty seconds before the session's absolute end (an hour after it was written): still live.
    clock.advance(HOUR - 31 * SECOND);
    const loaded = (await loginStore.get(sid))!;
    expect(loaded).toMatchObject({ pendingUser: user, passwordVersion: 1 });
    const saved = await outcome(loginStore.set(sid, { ...loaded, user, pendingUser: undefined }));

    expect({ saved, live: await loginStore.get(sid) }).toEqual({ saved: expect.any(CredentialReplacedError), live: null });
  });

  // Passport's login saves the user, then the app the version: the session is live for the user between the two. A
  // second save that cannot read the note (one failed call) fails with StoreUnavailableError, and deletes the session:
  // else it stayed live for the user, with no credential, and no later save would check it.
  run('does not leave a login that checked the replaced password live for the user when the check of its later save cannot be made (a failed read)', async () => {
    const user = newUser();
    let failNoteRead = false;
    const flaky = (held: ConnectSessionStore): ConnectSessionStore =>
      Object.assign(Object.create(null), held, {
        userIndex: async (key: string) => {
          if (failNoteRead && key === credentialKeyOfUser(user)) {
            failNoteRead = false;
            throw new StoreUnavailableError('connect.index', { reason: 'no answer within connection.timeoutMs' });
          }
          return held.userIndex(key);
        },
      });
    const { secondSave, live } = await userThenVersion(adapter(), user, flaky, () => (failNoteRead = true));

    expect({ secondSave: String(secondSave), live: live && { user: live.user } }).toEqual({ secondSave: expect.stringContaining('StoreUnavailableError'), live: null });
  });

  /** A user whose password is at version 1, and a store that changed it there. */
  const atVersion1 = async () => {
    const user = newUser();
    const base = new KuraStore({ adapter: adapter(), clock, userOf, credentialOf });
    await base.destroySessionsOf(user, { credential: 1 });
    return { user, base };
  };

  // Two changes (v2, then v3) whose notes are added before either reads: each took out the other's member, and the
  // note was left empty, read as "no change ever": the first password's login was let through. Now each takes out
  // only the lower versions.
  run('refuses a login with the first password after two racing changes both finished', async () => {
    const { user, base } = await atVersion1();
    const gated = barrier(adapter(), 'userIndex', credentialKeyOfUser(user), 2);
    const changeA = new KuraStore({ adapter: gated, clock, userOf, credentialOf });
    const changeB = new KuraStore({ adapter: gated, clock, userOf, credentialOf });
    await Promise.all([changeA.destroySessionsOf(user, { credential: 2 }), changeB.destroySessionsOf(user, { credential: 3 })]);

    const inForce = (await adapter().userIndex(credentialKeyOfUser(user))).length;
    const sid = newSid();
    const saved = await outcome(base.set(sid, sessionFor({ user, passwordVersion: 1 })));
    expect({ inForce, saved, live: await base.get(sid) }).toEqual({ inForce: 1, saved: expect.any(CredentialReplacedError), live: null });
  });

  // The change to v2 reaches the storage after the change to v3 finished (its add was slower): v2 alone was left in
  // force for good, and the password in force (v3) refused at every login. Now the higher integer version is in force.
  run('lets the password in force log in after a slower change to the previous one finished', async () => {
    const { user, base } = await atVersion1();
    const held = barrier(adapter(), 'addToUserIndex', credentialKeyOfUser(user), 2);
    const slow = new KuraStore({ adapter: held, clock, userOf, credentialOf });
    const toV2 = slow.destroySessionsOf(user, { credential: 2 });
    await base.destroySessionsOf(user, { credential: 3 });
    await held.addToUserIndex(credentialKeyOfUser(user), { id: 'x', addedAtMs: 0 }, undefined).catch(() => undefined); // opens the barrier
    await toV2;
    await adapter().removeFromUserIndex(credentialKeyOfUser(user), [{ id: 'x', addedAtMs: 0 }]);

    const sid = newSid();
    const saved = await outcome(base.set(sid, sessionFor({ user, passwordVersion: 3 })));
    expect(saved).toBe('saved');
  });

  // A version that is not an integer (a string: a salt, a timestamp's text) was ordered by the clock of the replica
  // that made the change: one two minutes ahead outranked the next change, made a minute later on a replica with the
  // right clock, for good. The password in force was refused at every login, and a login on its way with the replaced
  // one let through. Now a change outranks every version noted before it, whatever the clocks.
  run('puts the later of two password changes in force (string versions) when the earlier was made on a replica whose clock is ahead', async () => {
    const user = newUser();
    const ahead: Clock = { now: () => clock.now() + 2 * MINUTE };
    await new KuraStore({ adapter: adapter(), clock: ahead, userOf, credentialOf }).destroySessionsOf(user, { credential: 'pw-a' });
    clock.advance(MINUTE);
    const store = new KuraStore({ adapter: adapter(), clock, userOf, credentialOf });
    await store.destroySessionsOf(user, { credential: 'pw-b' });

    const [withB, withA] = [newSid(), newSid()];
    const saved = { b: await outcome(store.set(withB, sessionFor({ user, passwordVersion: 'pw-b' }))), a: await outcome(store.set(withA, sessionFor({ user, passwordVersion: 'pw-a' }))) };
    expect({ saved, b: await store.get(withB), a: await store.get(withA) }).toEqual({
      saved: { b: 'saved', a: expect.any(CredentialReplacedError) },
      b: expect.objectContaining({ user, passwordVersion: 'pw-b' }),
      a: null,
    });
  });

  // A session written with its user by a replica not given userOf yet (a rolling update turning it on) is in no index:
  // the change cannot end it, and it joins the index when a replica with userOf first reads it. It joined with the
  // replaced version, and was served as logged in. Now its joining checks the version, as a save's does.
  run('does not serve a session in no index (written before userOf) made with the replaced credential when it is first read after the change', async () => {
    const user = newUser();
    const sid = newSid();
    await new KuraStore({ adapter: adapter(), clock }).set(sid, sessionFor({ user, passwordVersion: 1 }));
    const store = new KuraStore({ adapter: adapter(), clock, userOf, credentialOf });
    const kept = newSid();
    await new KuraStore({ adapter: adapter(), clock }).set(kept, sessionFor({ user, passwordVersion: 2 }));

    await store.destroySessionsOf(user, { credential: 2 });

    expect({ replaced: await store.get(sid), again: await new KuraStore({ adapter: adapter(), clock }).get(sid), inForce: await store.get(kept) }).toEqual({
      replaced: null,
      again: null,
      inForce: expect.objectContaining({ user, passwordVersion: 2 }),
    });
    expect((await store.sessionsOf(user)).map((listed) => listed.session.passwordVersion)).toEqual([2]);
  });
});

// The same Passport login over HTTP: express-session, passport-local, the version set beside the user after
// req.login (in a second save). DynamoDB Local.
describe('KuraStore credentialOf under Passport (express-session, passport-local), on DynamoDB', () => {
  it('refuses a Passport login that checked the replaced password while the change ran, the version saved after the user', async () => {
    const load = (name: string) => import(name) as Promise<{ default: any } & Record<string, any>>;
    const [{ default: express }, { default: session }, { default: passportModule }, { Strategy }] = await Promise.all([load('express'), load('express-session'), load('passport'), load('passport-local')]);
    const user = newUser();
    const held = holding(adapters.dynamodb!, 'addToUserIndex');
    const store = new KuraStore({ adapter: held.adapter, clock: { now: () => Date.now() }, userOf: (s) => (s.passport as { user?: string } | undefined)?.user, credentialOf });
    const changeStore = new KuraStore({ adapter: adapters.dynamodb!, clock: { now: () => Date.now() }, userOf: (s) => (s.passport as { user?: string } | undefined)?.user, credentialOf });
    const passport = new passportModule.Passport();
    // The account: the password "old" at version 1 (checked by this login before the change).
    passport.use(new Strategy((username: string, password: string, done: (e: unknown, u?: unknown) => void) => done(null, password === 'old' ? { id: username, passwordVersion: 1 } : false)));
    passport.serializeUser((account: { id: string }, done: (e: unknown, id: string) => void) => done(null, account.id));
    passport.deserializeUser((id: string, done: (e: unknown, u: unknown) => void) => done(null, { id }));
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    app.use(session({ store, secret: 'a secret long enough for express-session', resave: false, saveUninitialized: false }));
    app.use(passport.session());
    app.post('/login', passport.authenticate('local'), (req: any, res: any, next: (e?: unknown) => void) => {
      req.session.passwordVersion = req.user.passwordVersion; // after req.login: a second save
      req.session.save((error: unknown) => (error ? next(error) : res.json({ ok: true })));
    });
    app.get('/me', (req: any, res: any) => res.status(req.user ? 200 : 401).json({ user: req.user?.id ?? null, passwordVersion: req.session?.passwordVersion ?? null }));
    app.use((error: unknown, _req: unknown, res: any, _next: unknown) => res.status(error instanceof CredentialReplacedError ? 401 : 500).json({ error: String(error) }));
    const server = await new Promise<import('node:http').Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const login = fetch(`${base}/login`, { method: 'POST', body: `username=${user}&password=old`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      await held.reached;
      await changeStore.destroySessionsOf(user, { credential: 2 });
      held.release();
      const answer = await login;
      const cookie = answer.headers.get('set-cookie')?.split(';')[0] ?? '';

      const me = await fetch(`${base}/me`, { headers: { cookie } });

      expect({ login: answer.status, me: me.status, body: await me.json() }).toEqual({ login: 401, me: 401, body: { user: null, passwordVersion: null } });
    } finally {
      held.release();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

// migrateFrom: a session moving from the previous store starts its absolute lifetime when it moves. A pending login
// (version 1 checked, no user) made in the previous store before the change moved after it and outlived a note kept
// a day from the change, then named its user unchecked.
const describeWithRedis = redisMissing ? describe.skip : describe;
describeWithRedis('KuraStore credentialOf: sessions that move from the previous store (migrateFrom)', () => {
  const fixture = previousAndKuraOnRedis();

  it('refuses a pending login made in the previous store before the change, moved after it, when it names its user', async () => {
    const user = newUser();
    const store = new KuraStore({ adapter: fixture.adapter, clock, userOf, credentialOf, migrateFrom: { store: fixture.previous } });
    const sid = newSid();
    // An old replica (connect-redis) checked version 1: the pending login, no user yet, a three-day cookie.
    await new Promise<void>((resolve, reject) => fixture.previous.set(sid, sessionFor({ pendingUser: user, passwordVersion: 1 }, 3 * DAY) as never, (error?: unknown) => (error ? reject(error) : resolve())));

    await store.destroySessionsOf(user, { credential: 2 });
    clock.advance(20 * HOUR);
    expect(await store.get(sid)).toMatchObject({ pendingUser: user, passwordVersion: 1 }); // moves now
    clock.advance(6 * HOUR);
    const loaded = (await store.get(sid))!;
    expect(loaded).toMatchObject({ pendingUser: user, passwordVersion: 1 });
    const saved = await outcome(store.set(sid, { ...loaded, user, pendingUser: undefined }));

    expect({ saved, live: await store.get(sid) }).toEqual({ saved: expect.any(CredentialReplacedError), live: null });
  });

  // The user's mark that keeps sessions from moving is written by a destroySessionsOf on a store with migrateFrom; a
  // change made elsewhere (an operator's script, another service on the same storage, a replica configured without it)
  // notes the credential alone. A session that already named its user moved unchecked, and was served as logged in
  // with the replaced password. Now a move checks the credential after the session joined the index, as a save does.
  it('does not move a logged-in session made with the replaced credential after a change made by a store without migrateFrom', async () => {
    const user = newUser();
    const sid = newSid();
    await new Promise<void>((resolve, reject) => fixture.previous.set(sid, sessionFor({ user, passwordVersion: 1 }) as never, (error?: unknown) => (error ? reject(error) : resolve())));
    const kept = newSid();
    await new Promise<void>((resolve, reject) => fixture.previous.set(kept, sessionFor({ user, passwordVersion: 2 }) as never, (error?: unknown) => (error ? reject(error) : resolve())));

    await new KuraStore({ adapter: fixture.adapter, clock, userOf, credentialOf }).destroySessionsOf(user, { credential: 2 });
    const store = new KuraStore({ adapter: fixture.adapter, clock, userOf, credentialOf, migrateFrom: { store: fixture.previous } });

    expect({ replaced: await store.get(sid), again: await store.get(sid), inForce: await store.get(kept) }).toEqual({
      replaced: null,
      again: null,
      inForce: expect.objectContaining({ user, passwordVersion: 2 }),
    });
  });
});
