import { randomBytes } from 'node:crypto';
import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { StoreUnavailableError } from '@kura/common';
import { generateSessionToken, resolveSessionSettings, SessionCache, type SessionRecord, SessionService, sessionIdOf, StaleCredentialsError } from '@kura/session';
import { DynamoDbSessionDataStore } from './dynamodb-session-data.store.js';
import { createServer, type Server } from 'node:net';
import { freshTables, testClients } from '../../../test/support/engine.js';
import { freePort } from '../../../test/support/free-port.js';
import { DynamoDbSessionStore } from './dynamodb-session.store.js';
import { ensureKuraTables } from './table-bootstrap.js';
import type { KuraTableNames } from './kura-tables.js';

const { client, documents } = testClients();
let tables: KuraTableNames;
let sut: DynamoDbSessionStore;

beforeAll(async () => {
  tables = await freshTables();
  sut = new DynamoDbSessionStore(documents, { tableName: tables.sessions });
});
afterAll(() => client.destroy());

function newRecord(now = Date.now(), overrides: Partial<SessionRecord> = {}): { token: string; record: SessionRecord } {
  const token = generateSessionToken();
  const record: SessionRecord = {
    id: sessionIdOf(token),
    user: { id: 'user-1', email: 'ada@example.com', name: 'Ada' },
    createdAt: now,
    lastSeenAt: now,
    idleExpiresAt: now + 1_800_000,
    absoluteExpiresAt: now + 28_800_000,
    userAgent: 'jest',
    ip: '127.0.0.1',
    ...overrides,
  };
  return { token, record };
}

const rawItem = async (id: string) =>
  (await documents.send(new GetCommand({ TableName: tables.sessions, Key: { id }, ConsistentRead: true }))).Item;

describe('ensureKuraTables on DynamoDB Local', () => {
  it('creates the sessions table with its index by user and TTL on expiresAt', async () => {
    const table = await client.send(new DescribeTableCommand({ TableName: tables.sessions }));
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tables.sessions }));

    expect(table.Table?.KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
    expect(table.Table?.GlobalSecondaryIndexes?.[0]).toMatchObject({
      IndexName: 'byUser',
      KeySchema: [
        { AttributeName: 'userId', KeyType: 'HASH' },
        { AttributeName: 'createdAt', KeyType: 'RANGE' },
      ],
    });
    expect(ttl.TimeToLiveDescription).toMatchObject({ AttributeName: 'expiresAt', TimeToLiveStatus: 'ENABLED' });
  });

  it('is idempotent', async () => {
    const steps = await ensureKuraTables(client, tables);

    expect(steps).toEqual([
      { table: tables.sessions, created: false, ttl: 'enabled' },
      { table: tables.users, created: false, ttl: 'n/a' },
    ]);
  });

  it('makes the sessions table alone for an app with accounts of its own (no users table named)', async () => {
    const sessions = `${tables.sessions}-alone`;

    const steps = await ensureKuraTables(client, { sessions });

    expect(steps).toEqual([{ table: sessions, created: true, ttl: 'enabled' }]);
  });

  it('makes the tables from several processes at once, each succeeding: two that see TTL off both turn it on', async () => {
    const prefix = `c${randomBytes(4).toString('hex')}`;
    const names = { sessions: `${prefix}-sessions`, users: `${prefix}-users` };

    const processes = Array.from({ length: 4 }, () => testClients().client);

    const runs = await Promise.all(processes.map((one) => ensureKuraTables(one, names))).finally(() => processes.forEach((one) => one.destroy()));

    expect(runs.map((steps) => steps.map((step) => step.ttl))).toEqual(Array(4).fill(['enabled', 'n/a']));
  }, 60_000);
});

