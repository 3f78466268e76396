import { randomBytes, randomUUID } from 'node:crypto';
import { DynamoDbConnectSessionStore, DynamoDbLoginAttemptStore, DynamoDbSessionDataStore, DynamoDbSessionStore, DynamoDbUserStore, ensureConnectSessionTable, type KuraTableNames } from '@kura/dynamodb';
import { generateSessionToken, type SessionRecord, sessionIdOf } from '@kura/session';
import { connectSession, newConnectId } from './contracts/connect-session-store.contract.js';
import { freshTables, testClients, testEndpoint } from './support/engine.js';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy.js';

/**
 * Every write of the DynamoDB adapters with its answer lost once (the write landed, the SDK sends it again), forced
 * by a proxy in front of DynamoDB Local: each answers as it would have without the fault (docs/concurrency.md,
 * "every write is safe to retry").
 */
const HOUR = 3_600_000;
const direct = testClients();
let proxy: FaultProxy;
let viaProxy: ReturnType<typeof testClients>;
let tables: KuraTableNames;
const connectTable = `c${randomBytes(4).toString('hex')}-connect`;

beforeAll(async () => {
  tables = await freshTables();
  await ensureConnectSessionTable(direct.client, connectTable);
  proxy = await startFaultProxy(testEndpoint());
  viaProxy = testClients(proxy.endpoint);
});
afterAll(async () => {
  viaProxy.client.destroy();
  direct.client.destroy();
  await proxy.close();
});

const lose = (operation: string, marker: string) => proxy.loseAnswer((op, body) => op === operation && body.includes(marker)).lost;
const record = (userId: string, now = Date.now()): SessionRecord => ({
  id: sessionIdOf(generateSessionToken()),
  user: { id: userId, name: null },
  createdAt: now,
  lastSeenAt: now,
  idleExpiresAt: now + HOUR,
  absoluteExpiresAt: now + 8 * HOUR,
});

it('user store: password change and removal', async () => {
  const users = new DynamoDbUserStore(viaProxy.documents, tables.users);
  const email = `${randomUUID()}@example.com`;
  await new DynamoDbUserStore(direct.documents, tables.users).insert({ id: randomUUID(), email, name: null, passwordHash: 'h0', createdAt: Date.now() });
  const lostChange = lose('UpdateItem', email);
  expect(await users.replacePasswordHash(email, 'h0', 'h1')).toBe(1);
  await lostChange;
  const lostRemoval = lose('DeleteItem', email);
  expect(await users.remove(email, 'h1')).toBe(true);
  await lostRemoval;
});

it('login attempts: reserve at the bound, release, clear', async () => {
  const attempts = new DynamoDbLoginAttemptStore(viaProxy.documents, tables.sessions);
  const key = `k${randomBytes(4).toString('hex')}`;
  await new DynamoDbLoginAttemptStore(direct.documents, tables.sessions).reserve(key, 'first', 2, Date.now() + HOUR);
  const lostReserve = lose('UpdateItem', key);
  expect(await attempts.reserve(key, 'second', 2, Date.now() + HOUR)).toBe(true);
  await lostReserve;
  expect(await attempts.counts([key])).toEqual([2]);
  const lostRelease = lose('UpdateItem', key);
  await attempts.release(key, 'second');
  await lostRelease;
  expect(await attempts.counts([key])).toEqual([1]);
  const lostClear = lose('BatchWriteItem', key);
  await attempts.clear([key]);
  await lostClear;
  expect(await attempts.counts([key])).toEqual([0]);
});

