import { randomBytes } from 'node:crypto';
import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbCallLog, type DynamoDbConnectionOptions, ensureConnectSessionTable } from '@kura/dynamodb';
import { connectRedis, fromIoredis, RedisConnectSessionStore, type RedisCommander, redisKeys } from '@kura/redis';
import { Redis } from 'ioredis';
import type { ConnectStorage, StoreOptionsHandle } from '../contracts/connect-app.suite.js';
import { LOCAL_CREDENTIALS, testClients, testEndpoint } from './engine.js';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';
import { freePort } from './free-port.js';
import { redisCommandCounter } from './redis-command-counter.js';
import { FLAVOUR_NAMES, type RedisFlavour, type RedisServer, redisRunsPossible, startRedisServer } from './redis-server.js';
import { startTcpFaultProxy, type TcpFaultProxy } from './tcp-fault-proxy.js';

/** Calls that fail: each one gets 300 ms and a single attempt. */
const FAILING_MS = 300;

/**
 * KuraStore on DynamoDB Local, each store with its own client (`connection`), on a fresh table; calls counted
 * by each store's `DynamoDbCallLog`, faults injected by an HTTP proxy in front of the engine.
 */
export function dynamoDbStorage(label: string): ConnectStorage {
  const tableName = `${label}${randomBytes(4).toString('hex')}-connect`;
  const { client } = testClients();
  const logs: DynamoDbCallLog[] = [];
  let proxy: FaultProxy;
  const connection = (extra: Partial<DynamoDbConnectionOptions> = {}) => ({
    region: 'us-east-1',
    endpoint: testEndpoint(),
    credentials: LOCAL_CREDENTIALS,
    timeoutMs: 5000,
    ...extra,
  });
  const handle = (extra: Partial<DynamoDbConnectionOptions>): StoreOptionsHandle => ({ options: { tableName, connection: connection(extra) }, close: async () => undefined });
  return {
    name: 'DynamoDB Local',
    freedAtExpiry: false,
    setUp: async () => {
      await ensureConnectSessionTable(client, tableName);
      proxy = await startFaultProxy(testEndpoint());
    },
    tearDown: async () => {
      await proxy?.close();
      client.destroy();
    },
    healthy: async () => {
      const callLog = new DynamoDbCallLog();
      logs.push(callLog);
      return handle({ callLog });
    },
    faulty: async () => handle({ timeoutMs: FAILING_MS, maxAttempts: 1, endpoint: proxy.endpoint }),
    refused: async () => handle({ timeoutMs: FAILING_MS, maxAttempts: 1, endpoint: `http://127.0.0.1:${await freePort()}` }),
    stall: () => proxy.set('blackhole'),
    pass: () => proxy.set('pass'),
    holdWrites: () => void proxy.hold((operation) => operation === 'UpdateItem'),
    resetCosts: async () => logs.forEach((log) => log.reset()),
    costs: async () => {
      const totals = logs.map((log) => log.snapshot());
      const sum = (pick: (calls: (typeof totals)[number]) => number) => totals.reduce((total, calls) => total + pick(calls), 0);
      // One capacity unit per read: strongly consistent, so a logout elsewhere is seen at once.
      return { reads: sum((calls) => calls.reads), writes: sum((calls) => calls.writes), consistentReads: sum((calls) => calls.readCapacityUnits), commands: sum((calls) => calls.reads + calls.writes) };
    },
    holds: async (itemKey) => (await client.send(new GetItemCommand({ TableName: tableName, Key: { id: { S: itemKey } }, ConsistentRead: true }))).Item !== undefined,
    dump: async () => JSON.stringify((await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }))).Items),
  };
}

/** A Redis connection for one store, and how to end it: `connectRedis`'s (node-redis), or an app's own ioredis. */
type RedisClientFor = (url: string, waitForConnection: boolean) => Promise<{ redis: RedisCommander; close(): Promise<void> }>;

const nodeRedis: RedisClientFor = async (url, waitForConnection) => {
  const redis = connectRedis({ url });
  const opened = redis.open();
  if (waitForConnection) await opened;
  return { redis, close: () => redis.close() };
};