describe('DynamoDbSessionStore on DynamoDB Local', () => {
  it('never stores the token, and keeps the TTL as epoch seconds of the earlier expiry', async () => {
    const now = Date.now();
    const { token, record } = newRecord(now, { idleExpiresAt: now + 600_500 });
    await sut.insert(record);

    const item = await rawItem(record.id);

    expect(JSON.stringify(item)).not.toContain(token);
    expect(typeof item?.expiresAt).toBe('number');
    expect(item?.expiresAt).toBe(Math.ceil((now + 600_500) / 1000));
  });

  it('treats an expired session that DynamoDB has not deleted yet as absent', async () => {
    const past = Date.now() - 3_600_000;
    const { record } = newRecord(past, { idleExpiresAt: past + 60_000 });
    await sut.insert(record);

    expect(await rawItem(record.id)).toBeDefined();
    expect(await sut.find(record.id, Date.now())).toBeUndefined();
  });

  it('answers ping when the table exists', async () => {
    await expect(sut.ping()).resolves.toBeUndefined();
  });

  it('turns a missing table into StoreUnavailableError', async () => {
    const missing = new DynamoDbSessionStore(documents, { tableName: 'no-such-table' });

    await expect(missing.find('x', Date.now())).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(missing.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});

describe('DynamoDbSessionStore when the engine cannot be reached', () => {
  let blackHole: Server;
  const held: import('node:net').Socket[] = [];

  beforeAll(async () => {
    blackHole = createServer((socket) => held.push(socket)); // accepts, never answers
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    held.forEach((socket) => socket.destroy());
    await new Promise((resolve) => blackHole.close(resolve));
  });

  it('fails with StoreUnavailableError when nothing listens', async () => {
    const port = await freePort();
    const { documents: down, client: downClient } = testClients(`http://127.0.0.1:${port}`);
    const store = new DynamoDbSessionStore(down, { tableName: tables.sessions });

    await expect(store.find('x', Date.now())).rejects.toBeInstanceOf(StoreUnavailableError);
    downClient.destroy();
  });

  it('gives up on a connection that never answers instead of hanging', async () => {
    const { port } = blackHole.address() as { port: number };
    const { createDynamoDbClients } = await import('./dynamodb-client.js');
    const { documents: silent, client: silentClient } = createDynamoDbClients({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'kuralocal', secretAccessKey: 'kuralocal' },
      timeoutMs: 200,
      maxAttempts: 2,
    });
    const store = new DynamoDbSessionStore(silent, { tableName: tables.sessions });

    const error = await store.find('x', Date.now()).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(held.length).toBeGreaterThanOrEqual(1);
    silentClient.destroy();
  }, 10_000);

  // The SDK's requestTimeout runs until the answer's headers: what bounds the body after them is the socket's timeout,
  // the client's own 5 minutes unless set. An endpoint (a proxy, a load balancer) that sends the headers and stops
  // sending mid-body held the call, and the request, for as long.
  it('gives up on an answer cut mid-body whose connection stays open, within its bound', async () => {
    const stalled: import('node:net').Socket[] = [];
    const halfAnswer = createServer((socket) => {
      stalled.push(socket);
      socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: 200\r\n\r\n{"Item":{"id":'));
    });
    await new Promise<void>((resolve) => halfAnswer.listen(0, '127.0.0.1', resolve));
    const { port } = halfAnswer.address() as { port: number };
    const { createDynamoDbClients } = await import('./dynamodb-client.js');
    const { documents: cut, client: cutClient } = createDynamoDbClients({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'kuralocal', secretAccessKey: 'kuralocal' },
      timeoutMs: 200,
      maxAttempts: 2,
    });
    const store = new DynamoDbSessionStore(cut, { tableName: tables.sessions });

    const started = Date.now();
    let deadline: NodeJS.Timeout | undefined;
    try {
      const error = await Promise.race([
        store.find('x', Date.now()).catch((caught: unknown) => caught),
        new Promise((resolve) => (deadline = setTimeout(() => resolve('still waiting after 5 s'), 5_000))),
      ]);

      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(stalled.length).toBeGreaterThanOrEqual(1);
    } finally {
      clearTimeout(deadline);
      cutClient.destroy();
      stalled.forEach((socket) => socket.destroy());
      await new Promise((resolve) => halfAnswer.close(resolve));
    }
  }, 15_000);
});

describe('sessions of a user on DynamoDB Local', () => {
  const userRecord = (userId: string, createdAt: number, absolute = createdAt + 28_800_000) =>
    newRecord(createdAt, { user: { id: userId, email: `${userId}@example.com`, name: null }, absoluteExpiresAt: absolute });
  const entry = (record: SessionRecord) => ({ id: record.id, absoluteExpiresAt: record.absoluteExpiresAt, credentialVersion: 0 });

  it('ends a session with a tombstone that keeps only its key, owner, TTL and expiry times, out of the by-user index', async () => {
    const now = Date.now();
    const { record } = userRecord('tombstoned', now);
    await sut.insert(record);

    await sut.end(record.id, now);

    const item = await rawItem(record.id);
    expect(Object.keys(item ?? {}).sort()).toEqual(['absoluteExpiresAt', 'endedAt', 'endedBy', 'expiresAt', 'id', 'idleExpiresAt', 'userId']);
    expect(item?.expiresAt).toBe(Math.ceil((now + 1_800_000) / 1000));
  });

  it('never touches another kind of item when asked to end one', async () => {
    const now = Date.now();
    const { record } = userRecord('kinds', now);
    await sut.register('kinds', entry(record), now);

    expect(await sut.end('user#kinds', now)).toBeUndefined();
    expect(await sut.end('user#kinds', now, { owner: 'kinds' })).toBeUndefined();
    expect(await rawItem('user#kinds')).toMatchObject({ [`s:${record.id}`]: { x: record.absoluteExpiresAt, v: 0 } });
  });

  it("never moves the register's TTL backwards (a login with a shorter timeout, or a clock behind)", async () => {
    const now = Date.now();
    const long = userRecord('ttl', now, now + 10 * 3_600_000).record;
    const short = userRecord('ttl', now, now + 3_600_000).record;

    await sut.register('ttl', entry(long), now);
    await sut.register('ttl', entry(short), now);

    const register = await rawItem('user#ttl');
    expect(register?.expiresAt).toBe(Math.ceil(long.absoluteExpiresAt / 1000));
    expect(Object.keys(register ?? {}).filter((name) => name.startsWith('s:'))).toHaveLength(2);
  });

  it('reads a register written before credential versions (entries as bare numbers) as version 0', async () => {
    const now = Date.now();
    const { record } = userRecord('legacy', now);
    await documents.send(
      new PutCommand({ TableName: tables.sessions, Item: { id: 'user#legacy', [`s:${record.id}`]: record.absoluteExpiresAt, expiresAt: 0 } }),
    );

    expect(await sut.registered('legacy')).toEqual([entry(record)]);
  });
});

describe("a user's register at DynamoDB's 400 KB item limit", () => {
  const HOUR = 3_600_000;
  const recordOf = (userId: string, now: number, overrides: Partial<SessionRecord> = {}) =>
    newRecord(now, { user: { id: userId, name: null }, ...overrides }).record;
  const entryOf = (record: SessionRecord, credentialVersion = 0) => ({ id: record.id, absoluteExpiresAt: record.absoluteExpiresAt, credentialVersion });
  const registerItem = (userId: string, entries: readonly { id: string; absoluteExpiresAt: number; credentialVersion: number }[]) => ({
    id: `user#${userId}`,
    cv: 0,
    expiresAt: Math.ceil(Math.max(...entries.map((entry) => entry.absoluteExpiresAt)) / 1000),
    ...Object.fromEntries(entries.map((entry) => [`s:${entry.id}`, { x: entry.absoluteExpiresAt, v: entry.credentialVersion }])),
  });
  const put = (item: Record<string, unknown>) => documents.send(new PutCommand({ TableName: tables.sessions, Item: item }));
  /** The most of `fillers` (plus `kept`) a register item holds: one entry more and DynamoDB refuses it. */
  async function putFullest(userId: string, kept: readonly ReturnType<typeof entryOf>[], fillers: (count: number) => ReturnType<typeof entryOf>[], low: number, high: number) {
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      const fits = await put(registerItem(userId, [...kept, ...fillers(middle)])).then(() => true, () => false);
      if (fits) low = middle;
      else high = middle;
    }
    await put(registerItem(userId, [...kept, ...fillers(low)]));
    return low;
  }

  it('makes room for a login in a register full of sessions that are over, keeping every session that may be live', async () => {
    // One login every 4.3 s for 8 hours, never logged out: sessions that went idle, whose items TTL deleted, keep
    // their entries until their absolute expiry. A login then answered 503 until the first of them passed.
    const userId = `full-${randomBytes(4).toString('hex')}`;
    const now = Date.now();
    const live = recordOf(userId, now);
    const ended = recordOf(userId, now);
    // Past its idle expiry at the login (a minute on), yet still there: DynamoDB's TTL deletes within days.
    const idle = recordOf(userId, now - 2 * HOUR, { idleExpiresAt: now + 30_000 });
    const pastAbsolute = recordOf(userId, now - 9 * HOUR, { absoluteExpiresAt: now - HOUR });
    for (const record of [live, ended, idle]) await sut.insert(record);
    await sut.end(ended.id, now);
    const gone = Array.from({ length: 7000 }, (_, index) => ({ id: randomBytes(32).toString('base64url'), absoluteExpiresAt: now + HOUR + index, credentialVersion: 0 }));
    const kept = [live, ended, idle, pastAbsolute].map((record) => entryOf(record));
    const count = await putFullest(userId, kept, (count) => gone.slice(0, count), 6400, 6900);
    const login = recordOf(userId, now);
    await sut.insert(login);

    const outcome = await sut.register(userId, entryOf(login), now + 60_000);

    expect(count).toBeGreaterThan(6000);
    expect(outcome).toEqual({ outcome: 'registered', older: [], current: [entryOf(live)] });
    expect((await sut.registered(userId)).map((entry) => entry.id).sort()).toEqual([live.id, login.id].sort());
    // The idle session TTL had not deleted yet is ended, not only unregistered: a use in flight could extend it.
    expect(await rawItem(idle.id)).toMatchObject({ endedAt: now + 60_000 });
    expect(await sut.find(live.id, now)).toEqual(live);
  }, 120_000);

  it('answers 503, saying why, when the register is full of sessions that may be live', async () => {
    const userId = `live-${randomBytes(4).toString('hex')}`;
    const now = Date.now();
    // Ids near DynamoDB's 2 KB key limit fill the item with a couple of hundred sessions instead of thousands.
    const records = Array.from({ length: 220 }, () => recordOf(userId, now, { id: randomBytes(1500).toString('base64url') }));
    const count = await putFullest(userId, [], (count) => records.slice(0, count).map((record) => entryOf(record)), 100, 220);
    for (const record of records.slice(0, count)) await sut.insert(record);
    const login = recordOf(userId, now, { id: randomBytes(1500).toString('base64url') });

    const error = await sut.register(userId, entryOf(login), now).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as StoreUnavailableError).reason).toMatch(/session register is full/);
    expect(await sut.registered(userId)).toHaveLength(count);
  }, 60_000);

  it('drops the entries of sessions that are over every hundredth login past a thousand entries, long before the limit', async () => {
    const userId = `busy-${randomBytes(4).toString('hex')}`;
    const now = Date.now();
    const live = recordOf(userId, now);
    await sut.insert(live);
    const gone = Array.from({ length: 998 }, () => ({ id: randomBytes(32).toString('base64url'), absoluteExpiresAt: now + HOUR, credentialVersion: 0 }));
    await put(registerItem(userId, [entryOf(live), ...gone]));
    const login = recordOf(userId, now);
    await sut.insert(login);

    await sut.register(userId, entryOf(login), now);

    expect((await sut.registered(userId)).map((entry) => entry.id).sort()).toEqual([live.id, login.id].sort());
  }, 60_000);
});

