import { randomBytes } from 'node:crypto';
import { DescribeTimeToLiveCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { StoreUnavailableError } from '@kura/common';
import { connectSession, connectSessionStoreContract, newConnectId } from '../../../test/contracts/connect-session-store.contract.js';
import { testClients } from '../../../test/support/engine.js';
import { ensureConnectSessionTable } from './connect-session-table.js';
import { DynamoDbConnectSessionStore, decodeDataKey, encodeDataKey } from './dynamodb-connect-session.store.js';

const { client } = testClients();
const table = `c${randomBytes(4).toString('hex')}-connect`;
let sut: DynamoDbConnectSessionStore;

beforeAll(async () => {
  await ensureConnectSessionTable(client, table);
  sut = new DynamoDbConnectSessionStore(client, { tableName: table });
});
afterAll(() => client.destroy());

connectSessionStoreContract('DynamoDB Local', async () => ({ sut, close: async () => undefined }));

describe('DynamoDbConnectSessionStore on DynamoDB Local', () => {
  it('gives the item the expiry, in epoch seconds rounded up, as its TTL attribute', async () => {
    const id = newConnectId();
    const expiresAtMs = Date.now() + 1000;
    await sut.replace(id, connectSession({ user: 'ada' }, { expiresAtMs }));

    const raw = await client.send(new GetItemCommand({ TableName: table, Key: { id: { S: id } }, ConsistentRead: true }));
    expect(raw.Item?.expiresAt?.N).toBe(String(Math.ceil(expiresAtMs / 1000)));
  });

  it("gives a user index the latest expiry it was asked for as its TTL, or none once asked for none, while it holds entries; an emptied one goes", async () => {
    const user = randomBytes(32).toString('base64url');
    const ttl = async () => (await client.send(new GetItemCommand({ TableName: table, Key: { id: { S: `user:${user}` } }, ConsistentRead: true }))).Item?.expiresAt?.N;
    const entry = (addedAtMs: number) => ({ id: newConnectId(), addedAtMs });
    const inSeconds = (ms: number) => String(Math.ceil(ms / 1000));
    const base = Date.now() + 3_600_000;

    await sut.addToUserIndex(user, entry(1), base);
    expect(await ttl()).toBe(inSeconds(base));
    await sut.addToUserIndex(user, entry(2), base - 60_000);
    expect(await ttl()).toBe(inSeconds(base));
    await sut.addToUserIndex(user, entry(3), base + 60_000);
    expect(await ttl()).toBe(inSeconds(base + 60_000));
    await sut.addToUserIndex(user, entry(4), undefined);
    expect(await ttl()).toBeUndefined();
    await sut.addToUserIndex(user, entry(5), base + 120_000);
    expect(await ttl()).toBeUndefined();

    // Emptied, it is given a TTL of now, so DynamoDB deletes it (it had none, and would have stayed for good).
    await sut.removeFromUserIndex(user, await sut.userIndex(user));
    expect(Number(await ttl())).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    await sut.addToUserIndex(user, entry(6), base);
    expect(await ttl()).toBe(inSeconds(base));
  });

  it('reports a missing table as the store being unavailable, naming the remedy it was given', async () => {
    const wording = { createTable: 'call store.ensureTable()', timeoutSetting: 'timeoutMs', endpointSetting: 'endpoint' };
    const missing = new DynamoDbConnectSessionStore(client, { tableName: 'no-such-table', wording });

    const error = await missing.read(newConnectId(), Date.now()).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ operation: 'connect.get', reason: 'table no-such-table does not exist: call store.ensureTable()' });
  });

  it('creates its table once, with TTL on expiresAt', async () => {
    expect(await ensureConnectSessionTable(client, table)).toEqual({ table, created: false, ttl: 'enabled' });
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: table }));
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe('expiresAt');
  });

  it('creates a table from several processes at once, each succeeding (the losers of the TTL race too)', async () => {
    for (let round = 0; round < 5; round += 1) {
      const fresh = `k${randomBytes(4).toString('hex')}`;

      const processes = Array.from({ length: 4 }, () => testClients().client);

      const steps = await Promise.all(processes.map((one) => ensureConnectSessionTable(one, fresh))).finally(() => processes.forEach((one) => one.destroy()));

      expect(steps.map((step) => step.ttl)).toEqual(Array(4).fill(steps[0]!.ttl));
    }
  }, 60_000);
});

describe('the encoding of session keys as DynamoDB names', () => {
  it.each(['', 'user', '\u0000', '\u0000\u0000x', 'a\u0000'])('round-trips %j and never yields an empty name', (key) => {
    expect(encodeDataKey(key)).not.toBe('');
    expect(decodeDataKey(encodeDataKey(key))).toBe(key);
  });
});

describe('DynamoDbConnectSessionStore: a change conditional on the cookie settings it read (cookieSettingsRead)', () => {
  /** The adapter on the same table, through a client that notes each command it sends. */
  const counted = () => {
    const sent: string[] = [];
    const counting = {
      send: (command: { constructor: { name: string } }) => {
        sent.push(command.constructor.name);
        return client.send(command as never);
      },
    };
    return { sent, store: new DynamoDbConnectSessionStore(counting as unknown as typeof client, { tableName: table }) };
  };
  const steadySave = (expiresAtMs: number) => ({
    set: new Map([['x', '1']]),
    remove: [],
    cookie: '{"originalMaxAge":3600000}',
    cookieSettings: 'a',
    cookieSettingsRead: 'a',
    expiresAtMs,
  });

  it('refused by a logout, another generation or the session\'s end (not by its settings), costs one UpdateItem, not a second try without the cookie', async () => {
    const [loggedOut, replaced, ended] = [newConnectId(), newConnectId(), newConnectId()];
    const read = connectSession({}, { cookieSettings: 'a' });
    const soon = Date.now() + 60_000;
    await sut.replace(loggedOut, read);
    await sut.delete(loggedOut, Date.now());
    await sut.replace(replaced, connectSession({}, { cookieSettings: 'a' }));
    await sut.replace(ended, { ...read, expiresAtMs: soon });

    const { sent, store } = counted();
    expect(await store.update(loggedOut, read.generation, steadySave(Date.now() + 3_600_000), Date.now())).toBe(false);
    expect(await store.update(replaced, read.generation, steadySave(Date.now() + 3_600_000), Date.now())).toBe(false);
    expect(await store.update(ended, read.generation, steadySave(soon + 3_600_000), soon + 1)).toBe(false);

    expect(sent).toEqual(['UpdateItemCommand', 'UpdateItemCommand', 'UpdateItemCommand']);
  });

  it('refused for its settings alone, writes its keys with a second UpdateItem, the cookie kept', async () => {
    const id = newConnectId();
    const read = connectSession({}, { cookieSettings: 'a' });
    await sut.replace(id, read);
    await sut.update(id, read.generation, { set: new Map(), remove: [], cookie: '{"theirs":1}', cookieSettings: 'b', expiresAtMs: read.expiresAtMs - 1000 }, Date.now());

    const { sent, store } = counted();
    expect(await store.update(id, read.generation, steadySave(Date.now() + 2 * 3_600_000), Date.now())).toBe(true);

    expect(sent).toEqual(['UpdateItemCommand', 'UpdateItemCommand']);
    expect(await sut.read(id, Date.now())).toMatchObject({ cookie: '{"theirs":1}', cookieSettings: 'b', expiresAtMs: read.expiresAtMs - 1000, data: new Map([['x', '1']]) });
  });
});
