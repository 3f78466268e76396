import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { type ConnectSessionStore, ManualClock } from '@kura/common';
import { createDynamoDbClients, DynamoDbConnectSessionStore, ensureConnectSessionTable } from '@kura/dynamodb';
import { createRedisClient, type RedisClient, RedisConnectSessionStore } from '@kura/redis';
import { LOCAL_CREDENTIALS, testEndpoint } from '../../../test/support/engine.js';
import { holding } from '../../../test/support/held-adapter.js';
import { redisServerMissing, type RedisServer, startRedisServer } from '../../../test/support/redis-server.js';
import { CredentialReplacedError } from './credential-replaced.error.js';
import { KuraStore } from './kura-store.js';

/**
 * `credentialOf` with `destroySessionsOf(user, { credential })`, on DynamoDB Local and on a redis-server of its own,
 * where a review (2026-12-04) broke the first version: a credential that comes in a later save than the user (as
 * Passport's login makes it), a login with a step after the password that outlived the note's first hour, and a
 * change with no previous password. Each test failed on that version. The held-login race itself is in
 * kura-store.users.spec.
 */
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const clock = new ManualClock(Date.now());
const newSid = () => randomBytes(18).toString('base64url');
const newUser = () => `user-${randomBytes(6).toString('hex')}`;
const sessionFor = (data: Record<string, unknown>, ms = 30 * MINUTE) => ({ cookie: { originalMaxAge: ms, expires: new Date(clock.now() + ms).toISOString(), path: '/' }, ...data });
const userOf = (session: Record<string, unknown>) => session.user;
const credentialOf = (session: Record<string, unknown>) => session.passwordVersion;

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
    const user = newUser();
    const held = holding(adapter(), 'addToUserIndex');
    const loginStore = new KuraStore({ adapter: held.adapter, clock, userOf, credentialOf });
    const changeStore = new KuraStore({ adapter: adapter(), clock, userOf, credentialOf });
    const sid = newSid();
    // The login checked version 1; its first save (the user alone) is held before its index entry.
    const session: Record<string, unknown> = sessionFor({ user });
    const firstSave = loginStore.set(sid, session);
    await held.reached;

    await changeStore.destroySessionsOf(user, { credential: 1 });
    held.release();
    await firstSave;
    // The app adds the version the login checked, in the same request, on the same session object.
    session.passwordVersion = 1;
    const secondSave = await loginStore.set(sid, session).then(() => 'saved', (error: unknown) => error);

    const live = await changeStore.get(sid);
    expect({ secondSave, live }).toEqual({ secondSave: expect.any(CredentialReplacedError), live: null });
  });

  // A login with a step after the password (a second factor, a terms page, an account chooser) keeps the checked
  // version in a session that names no user yet (in no index, so destroySessionsOf cannot end it) for as long as that
  // session lives: the note lasts the store's absolute lifetime (a day by default), not an hour.
  run('refuses a login that checked the replaced password and names its user more than an hour after the change (a step after the password)', async () => {
    const user = newUser();
    const store = new KuraStore({ adapter: adapter(), clock, userOf, credentialOf });
    const sid = newSid();
    // Password checked (version 1): the session holds the pending login, no user yet.
    await store.set(sid, sessionFor({ pendingUser: user, passwordVersion: 1 }, 3 * HOUR));

    await store.destroySessionsOf(user, { credential: 1 });
    clock.advance(HOUR + MINUTE);
    const loaded = (await store.get(sid))!;
    expect(loaded).toMatchObject({ pendingUser: user, passwordVersion: 1 });
    const saved = await store.set(sid, { ...loaded, user, pendingUser: undefined }).then(() => 'saved', (error: unknown) => error);

    expect({ saved, live: await store.get(sid) }).toEqual({ saved: expect.any(CredentialReplacedError), live: null });
  });

  // The README's change passes `credential: replaced` straight from the app; an account whose first password this is
  // (it signed up with a provider) has none replaced, often null from the database: nothing to note, every other
  // session ended all the same.
  run('ends the other sessions of a password change whose replaced credential is null (no previous password)', async () => {
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
      await changeStore.destroySessionsOf(user, { credential: 1 });
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