describe('the credential version a register holds', () => {
  const settingsOf = () => resolveSessionSettings({ store: sut, dataStore: new DynamoDbSessionDataStore(documents, tables.sessions) });

  it('is never left to TTL once past version 0: a closing of a user with no register keeps refusing logins that checked the old password', async () => {
    const userId = `closed-${randomBytes(4).toString('hex')}`;
    const settings = settingsOf();
    const sessions = new SessionService(settings, new SessionCache(settings));

    await sessions.closeAll(userId, 1);

    // The closing's entry expires at once; a TTL set from it ("now") let DynamoDB delete the version it raised.
    const register = await rawItem(`user#${userId}`);
    expect(register).toMatchObject({ cv: 1 });
    expect(register).not.toHaveProperty('expiresAt');
    await expect(sessions.create({ id: userId, name: null }, {}, { credentialVersion: 0 })).rejects.toBeInstanceOf(StaleCredentialsError);
  });

  it('loses the TTL a replica from before wrote at the next registration past version 0, and keeps it at version 0', async () => {
    const now = Date.now();
    const userId = `mixed-${randomBytes(4).toString('hex')}`;
    const first = newRecord(now, { user: { id: userId, name: null } }).record;
    await sut.register(userId, { id: first.id, absoluteExpiresAt: first.absoluteExpiresAt, credentialVersion: 0 }, now);
    expect((await rawItem(`user#${userId}`))?.expiresAt).toBe(Math.ceil(first.absoluteExpiresAt / 1000));
    // An older replica registering at version 1 sets a TTL, as it always did.
    await documents.send(
      new UpdateCommand({
        TableName: tables.sessions,
        Key: { id: `user#${userId}` },
        UpdateExpression: 'SET #entry = :entry, cv = :cv, expiresAt = :ttl',
        ExpressionAttributeNames: { '#entry': 's:older-replica' },
        ExpressionAttributeValues: { ':entry': { x: now + 3_600_000, v: 1 }, ':cv': 1, ':ttl': Math.ceil(first.absoluteExpiresAt / 1000) },
      }),
    );
    const second = newRecord(now, { user: { id: userId, name: null } }).record;

    await sut.register(userId, { id: second.id, absoluteExpiresAt: second.absoluteExpiresAt, credentialVersion: 1 }, now);

    const register = await rawItem(`user#${userId}`);
    expect(register).toMatchObject({ cv: 1 });
    expect(register).not.toHaveProperty('expiresAt');
  });
});
