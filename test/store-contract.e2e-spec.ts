import { InMemoryLoginAttemptStore, InMemoryUserStore } from '@kura/accounts';
import { StoreUnavailableError } from '@kura/common';
import { DynamoDbLoginAttemptStore, DynamoDbSessionDataStore, DynamoDbSessionStore, DynamoDbUserStore, ensureKuraTables } from '@kura/dynamodb';
import { connectRedis, createRedisClient, fromIoredis, type RedisCommander, type RedisConnection } from '@kura/redis';
import { InMemorySessionStore } from '@kura/session';
import dynalite from 'dynalite';
import { Cluster, Redis } from 'ioredis';
import { createClient } from 'redis';
import type { AddressInfo } from 'node:net';
import { storeContract, type StoreUnderTest } from './contracts/session-store.contract.js';
import { freshTables, testClients } from './support/engine.js';
import { startKuraInProcess } from './support/kura-app.js';
import { connectedIoredis, startRedisCluster, until } from './support/redis-cluster.js';
import { redisStores } from './support/redis-fixture.js';
import { type RedisFlavour, redisRunsPossible, startRedisServer } from './support/redis-server.js';

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

/** A client the test connects and destroys: node-redis's own, or the one createRedisClient makes. */
type Connectable = RedisCommander & { connect(): Promise<unknown>; destroy(): void };

/**
 * The four Redis stores on a server of their own (Redis's, or Valkey's, checked to be Valkey), through a client
 * `connect` makes for its URL.
 */
async function onRedisServer(connect: (url: string) => Connectable | Promise<Connectable>, flavour: RedisFlavour = 'redis'): Promise<StoreUnderTest> {
  const server = await startRedisServer({ flavour });
  const client = await connect(server.url);
  closers.push(async () => {
    client.destroy();
    await server.stop();
  });
  await client.connect();
  if (flavour === 'valkey') expect(String(await client.sendCommand(['INFO', 'server']))).toMatch(/^valkey_version:[89]\./m);
  return redisStores(client);
}

/** A cluster of three masters per flavour, reached through one seed node (its URL), shared by this file's tests. */
const clusters = new Map<RedisFlavour, Promise<{ redis: RedisConnection; url: string }>>();
function onCluster(flavour: RedisFlavour = 'redis'): Promise<{ redis: RedisConnection; url: string }> {
  if (!clusters.has(flavour)) {
    clusters.set(
      flavour,
      (async () => {
        const cluster = await startRedisCluster(3, { flavour });
        const redis = connectRedis({ url: cluster.url, cluster: true });
        closers.push(async () => {
          await redis.close();
          await cluster.stop();
        });
        await redis.open();
        return { redis, url: cluster.url };
      })(),
    );
  }
  return clusters.get(flavour)!;
}

