import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { KuraStore } from '@kura/connect';
import { ensureConnectSessionTable } from '@kura/dynamodb';
import { connectRedis, RedisConnectSessionStore } from '@kura/redis';
import { freshTables, kuraEnv, LOCAL_CREDENTIALS, testClients, testEndpoint } from './support/engine.js';
import { HttpClient } from './support/http-client.js';
import { startKuraInProcess } from './support/kura-app.js';
import { type RedisServer, redisRunsPossible, startRedisServer } from './support/redis-server.js';
import {
  dumpDynamoDb,
  type DynamoDbDump,
  dumpRedis,
  loadDynamoDb,
  loadRedis,
  type RedisEntry,
  shapesOfDynamoDb,
  shapesOfRedis,
  shiftTimes,
} from './support/stored-state.js';

/**
 * Upgrading Kura must not log anyone out (docs/operations.md, "Upgrading Kura"). Every format Kura has written is
 * kept, raw, in test/fixtures/stored: what one journey (registrations, a cookie and a bearer session, session
 * data, a logout, a failed login, a password change, and an express-session session through KuraStore) left in
 * DynamoDB and in Redis, recorded by the code of the stop that wrote it. For each, the present code is started on
 * a store holding it (its times moved to now) and must go on where that code left off: the same sessions live,
 * the ended ones ended, the passwords checked, the data there and writable, a logout-all reaching sessions
 * registered in the old format, KuraStore's session read, changed and ended.
 *
 * And the present code must write the newest format recorded: a change to what Kura stores fails here, so that it
 * is made on purpose and recorded as a new fixture (`KURA_RECORD_STORED_FORMAT=<the stop it lands as>`), while
 * every earlier one stays, and is read.
 */
const FIXTURES = join(import.meta.dirname, 'fixtures', 'stored');
/**
 * KuraStore's user index (since stop 43): sessions written before it (older fixtures) join it when first read.
 * test/rolling-upgrade runs this file on older code too, whose KuraStore refuses the option and has no index.
 */
const WITH_USER_INDEX = 'sessionsOf' in KuraStore.prototype;
const userIndexOption = WITH_USER_INDEX ? { userOf: (session: Record<string, unknown>) => session.user } : {};
const RECORD = process.env.KURA_RECORD_STORED_FORMAT;
const USER_AGENT = 'stored-formats-test/1.0';

interface Credentials {
  alice: { email: string; password: string; bearer: string; cookie: string; ended: string };
  bob: { email: string; oldPassword: string; password: string; before: string; after: string };
  /** An account deleted (since stop 41): its sessions' tombstones and its closed register stay until their TTL. */
  carol?: { email: string; password: string };
  /** An express-session session id KuraStore keeps, with what was set in it. */
  connect: { sid: string; session: Record<string, unknown> };
}

interface Fixture<Dump> {
  /** The stop (a landed state of main: no release is published yet) whose code wrote it, and its commit. */
  readonly stop: number;
  readonly commit: string;
  readonly writtenAt: number;
  readonly credentials: Credentials;
  readonly dump: Dump;
}

/** A fresh, empty namespace on one kind of store: Kura's environment for it, and KuraStore on it. */
interface Namespace<Dump> {
  readonly env: Record<string, string>;
  readonly connectStore: KuraStore;
  dump(): Promise<Dump>;
  load(dump: Dump): Promise<void>;
  close(): Promise<void>;
}

interface StoreKind<Dump> {
  readonly name: 'dynamodb' | 'redis';
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  namespace(): Promise<Namespace<Dump>>;
  shapes(dump: Dump): string[];
}

const dynamoDb: StoreKind<DynamoDbDump> = {
  name: 'dynamodb',
  setUp: async () => undefined,
  tearDown: async () => undefined,
  async namespace() {
    const tables = await freshTables();
    const connect = `${tables.sessions.replace(/-sessions$/, '')}-connect`;
    const { client } = testClients();
    await ensureConnectSessionTable(client, connect).finally(() => client.destroy());
    const names = { sessions: tables.sessions, users: tables.users, connect };
    const connectStore = new KuraStore({ tableName: connect, connection: { region: 'us-east-1', endpoint: testEndpoint(), credentials: LOCAL_CREDENTIALS, timeoutMs: 5000 }, ...userIndexOption });
    return {
      env: kuraEnv(tables, undefined, { KURA_LOG_LEVEL: 'error' }),
      connectStore,
      dump: () => dumpDynamoDb(names),
      load: (dump) => loadDynamoDb(dump, names),
      close: async () => connectStore.close(),
    };
  },
  shapes: (dump) => shapesOfDynamoDb(dump),
};