it('sessions: register, extend, end by owner (data deleted), unregister', async () => {
  const sessions = new DynamoDbSessionStore(viaProxy.documents, { tableName: tables.sessions });
  const data = new DynamoDbSessionDataStore(viaProxy.documents, tables.sessions);
  const userId = `u${randomBytes(4).toString('hex')}`;
  const first = record(userId);
  const second = record(userId);
  await sessions.insert(first);
  await sessions.insert(second);
  await sessions.register(userId, { id: first.id, absoluteExpiresAt: first.absoluteExpiresAt, credentialVersion: 0 }, Date.now());
  const lostRegister = lose('UpdateItem', second.id);
  const outcome = await sessions.register(userId, { id: second.id, absoluteExpiresAt: second.absoluteExpiresAt, credentialVersion: 0 }, Date.now());
  await lostRegister;
  expect(outcome).toEqual({ outcome: 'registered', older: [], current: [{ id: first.id, absoluteExpiresAt: first.absoluteExpiresAt, credentialVersion: 0 }] });

  const lostExtend = lose('UpdateItem', first.id);
  expect(await sessions.extend(first.id, { lastSeenAt: Date.now(), idleExpiresAt: Date.now() + HOUR, absoluteExpiresAt: first.absoluteExpiresAt })).toBe(true);
  await lostExtend;

  const lostCreate = lose('UpdateItem', `data#${first.id}`);
  expect(await data.write(first.id, { a: 1 }, 0, first.absoluteExpiresAt)).toBe(true);
  await lostCreate;
  const lostWrite = lose('UpdateItem', `data#${first.id}`);
  expect(await data.write(first.id, { a: 2 }, 1, first.absoluteExpiresAt)).toBe(true);
  await lostWrite;
  expect(await data.read(first.id)).toEqual({ data: { a: 2 }, version: 2 });

  const lostEnd = lose('UpdateItem', first.id);
  expect(await sessions.end(first.id, Date.now(), { owner: userId })).toEqual({ userId, live: true });
  await lostEnd;
  expect(await data.read(first.id)).toEqual({ data: {}, version: 0 });

  const lostUnregister = lose('UpdateItem', first.id);
  await sessions.unregister(userId, [first.id]);
  await lostUnregister;
  expect((await sessions.registered(userId)).map((entry) => entry.id)).toEqual([second.id]);
});

it('connect sessions: replace, update, noteIndexed, user index, delete', async () => {
  const items = new DynamoDbConnectSessionStore(viaProxy.client, { tableName: connectTable });
  const id = newConnectId();
  const session = connectSession({ user: 'ada' });
  const lostReplace = lose('PutItem', id);
  await items.replace(id, session);
  await lostReplace;
  expect((await items.read(id, Date.now()))?.generation).toBe(session.generation);

  const lostUpdate = lose('UpdateItem', id);
  const change = { set: new Map([['cart', '["tea"]']]), remove: ['user'], cookie: session.cookie, expiresAtMs: session.expiresAtMs + 1000, cookieSettings: 'fp', cookieSettingsRead: undefined };
  expect(await items.update(id, session.generation, change, Date.now())).toBe(true);
  await lostUpdate;
  expect(Object.fromEntries((await items.read(id, Date.now()))!.data)).toEqual({ cart: '["tea"]' });

  const lostNote = lose('UpdateItem', id);
  expect(await items.noteIndexed(id, session.generation, '-:ada', Date.now())).toBe(true);
  await lostNote;

  const user = `ada-${randomBytes(4).toString('hex')}`;
  const lostAdd = lose('UpdateItem', user);
  expect(await items.addToUserIndex(user, { id, addedAtMs: 1 }, Date.now() + HOUR)).toBe(1);
  await lostAdd;
  const lostRemove = lose('UpdateItem', user);
  await items.removeFromUserIndex(user, [{ id, addedAtMs: 1 }]);
  await lostRemove;
  expect(await items.userIndex(user)).toEqual([]);

  const lostDelete = lose('UpdateItem', id);
  await items.delete(id, Date.now());
  await lostDelete;
  expect(await items.readOrMark(id, Date.now())).toBe('deleted');
  await items.replace(id, connectSession({ user: 'eve' }));
  expect(await items.read(id, Date.now())).toBeUndefined();
});