/** ioredis as its README makes a client, but with no offline queue (what Kura's docs ask of an app on ioredis). */
const ioredis: RedisClientFor = async (url, waitForConnection) => {
  const client = new Redis(url, { enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => 100 });
  const connected = client.connect();
  if (waitForConnection) await connected;
  else connected.catch(() => undefined);
  return { redis: fromIoredis(client), close: async () => client.disconnect() };
};

/**
 * KuraStore on its own `redis-server` through `RedisConnectSessionStore` (`adapter`), each store with its own
 * connection (node-redis through `connectRedis`, or ioredis through `fromIoredis`); commands counted at the server
 * (`INFO commandstats`), faults injected by a TCP proxy.
 */
export function redisStorage(client: 'node-redis' | 'ioredis' = 'node-redis', flavour: RedisFlavour = 'redis'): ConnectStorage {
  let server: RedisServer;
  let proxy: TcpFaultProxy;
  let counter: Awaited<ReturnType<typeof redisCommandCounter>>;
  let inspector: ReturnType<typeof connectRedis>;
  const connect = client === 'ioredis' ? ioredis : nodeRedis;
  const store = async (url: string, commandTimeoutMs: number, { waitForConnection = true } = {}): Promise<StoreOptionsHandle> => {
    const { redis, close } = await connect(url, waitForConnection);
    return { options: { adapter: new RedisConnectSessionStore(redis, { commandTimeoutMs }) }, close };
  };
  return {
    name: `${FLAVOUR_NAMES[flavour]}${client === 'ioredis' ? ' through ioredis' : ''}`,
    freedAtExpiry: true,
    setUp: async () => {
      server = await startRedisServer({ flavour });
      proxy = await startTcpFaultProxy(server.port);
      counter = await redisCommandCounter(server.url);
      inspector = connectRedis({ url: server.url });
      await inspector.open();
    },
    tearDown: async () => {
      await Promise.all([inspector?.close(), counter?.close(), proxy?.close()]);
      await server?.stop();
    },
    healthy: () => store(server.url, 5000),
    faulty: () => store(`redis://127.0.0.1:${proxy.port}`, FAILING_MS),
    refused: async () => store(`redis://127.0.0.1:${await freePort()}`, FAILING_MS, { waitForConnection: false }),
    stall: () => proxy.set('blackhole'),
    pass: () => proxy.set('pass'),
    holdWrites: () => proxy.holdWhen((chunk) => /EVALSHA|UNLINK/i.test(chunk.toString('latin1'))),
    resetCosts: async () => void (await counter.take()),
    costs: async () => {
      const { commands, byCommand } = await counter.take();
      const reads = byCommand.hgetall ?? 0;
      // Redis reads from the primary it is connected to: every read sees every acknowledged write.
      return { reads, writes: (byCommand.evalsha ?? 0) + (byCommand.eval ?? 0) + (byCommand.unlink ?? 0), consistentReads: reads, commands };
    },
    holds: async (itemKey) => Number(await inspector.sendCommand(['EXISTS', redisKeys().connect(itemKey)])) === 1,
    dump: async () => {
      const keys = (await inspector.sendCommand(['KEYS', '*'])) as string[];
      // Sessions are hashes; users' indexes (KuraStore's userOf) are sets.
      const contentOf = async (key: string) => inspector.sendCommand([(await inspector.sendCommand(['TYPE', key])) === 'set' ? 'SMEMBERS' : 'HGETALL', key]);
      return JSON.stringify(await Promise.all(keys.map(async (key) => [key, await contentOf(key)])));
    },
  };
}

/**
 * Runs `suite` on DynamoDB Local, on Redis through each client, and on Valkey (where `redis-server` and
 * `valkey-server` are installed; else says why it skips).
 */
export function onEveryStorage(label: string, suite: (storage: ConnectStorage) => void): void {
  suite(dynamoDbStorage(label));
  if (redisRunsPossible('KuraStore on Redis')) {
    suite(redisStorage());
    suite(redisStorage('ioredis'));
  }
  if (redisRunsPossible('KuraStore on Valkey', 'valkey')) suite(redisStorage('node-redis', 'valkey'));
}
