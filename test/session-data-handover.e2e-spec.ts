import { randomBytes } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { ManualClock, type SessionDataStore, type SessionStore } from '@kura/common';
import { DynamoDbSessionDataStore, DynamoDbSessionStore } from '@kura/dynamodb';
import { RedisSessionDataStore, RedisSessionStore } from '@kura/redis';
import { resolveSessionSettings, SessionCache, SessionDataService, SessionService } from '@kura/session';
import { createRedisClient, type RedisClient } from '../libs/redis/src/redis-client.js';
import { redisKeys } from '../libs/redis/src/redis-keys.js';
import { freshTables, testClients } from './support/engine.js';
import { possibleFlavours, type RedisServer, startRedisServer } from './support/redis-server.js';

/**
 * A re-authentication hands the session's data to the new session (docs/concurrency.md, "re-authentication × data
 * patch"): a patch authenticated by the old session and written after the renewal lands in the document the new
 * session reads, and that document must last as long as the new session. The review of 2026-12-05 found that it did
 * not: the renewal's `retain` found no document yet and kept nothing, the patch then created it with the old
 * session's expiry, and Redis dropped it there, acknowledged patch and all, while the new session lived on (on
 * DynamoDB each write set the expiry again, so even an existing document was brought back to the old end).
 * Checked here by the expiry each engine holds for the document.
 */
interface Engine {
  readonly name: string;
  stores(): Promise<{ sessions: SessionStore; data: SessionDataStore; expiryOf(dataId: string): Promise<number>; close(): Promise<void> }>;
}

const dynamoDb: Engine = {
  name: 'DynamoDB Local',
  async stores() {
    const tables = await freshTables();
    const { client, documents } = testClients();
    return {
      sessions: new DynamoDbSessionStore(documents, { tableName: tables.sessions }),
      data: new DynamoDbSessionDataStore(documents, tables.sessions),
      // Epoch seconds, rounded up (DynamoDB's TTL attribute).
      expiryOf: async (dataId) => Number((await documents.send(new GetCommand({ TableName: tables.sessions, Key: { id: `data#${dataId}` }, ConsistentRead: true }))).Item?.expiresAt) * 1000,
      close: async () => client.destroy(),
    };
  },
};

const redisEngines: Engine[] = possibleFlavours((name) => `the runs on ${name}`).map(({ flavour, name }) => ({
  name,
  async stores() {
    const server: RedisServer = await startRedisServer({ flavour });
    const client: RedisClient = await createRedisClient({ url: server.url });
    await client.connect();
    const prefix = `t${randomBytes(4).toString('hex')}:`;
    return {
      sessions: new RedisSessionStore(client, { keyPrefix: prefix }),
      data: new RedisSessionDataStore(client, { keyPrefix: prefix }),
      expiryOf: async (dataId) => Number(await client.sendCommand(['PEXPIRETIME', redisKeys(prefix).data(dataId)])),
      close: async () => {
        client.destroy();
        await server.stop();
      },
    };
  },
}));

const HOUR = 3_600_000;
const user = { id: 'handover', name: null };

describe.each([dynamoDb, ...redisEngines])('the data a re-authentication hands over, on $name', (engine) => {
  let stores: Awaited<ReturnType<Engine['stores']>>;
  beforeAll(async () => {
    stores = await engine.stores();
  });
  afterAll(() => stores.close());

  function service() {
    const clock = new ManualClock(Date.now());
    const settings = resolveSessionSettings({ store: stores.sessions, dataStore: stores.data, clock, idleTimeoutSeconds: 8 * 3600, absoluteTimeoutSeconds: 8 * 3600 });
    return { clock, sessions: new SessionService(settings, new SessionCache(settings)), data: new SessionDataService(settings) };
  }
  const roundedUp = (ms: number) => Math.ceil(ms / 1000) * 1000;

  it('keeps a patch authenticated before the renewal and written after it, the first of the session, as long as the new session', async () => {
    const { clock, sessions, data } = service();
    const first = await sessions.create(user);
    clock.advance(HOUR);
    const patching = await sessions.authenticate(first.token); // the patch's session check, before the renewal

    const renewed = await sessions.reauthenticated(await sessions.authenticate(first.token));
    await data.patch(patching.record, { cart: ['book'] });

    const owner = (await sessions.authenticate(renewed.token)).record;
    expect(await data.read(owner)).toMatchObject({ data: { cart: ['book'] } });
    expect(roundedUp(await stores.expiryOf(first.record.id))).toBe(roundedUp(owner.absoluteExpiresAt));
    expect(owner.absoluteExpiresAt).toBeGreaterThan(first.record.absoluteExpiresAt);
  });

  // Session 44 (the session-data review): the handover wrote an empty document as version 1, so a client holding the
  // ETag "0" of a session with no data met a 412 after its re-authentication, for a document nobody had changed.
  it('keeps the version of a session with no data through the renewal ("0"), and a patch on it then lands as version 1', async () => {
    const { clock, sessions, data } = service();
    const first = await sessions.create(user);
    clock.advance(HOUR);

    const renewed = await sessions.reauthenticated(await sessions.authenticate(first.token));
    const owner = (await sessions.authenticate(renewed.token)).record;

    expect(await data.read(owner)).toEqual({ data: {}, version: 0 });
    expect(await data.patch(owner, { cart: ['book'] }, 0)).toEqual({ data: { cart: ['book'] }, version: 1 });
    expect(roundedUp(await stores.expiryOf(first.record.id))).toBe(roundedUp(owner.absoluteExpiresAt));
  });

  it('keeps a document that was there as long as the new session, whatever a patch of the old session writes after', async () => {
    const { clock, sessions, data } = service();
    const first = await sessions.create(user);
    await data.patch(first.record, { cart: ['tea'] });
    clock.advance(HOUR);
    const patching = await sessions.authenticate(first.token);

    const renewed = await sessions.reauthenticated(await sessions.authenticate(first.token));
    await data.patch(patching.record, { cart: ['tea', 'book'] });

    const owner = (await sessions.authenticate(renewed.token)).record;
    expect(await data.read(owner)).toMatchObject({ data: { cart: ['tea', 'book'] }, version: 2 });
    expect(roundedUp(await stores.expiryOf(first.record.id))).toBe(roundedUp(owner.absoluteExpiresAt));
  });
});