let redisServer: RedisServer | undefined;
const redis: StoreKind<RedisEntry[]> = {
  name: 'redis',
  async setUp() {
    redisServer = await startRedisServer();
  },
  async tearDown() {
    await redisServer?.stop();
  },
  async namespace() {
    const url = redisServer!.url;
    const keyPrefix = `t${randomBytes(4).toString('hex')}:`;
    const connection = connectRedis({ url });
    await connection.open();
    const connectStore = new KuraStore({ adapter: new RedisConnectSessionStore(connection, { keyPrefix }), ...userIndexOption });
    return {
      env: { KURA_STORE: 'redis', REDIS_URL: url, KURA_REDIS_KEY_PREFIX: keyPrefix, KURA_PASSWORD_HASH_COST: '12', KURA_LOG_LEVEL: 'error' },
      connectStore,
      dump: () => dumpRedis(url, keyPrefix),
      load: (entries) => loadRedis(url, keyPrefix, entries),
      close: async () => {
        connectStore.close();
        await connection.close();
      },
    };
  },
  shapes: (entries) => shapesOfRedis(entries),
};

// ---------------------------------------------------------------------------------------------------------------
// The journey that writes every kind of item, and what a later release must find of it

const client = (baseUrl: string, token?: string) => ({
  request: (method: string, path: string, json?: unknown, headers: Record<string, string> = {}) =>
    new HttpClient(baseUrl).request(method, path, {
      cookies: false,
      ...(json !== undefined ? { json } : {}),
      headers: { 'user-agent': USER_AGENT, ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    }),
});

async function expectStatus(response: Promise<{ status: number; text: string }>, status: number, what: string) {
  const answer = await response;
  if (answer.status !== status) throw new Error(`${what}: ${answer.status} ${answer.text}, expected ${status}`);
  return answer as Awaited<typeof response> & { body: any };
}

async function writeJourney(baseUrl: string, connectStore: KuraStore): Promise<Credentials> {
  const anonymous = client(baseUrl);
  const tag = randomBytes(3).toString('hex');
  const alice = { email: `alice-${tag}@example.com`, password: 'correct horse battery' };
  const bob = { email: `bob-${tag}@example.com`, oldPassword: 'tr0ub4dor and three', password: 'a new passphrase, longer' };
  await expectStatus(anonymous.request('POST', '/auth/register', { ...alice, name: 'Alice' }), 201, 'register alice');
  await expectStatus(anonymous.request('POST', '/auth/register', { email: bob.email, password: bob.oldPassword }), 201, 'register bob');
  const bearerLogin = (email: string, password: string) => expectStatus(anonymous.request('POST', '/auth/login', { email, password, transport: 'bearer' }), 200, `login ${email}`);

  // Alice: a cookie session, a bearer session with data, a session logged out, a failed login.
  const browser = new HttpClient(baseUrl);
  await expectStatus(browser.post('/auth/login', alice, { headers: { 'user-agent': USER_AGENT } }), 200, 'cookie login');
  const cookie = (await browser.jar.getCookies(baseUrl)).find((one) => one.key === '__Host-kura_session')!.value;
  const bearer = (await bearerLogin(alice.email, alice.password)).body.token as string;
  const patch = (token: string, body: unknown) => client(baseUrl, token).request('PATCH', '/session/data', body, { 'content-type': 'application/merge-patch+json' });
  await expectStatus(patch(bearer, { cart: ['tea'] }), 200, 'first patch');
  await expectStatus(patch(bearer, { cart: ['tea', 'scone'], seen: { at: 'home' } }), 200, 'second patch');
  const ended = (await bearerLogin(alice.email, alice.password)).body.token as string;
  await expectStatus(client(baseUrl, ended).request('POST', '/auth/logout'), 204, 'logout');
  await expectStatus(anonymous.request('POST', '/auth/login', { email: alice.email, password: 'not the password' }), 401, 'failed login');

  // Bob: two sessions, then a password change from one: the other ends, the one he used is replaced.
  const before = (await bearerLogin(bob.email, bob.oldPassword)).body.token as string;
  const changing = (await bearerLogin(bob.email, bob.oldPassword)).body.token as string;
  const changed = await expectStatus(client(baseUrl, changing).request('POST', '/auth/password', { currentPassword: bob.oldPassword, newPassword: bob.password }), 200, 'password change');

  // Carol: a session with data, then her account deleted.
  const carol = { email: `carol-${tag}@example.com`, password: 'leaving for good, thanks' };
  await expectStatus(anonymous.request('POST', '/auth/register', carol), 201, 'register carol');
  const leaving = (await bearerLogin(carol.email, carol.password)).body.token as string;
  await expectStatus(patch(leaving, { basket: ['bread'] }), 200, 'carol patch');
  await expectStatus(client(baseUrl, leaving).request('DELETE', '/auth/account'), 204, 'account deletion');

  // express-session's session, as it hands it to its store.
  const sid = randomBytes(18).toString('base64url');
  const session = {
    cookie: { originalMaxAge: 1_800_000, expires: new Date(Date.now() + 1_800_000).toISOString(), secure: true, httpOnly: true, path: '/', sameSite: 'lax' },
    user: 'alice',
    cart: ['tea', 'scone'],
  };
  await connectStore.set(sid, session);

  return {
    alice: { ...alice, bearer, cookie, ended },
    bob: { ...bob, before, after: changed.body.token as string },
    carol,
    connect: { sid, session },
  };
}

/** What a release that reads `credentials`' store must find, and be able to do. */
async function expectJourneyKept(baseUrl: string, connectStore: KuraStore, { alice, bob, carol, connect }: Credentials): Promise<void> {
  const asAlice = client(baseUrl, alice.bearer);
  const me = await asAlice.request('GET', '/auth/me');
  expect([me.status, me.body.user?.email, me.body.user?.name]).toEqual([200, alice.email, 'Alice']);
  const data = await asAlice.request('GET', '/session/data');
  expect([data.status, data.body.data]).toEqual([200, { cart: ['tea', 'scone'], seen: { at: 'home' } }]);
  const patched = await asAlice.request('PATCH', '/session/data', { seen: null, note: 'after the upgrade' }, { 'content-type': 'application/merge-patch+json', 'if-match': `"${data.body.version}"` });
  expect([patched.status, patched.body.data, patched.body.version]).toEqual([200, { cart: ['tea', 'scone'], note: 'after the upgrade' }, data.body.version + 1]);

  const byCookie = await client(baseUrl).request('GET', '/auth/me', undefined, { cookie: `__Host-kura_session=${alice.cookie}` });
  expect([byCookie.status, byCookie.body.user?.email]).toEqual([200, alice.email]);
  expect((await client(baseUrl, alice.ended).request('GET', '/auth/me')).status).toBe(401);

  const listed = await asAlice.request('GET', '/auth/sessions');
  expect(listed.status).toBe(200);
  expect(listed.body.sessions).toHaveLength(2);
  expect(listed.body.sessions.map((one: { userAgent: string }) => one.userAgent)).toEqual([USER_AGENT, USER_AGENT]);

  // Passwords as hashed then, a password change's end of Bob's other session, and his new one.
  expect((await client(baseUrl, bob.before).request('GET', '/auth/me')).status).toBe(401);
  expect((await client(baseUrl, bob.after).request('GET', '/auth/me')).status).toBe(200);
  const login = (email: string, password: string) => client(baseUrl).request('POST', '/auth/login', { email, password, transport: 'bearer' });
  expect((await login(bob.email, bob.oldPassword)).status).toBe(401);
  expect((await login(bob.email, bob.password)).status).toBe(200);
  const fresh = await login(alice.email, alice.password);
  expect(fresh.status).toBe(200);

  // A logout everywhere reaches the sessions registered then as well as the one registered now.
  const everywhere = await asAlice.request('POST', '/auth/logout-all');
  expect([everywhere.status, everywhere.body.revoked]).toEqual([200, 3]);
  for (const token of [alice.bearer, fresh.body.token]) expect((await client(baseUrl, token).request('GET', '/auth/me')).status).toBe(401);
  expect((await client(baseUrl).request('GET', '/auth/me', undefined, { cookie: `__Host-kura_session=${alice.cookie}` })).status).toBe(401);

  // A deleted account stays deleted, and its email can be registered again (what it left behind is in the way of neither).
  if (carol) {
    expect((await login(carol.email, carol.password)).status).toBe(401);
    expect((await client(baseUrl).request('POST', '/auth/register', carol)).status).toBe(201);
    expect((await login(carol.email, carol.password)).status).toBe(200);
  }

  // KuraStore: the session as express-session stored it, changed, ended.
  const stored = await connectStore.get(connect.sid);
  expect(stored).toMatchObject({ user: 'alice', cart: ['tea', 'scone'], cookie: { originalMaxAge: 1_800_000, path: '/' } });
  await connectStore.set(connect.sid, { ...stored, cart: ['tea'] });
  expect(await connectStore.get(connect.sid)).toMatchObject({ user: 'alice', cart: ['tea'] });
  if (WITH_USER_INDEX) {
    // In alice's index (written with it, or joined when first read), and ended through it.
    expect((await connectStore.sessionsOf('alice')).map(({ session }) => session.cart)).toEqual([['tea']]);
    expect(await connectStore.destroySessionsOf('alice')).toBe(1);
  } else {
    await connectStore.destroy(connect.sid);
  }
  expect(await connectStore.get(connect.sid)).toBeNull();
}

// ---------------------------------------------------------------------------------------------------------------

function fixturesOf<Dump>(kind: StoreKind<Dump>): Fixture<Dump>[] {
  const directory = join(FIXTURES, kind.name);
  let files: string[] = [];
  try {
    files = readdirSync(directory).filter((file) => file.endsWith('.json'));
  } catch {
    // none recorded yet
  }
  return files.map((file) => JSON.parse(readFileSync(join(directory, file), 'utf8')) as Fixture<Dump>).sort((a, b) => a.stop - b.stop);
}

async function withKura<Dump, T>(namespace: Namespace<Dump>, use: (baseUrl: string) => Promise<T>): Promise<T> {
  let app: NestFastifyApplication | undefined;
  try {
    const started = await startKuraInProcess(namespace.env);
    app = started.app;
    return await use(started.baseUrl);
  } finally {
    await app?.close();
  }
}

const KINDS: StoreKind<any>[] = [dynamoDb, ...(redisRunsPossible('stored formats on Redis') ? [redis] : [])];

describe.each(KINDS.map((kind) => [kind.name, kind] as const))('what Kura keeps in %s', (_name, kind) => {
  beforeAll(() => kind.setUp(), 30_000);
  afterAll(() => kind.tearDown());

  it('is written in the newest format recorded in test/fixtures/stored (a change is recorded, and every earlier format still read)', async () => {
    const namespace = await kind.namespace();
    try {
      const credentials = await withKura(namespace, (baseUrl) => writeJourney(baseUrl, namespace.connectStore));
      const dump = await namespace.dump();
      if (RECORD) {
        const fixture: Fixture<unknown> = { stop: Number(RECORD), commit: execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim(), writtenAt: Date.now(), credentials, dump };
        mkdirSync(join(FIXTURES, kind.name), { recursive: true });
        writeFileSync(join(FIXTURES, kind.name, `stop-${RECORD}.json`), `${JSON.stringify(fixture, null, 1)}\n`);
      }
      const newest = fixturesOf(kind).at(-1);
      if (!newest) throw new Error(`no format recorded in ${join(FIXTURES, kind.name)}: run this test with KURA_RECORD_STORED_FORMAT=<the stop it lands as>`);
      // On a difference: if the change is meant, record it as the stop it lands as (the old file stays, and is read below).
      expect(kind.shapes(dump)).toEqual(kind.shapes(newest.dump));
    } finally {
      await namespace.close();
    }
  }, 60_000);

  for (const fixture of fixturesOf(kind)) {
  it(`written by Kura at stop ${fixture.stop} (${fixture.commit.slice(0, 7)}): read and carried on by this version`, async () => {
    const namespace = await kind.namespace();
    try {
      const now = Date.now();
      await namespace.load(JSON.parse(shiftTimes(JSON.stringify(fixture.dump), fixture.writtenAt, now - fixture.writtenAt)));
      const credentials = JSON.parse(shiftTimes(JSON.stringify(fixture.credentials), fixture.writtenAt, now - fixture.writtenAt)) as Credentials;
      await withKura(namespace, (baseUrl) => expectJourneyKept(baseUrl, namespace.connectStore, credentials));
    } finally {
      await namespace.close();
    }
  }, 60_000);
  }
});
