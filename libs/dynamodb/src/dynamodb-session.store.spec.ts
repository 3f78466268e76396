import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { StoreUnavailableError } from '@kura/common';
import { generateSessionToken, type SessionRecord, sessionIdOf } from '@kura/session';
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
});

describe('DynamoDbSessionStore on DynamoDB Local', () => {
  it('stores a session and reads it back unchanged', async () => {
    const { record } = newRecord();

    await sut.insert(record);

    expect(await sut.find(record.id, Date.now())).toEqual(record);
  });

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

  it('extends the idle expiry of a live session', async () => {
    const now = Date.now();
    const { record } = newRecord(now);
    await sut.insert(record);

    const extended = await sut.extend(record.id, {
      lastSeenAt: now + 1000,
      idleExpiresAt: now + 3_600_000,
      absoluteExpiresAt: record.absoluteExpiresAt,
    });

    expect(extended).toBe(true);
    expect(await sut.find(record.id, now)).toMatchObject({ lastSeenAt: now + 1000, idleExpiresAt: now + 3_600_000 });
    expect((await rawItem(record.id))?.expiresAt).toBe(Math.ceil((now + 3_600_000) / 1000));
  });

  it('never re-creates a removed session when extending it', async () => {
    const now = Date.now();
    const { record } = newRecord(now);
    await sut.insert(record);
    await sut.remove(record.id);

    const extended = await sut.extend(record.id, { lastSeenAt: now, idleExpiresAt: now + 60_000, absoluteExpiresAt: now + 60_000 });

    expect(extended).toBe(false);
    expect(await rawItem(record.id)).toBeUndefined();
  });

  it('reads a removal at once (strongly consistent reads by default)', async () => {
    const { record } = newRecord();
    await sut.insert(record);

    await sut.remove(record.id);

    expect(await sut.find(record.id, Date.now())).toBeUndefined();
  });

  it('refuses to overwrite an existing session id', async () => {
    const { record } = newRecord();
    await sut.insert(record);

    await expect(sut.insert(record)).rejects.toThrow(/collision/);
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
});

describe('sessions of a user on DynamoDB Local', () => {
  const userRecord = (userId: string, createdAt: number, absolute = createdAt + 28_800_000) =>
    newRecord(createdAt, { user: { id: userId, email: `${userId}@example.com`, name: null }, absoluteExpiresAt: absolute });

  it('lists a user’s live sessions newest first, and nobody else’s', async () => {
    const now = Date.now();
    const older = userRecord('lister', now - 2000).record;
    const newer = userRecord('lister', now - 1000).record;
    const expired = userRecord('lister', now - 3_600_000, now - 1000).record;
    for (const record of [older, newer, expired, userRecord('someone-else', now).record]) await sut.insert(record);

    expect((await sut.listOfUser('lister', now)).map((record) => record.id)).toEqual([newer.id, older.id]);
  });

  it('removes every session of a user but the one kept, with their data, by primary key', async () => {
    const now = Date.now();
    const records = [1, 2, 3].map((n) => userRecord('revoker', now + n).record);
    for (const record of records) {
      await sut.insert(record);
      await documents.send(new PutCommand({ TableName: tables.sessions, Item: { id: `data#${record.id}`, document: '{}', version: 1 } }));
    }

    const removed = await sut.removeAllOfUser('revoker', records[0]!.id);

    expect(removed).toBe(2);
    expect(await sut.find(records[0]!.id, now)).toBeDefined();
    for (const record of records.slice(1)) {
      expect(await rawItem(record.id)).toBeUndefined();
      expect(await rawItem(`data#${record.id}`)).toBeUndefined();
    }
    expect(await sut.removeAllOfUser('revoker', records[0]!.id)).toBe(0);
  });

  it('deletes only its own sessions when asked by owner, and never another item kind', async () => {
    const { record } = userRecord('owner', Date.now());
    await sut.insert(record);

    expect(await sut.removeOwned(record.id, 'intruder')).toBe(false);
    expect(await sut.removeOwned('user#owner', 'owner')).toBe(false);
    expect(await rawItem(record.id)).toBeDefined();
    expect(await sut.removeOwned(record.id, 'owner')).toBe(true);
    expect(await rawItem(record.id)).toBeUndefined();
  });

  it('prunes sessions past their absolute expiry from the register at the next login', async () => {
    const now = Date.now();
    await sut.insert(userRecord('pruner', now - 10_000, now - 5000).record);
    const live = userRecord('pruner', now).record;

    await sut.insert(live);

    const register = await rawItem('user#pruner');
    expect(Object.keys(register ?? {}).filter((name) => name.startsWith('s:'))).toEqual([`s:${live.id}`]);
  });

  it('deletes a session’s data with the session', async () => {
    const { record } = newRecord();
    await sut.insert(record);
    await documents.send(new PutCommand({ TableName: tables.sessions, Item: { id: `data#${record.id}`, document: '{}', version: 1 } }));

    await sut.remove(record.id);

    expect(await rawItem(`data#${record.id}`)).toBeUndefined();
  });
});
