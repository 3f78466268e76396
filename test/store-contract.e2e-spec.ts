import { InMemoryLoginAttemptStore, InMemoryUserStore } from '@kura/accounts';
import { DynamoDbLoginAttemptStore, DynamoDbSessionDataStore, DynamoDbSessionStore, DynamoDbUserStore, ensureKuraTables } from '@kura/dynamodb';
import { createRedisClient, RedisLoginAttemptStore, RedisSessionDataStore, RedisSessionStore, RedisUserStore } from '@kura/redis';
import { InMemorySessionStore } from '@kura/session';
import dynalite from 'dynalite';
import type { AddressInfo } from 'node:net';
import { storeContract, type StoreUnderTest } from './contracts/session-store.contract.js';
import { freshTables, testClients } from './support/engine.js';
import { redisServerMissing, startRedisServer } from './support/redis-server.js';

const closers: (() => unknown)[] = [];
afterAll(async () => {
  for (const close of closers) await close();
});

async function onDynamoDb(endpoint?: string): Promise<StoreUnderTest> {
  const tables = await freshTables(endpoint);
  const { client, documents } = testClients(endpoint);
  closers.push(() => client.destroy());
  return {
    sessions: new DynamoDbSessionStore(documents, { tableName: tables.sessions }),
    data: new DynamoDbSessionDataStore(documents, tables.sessions),
    attempts: new DynamoDbLoginAttemptStore(documents, tables.sessions),
    users: new DynamoDbUserStore(documents, tables.users),
  };
}

storeContract('the in-memory store', async () => {
  const store = new InMemorySessionStore();
  return { sessions: store, data: store, attempts: new InMemoryLoginAttemptStore(), users: new InMemoryUserStore() };
});

storeContract('DynamoDB Local', () => onDynamoDb());

storeContract('dynalite (the embedded engine)', async () => {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return onDynamoDb(endpoint);
});

const redisMissing = redisServerMissing();
if (redisMissing) {
  console.warn(`SKIPPING the store contract on Redis: ${redisMissing}`);
  describe.skip('the store contract on Redis', () => it('needs redis-server', () => undefined));
} else {
  storeContract('Redis (its own redis-server)', async () => {
    const server = await startRedisServer();
    const client = createRedisClient({ url: server.url });
    closers.push(async () => {
      client.destroy();
      await server.stop();
    });
    await client.connect();
    return {
      sessions: new RedisSessionStore(client),
      data: new RedisSessionDataStore(client),
      attempts: new RedisLoginAttemptStore(client),
      users: new RedisUserStore(client),
    };
  });
}

// ensureKuraTables is what freshTables uses; referenced so a rename breaks this file loudly.
void ensureKuraTables;