if (redisRunsPossible('the store contract on Redis')) {

  storeContract('Redis (its own redis-server)', () => onRedisServer((url) => createRedisClient({ url })));

  // An app may hand the adapters a client of its own: node-redis v6's defaults speak RESP3 (maps, booleans).
  storeContract("Redis through an app's own client (node-redis's createClient defaults)", () =>
    onRedisServer((url) => createClient({ url }).on('error', () => undefined)),
  );

  // An app on ioredis hands the stores its own client, with its own settings: no second connection to configure.
  storeContract("Redis through an app's own ioredis client", async () => {
    const server = await startRedisServer();
    const client = new Redis(server.url, { enableOfflineQueue: false, lazyConnect: true });
    closers.push(async () => {
      client.disconnect();
      await server.stop();
    });
    await client.connect();
    return redisStores(fromIoredis(client));
  });

  storeContract('a Redis Cluster of three masters', async () => redisStores((await onCluster()).redis));

  storeContract("a Redis Cluster of three masters through an app's own ioredis Cluster", async () => {
    const seed = new URL((await onCluster()).url);
    const cluster = new Cluster([{ host: seed.hostname, port: Number(seed.port) }], { enableOfflineQueue: false, lazyConnect: true });
    closers.unshift(() => cluster.disconnect());
    await connectedIoredis(cluster);
    const redis = fromIoredis(cluster);
    // removeAll scans every master: the commander reaches each one.
    expect(redis.masters?.()).toHaveLength(3);
    return redisStores(redis);
  });

  describe('Kura on a Redis Cluster of three masters', () => {
    it('serves Kura itself with KURA_REDIS_CLUSTER=true: register, log in, read, log out', async () => {
      const cluster = (await onCluster()).url;
      const { app, baseUrl } = await startKuraInProcess({ KURA_STORE: 'redis', REDIS_URL: cluster, KURA_REDIS_CLUSTER: 'true', KURA_PASSWORD_HASH_COST: '10', KURA_LOG_LEVEL: 'error' });
      try {
      const email = `cluster-${Date.now()}@example.com`;
      const post = (path: string, body: unknown, token?: string) =>
        fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
      const me = async (token: string) => (await fetch(`${baseUrl}/auth/me`, { headers: { authorization: `Bearer ${token}` } })).status;

      // It serves once the cluster client has connected in the background (503 until then).
      await until('Kura to be ready on the cluster', async () => (await fetch(`${baseUrl}/health/ready`)).status === 200);
      expect((await post('/auth/register', { email, password: 'cluster correct horse' })).status).toBe(201);
      const { token } = (await (await post('/auth/login', { email, password: 'cluster correct horse', transport: 'bearer' })).json()) as { token: string };
      expect(await me(token)).toBe(200);
      expect((await post('/auth/logout', {}, token)).status).toBe(204);
      expect(await me(token)).toBe(401);
      } finally {
        // Before the cluster stops (the closers stop it in afterAll): a client left reconnecting would outlive the test.
        await app.close();
      }
    });

    it('spreads the keys over every master, so removeAll has to scan each one', async () => {
      const { redis } = await onCluster();
      const sizes = await Promise.all((redis.masters?.() ?? []).map(async (master) => Number(await master.sendCommand(['DBSIZE']))));

      expect(sizes).toHaveLength(3);
      expect(sizes.every((size) => size > 0)).toBe(true);
    });

    it('through ioredis: a durable write goes out with its WAIT in one pipeline, which a Cluster takes', async () => {
      const seed = new URL((await onCluster()).url);
      const cluster = new Cluster([{ host: seed.hostname, port: Number(seed.port) }], { enableOfflineQueue: false, lazyConnect: true });
      try {
        await connectedIoredis(cluster);
        // A Cluster sends a pipeline to the one node that owns its keys; WAIT has none. These masters have no
        // replicas, so WAIT 1 answers 0 after its timeout: the write is made, and refused as not durable.
        const sessions = redisStores(fromIoredis(cluster, { waitForReplicas: { replicas: 1, timeoutMs: 100 } })).sessions;
        const now = Date.now();
        const error = await sessions
          .insert({ id: `durable-${now}`, user: { id: 'u', name: null }, createdAt: now, lastSeenAt: now, idleExpiresAt: now + 60_000, absoluteExpiresAt: now + 600_000 })
          .then(() => undefined, (thrown: unknown) => thrown as StoreUnavailableError);

        expect(error).toBeInstanceOf(StoreUnavailableError);
        expect(error!.reason).toMatch(/^only 0 of 1 replica\(s\) confirmed the write within 100 ms/);
      } finally {
        cluster.disconnect();
      }
    });

    it("speaks RESP2 to every master, whatever the installed node-redis's default (v6: RESP3)", async () => {
      const { redis } = await onCluster();
      // CLIENT INFO describes the very connection that sends it, as each master sees it.
      const protocols = await Promise.all((redis.masters?.() ?? []).map(async (master) => /\bresp=(\d)/.exec(String(await master.sendCommand(['CLIENT', 'INFO'])))?.[1]));

      expect(protocols).toEqual(['2', '2', '2']);
    });
  });
}

if (redisRunsPossible('the store contract on Valkey', 'valkey')) {
  // The docs say Kura runs on Valkey too (ElastiCache's default engine now): the same suite, on Valkey 8's servers.
  storeContract('Valkey (its own valkey-server)', () => onRedisServer((url) => createRedisClient({ url }), 'valkey'));

  storeContract('a Valkey Cluster of three masters', async () => {
    const { redis } = await onCluster('valkey');
    expect(redis.masters?.()).toHaveLength(3);
    return redisStores(redis);
  });
}

// ensureKuraTables is what freshTables uses; referenced so a rename breaks this file loudly.
void ensureKuraTables;
