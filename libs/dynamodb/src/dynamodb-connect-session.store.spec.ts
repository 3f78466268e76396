import { randomBytes, randomUUID } from 'node:crypto';
import { DescribeTimeToLiveCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { StoreUnavailableError } from '@kura/common';
import { testClients } from '../../../test/support/engine.js';
import { ensureConnectSessionTable } from './connect-session-table.js';
import { type ConnectSessionItem, DynamoDbConnectSessionStore, decodeDataKey, encodeDataKey } from './dynamodb-connect-session.store.js';

const HOUR = 3_600_000;
const { client } = testClients();
const table = `c${randomBytes(4).toString('hex')}-connect`;
let sut: DynamoDbConnectSessionStore;

beforeAll(async () => {
  await ensureConnectSessionTable(client, table);
  sut = new DynamoDbConnectSessionStore(client, { tableName: table });
});
afterAll(() => client.destroy());

const newId = () => randomBytes(32).toString('base64url');
const session = (data: Record<string, unknown>, overrides: Partial<ConnectSessionItem> = {}): ConnectSessionItem => ({
  data: new Map(Object.entries(data).map(([key, value]) => [key, JSON.stringify(value)])),
  cookie: JSON.stringify({ originalMaxAge: HOUR, path: '/' }),
  expiresAtMs: Date.now() + HOUR,
  generation: randomUUID(),
  ...overrides,
});
const change = (set: Record<string, unknown>, remove: string[] = []) => ({
  set: new Map(Object.entries(set).map(([key, value]) => [key, JSON.stringify(value)])),
  remove,
  cookie: JSON.stringify({ originalMaxAge: HOUR }),
  expiresAtMs: Date.now() + HOUR,
});
const dataOf = async (id: string) => Object.fromEntries([...((await sut.read(id, Date.now()))?.data ?? [])].map(([key, json]) => [key, JSON.parse(json)]));

describe('DynamoDbConnectSessionStore on DynamoDB Local', () => {
  it('reads back what it wrote, keys DynamoDB would refuse included', async () => {
    const id = newId();
    const written = session({ '': 'empty', '\u0000x': 'nul', '__proto__': { polluted: true }, 'a.b[0]': 1, 日本: [null, 'x'] });

    await sut.replace(id, written);

    expect(await sut.read(id, Date.now())).toEqual(written);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('treats an expired item as absent, though DynamoDB has not deleted it yet', async () => {
    const id = newId();
    const expiresAtMs = Date.now() + 1000;
    await sut.replace(id, session({ user: 'ada' }, { expiresAtMs }));

    expect(await sut.read(id, expiresAtMs - 1)).toBeDefined();
    expect(await sut.read(id, expiresAtMs)).toBeUndefined();
    const raw = await client.send(new GetItemCommand({ TableName: table, Key: { id: { S: id } }, ConsistentRead: true }));
    expect(raw.Item?.expiresAt?.N).toBe(String(Math.ceil(expiresAtMs / 1000)));
  });

  it('changes only the keys it is given, so concurrent changes of other keys are all kept', async () => {
    const id = newId();
    const { generation } = session({});
    await sut.replace(id, session({ keep: 1, drop: 2 }, { generation }));

    await Promise.all([
      sut.update(id, generation, change({ a: 'A' }), Date.now()),
      sut.update(id, generation, change({ b: 'B' }, ['drop']), Date.now()),
      sut.update(id, generation, change({ c: { nested: true } }), Date.now()),
    ]);

    expect(await dataOf(id)).toEqual({ keep: 1, a: 'A', b: 'B', c: { nested: true } });
  });

  it('writes a change of hundreds of keys in several calls', async () => {
    const id = newId();
    const { generation } = session({});
    await sut.replace(id, session({}, { generation }));
    const many = Object.fromEntries(Array.from({ length: 250 }, (_, index) => [`key-${index}`, index]));

    expect(await sut.update(id, generation, change(many), Date.now())).toBe(true);

    expect(await dataOf(id)).toEqual(many);
  });

  it.each([
    ['destroyed', async (id: string) => sut.delete(id), undefined],
    ['written whole again since it was read', async (id: string) => sut.replace(id, session({ other: true })), { other: true }],
  ])('writes nothing to a session %s', async (_case, meanwhile, left) => {
    const id = newId();
    const { generation } = session({});
    await sut.replace(id, session({ user: 'ada' }, { generation }));
    await meanwhile(id);

    expect(await sut.update(id, generation, change({ late: true }), Date.now())).toBe(false);

    expect(left === undefined ? await sut.read(id, Date.now()) : await dataOf(id)).toEqual(left);
  });

  it('never brings an expired session back', async () => {
    const id = newId();
    const expiresAtMs = Date.now() + 500;
    await sut.replace(id, session({ user: 'ada' }, { expiresAtMs }));

    expect(await sut.update(id, undefined, change({ late: true }), expiresAtMs + 1)).toBe(false);

    expect(await sut.read(id, expiresAtMs - 1)).toMatchObject({ expiresAtMs });
  });

  it('moves the expiry and the cookie without touching the data', async () => {
    const id = newId();
    const { generation } = session({});
    await sut.replace(id, session({ user: 'ada' }, { generation }));
    const later = { set: new Map(), remove: [], cookie: '{"moved":true}', expiresAtMs: Date.now() + 2 * HOUR };

    expect(await sut.update(id, generation, later, Date.now())).toBe(true);

    expect(await sut.read(id, Date.now())).toMatchObject({ cookie: '{"moved":true}', expiresAtMs: later.expiresAtMs, generation });
    expect(await dataOf(id)).toEqual({ user: 'ada' });
  });

  it('reports a missing table as the store being unavailable, naming the remedy it was given', async () => {
    const wording = { createTable: 'call store.ensureTable()', timeoutSetting: 'timeoutMs', endpointSetting: 'endpoint' };
    const missing = new DynamoDbConnectSessionStore(client, { tableName: 'no-such-table', wording });

    const error = await missing.read(newId(), Date.now()).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ operation: 'connect.get', reason: 'table no-such-table does not exist: call store.ensureTable()' });
  });

  it('creates its table once, with TTL on expiresAt', async () => {
    expect(await ensureConnectSessionTable(client, table)).toEqual({ table, created: false, ttl: 'enabled' });
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: table }));
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe('expiresAt');
  });
});

describe('the encoding of session keys as DynamoDB names', () => {
  it.each(['', 'user', '\u0000', '\u0000\u0000x', 'a\u0000'])('round-trips %j and never yields an empty name', (key) => {
    expect(encodeDataKey(key)).not.toBe('');
    expect(decodeDataKey(encodeDataKey(key))).toBe(key);
  });
});
