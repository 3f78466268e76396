import { type DynamicModule, Inject, Logger, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { StoreUnavailableError } from '@kura/common';
import { InMemoryLoginAttemptStore, InMemoryUserStore, type LoginAttemptStore, type UserStore } from '@kura/accounts';
import {
  createDynamoDbClients,
  DynamoDbCallLog,
  DynamoDbLoginAttemptStore,
  DynamoDbSessionDataStore,
  DynamoDbSessionStore,
  DynamoDbUserStore,
  KURA_SERVICE_WORDING,
} from '@kura/dynamodb';
import { InMemorySessionStore, type SessionDataStore, type SessionStore } from '@kura/session';
import type { RedisCommandLog } from '@kura/redis';
import type { AppConfig, RedisSettings } from '../config/app-config.js';

export const KURA_STORES = Symbol('kura:stores');

/** The stores the app runs on, chosen by configuration. */
export interface KuraStores {
  readonly sessions: SessionStore;
  readonly sessionData: SessionDataStore;
  readonly users: UserStore;
  readonly loginAttempts: LoginAttemptStore;
  /** Every DynamoDB call made through these stores (absent for the memory and Redis stores). */
  readonly calls: DynamoDbCallLog | undefined;
  /** Every Redis command these stores send (only for the Redis stores). */
  readonly redisCommands?: RedisCommandLog;
  /**
   * Resolves once the store can take commands (`true`), or after `withinMs` (`false`), whichever comes first
   * (for one-shot commands; the service never waits: it answers 503 until the store is there).
   */
  connected(withinMs: number): Promise<boolean>;
  close(): Promise<void> | void;
}

export async function createStores(config: AppConfig['store']): Promise<KuraStores> {
  if (config.kind === 'memory') {
    const sessions = new InMemorySessionStore();
    return {
      sessions,
      sessionData: sessions,
      users: new InMemoryUserStore(),
      loginAttempts: new InMemoryLoginAttemptStore(),
      calls: undefined,
      connected: async () => true,
      close() {},
    };
  }
  if (config.kind === 'redis') return redisStores(config.redis!);
  const calls = new DynamoDbCallLog();
  const { client, documents } = createDynamoDbClients({
    callLog: calls,
    region: config.region,
    endpoint: config.endpoint,
    timeoutMs: config.timeoutMs,
    maxAttempts: config.maxAttempts,
    credentials: config.credentials,
  });
  return {
    // Failure reasons name the service's own command and variables (`npm run db:init`, KURA_DYNAMODB_TIMEOUT_MS).
    sessions: new DynamoDbSessionStore(documents, {
      tableName: config.tables.sessions,
      consistentRead: config.consistentReads,
      wording: KURA_SERVICE_WORDING,
    }),
    sessionData: new DynamoDbSessionDataStore(documents, config.tables.sessions, { wording: KURA_SERVICE_WORDING }),
    users: new DynamoDbUserStore(documents, config.tables.users, { wording: KURA_SERVICE_WORDING }),
    loginAttempts: new DynamoDbLoginAttemptStore(documents, config.tables.sessions, { wording: KURA_SERVICE_WORDING }),
    calls,
    connected: async () => true,
    close: () => client.destroy(),
  };
}

/**
 * Everything in Redis, accounts included (keys without expiry; `ping` refuses an eviction policy that could
 * delete them). The connection opens in the background: until Redis answers, every route that needs it answers
 * 503 and readiness waits; once it answers, Kura serves without a restart.
 */
async function redisStores(settings: RedisSettings): Promise<KuraStores> {
  // Loaded only here: the Lambda bundle keeps Redis's client in a chunk of its own that DynamoDB users never load.
  const { connectRedis, RedisCommandLog, RedisLoginAttemptStore, RedisSessionDataStore, RedisSessionStore, RedisUserStore } = await import('@kura/redis');
  const { keyPrefix: _prefix, timeoutMs, tls: tlsFiles, ...topology } = settings;
  const redisCommands = new RedisCommandLog({ deadlineMs: timeoutMs });
  // Loaded with the Redis client, only on Redis: the Lambda artifact's cold path (DynamoDB) does not carry it.
  const tls = tlsFiles ? await (await import('./redis-tls-files.js')).readRedisTlsFiles(tlsFiles) : undefined;
  const redis = connectRedis({ ...topology, ...(tls ? { tls } : {}), commandTimeoutMs: timeoutMs, commandLog: redisCommands });
  const opened = redis.open();
  const options = { keyPrefix: settings.keyPrefix, commandTimeoutMs: settings.timeoutMs };
  return {
    sessions: new RedisSessionStore(redis, options),
    sessionData: new RedisSessionDataStore(redis, options),
    users: new RedisUserStore(redis, options),
    loginAttempts: new RedisLoginAttemptStore(redis, options),
    calls: undefined,
    redisCommands,
    connected: (withinMs) => Promise.race([opened.then(() => true), new Promise<boolean>((resolve) => setTimeout(resolve, withinMs, false).unref())]),
    close: () => redis.close(),
  };
}

/** Which store, where, and which tables, for the log line at start. */
export async function describeStore(config: AppConfig['store']): Promise<string> {
  if (config.kind === 'memory') return 'session store: memory, in this process only';
  if (config.kind === 'redis') {
    const { describeRedis } = await import('@kura/redis');
    const { tls: _files, ...where } = config.redis!;
    return `session store: ${describeRedis(where)}, keys ${where.keyPrefix}*`;
  }
  const where = config.endpoint ? `DynamoDB at ${config.endpoint} (region ${config.region})` : `AWS DynamoDB in ${config.region}`;
  return `session store: ${where}, tables ${config.tables.sessions} and ${config.tables.users}`;
}

/**
 * How long start-up waits for a store that connects (Redis) before serving anyway: long enough that a store
 * that is up is connected before the first request (and before a Lambda's first invocation), short enough that
 * a store that is down does not hold the process back (it serves 503s and is not ready until the store answers).
 */
const CONNECT_AT_START_MS = 2000;

/** Provides {@link KURA_STORES}, gives its connection a moment at start, and closes it on shutdown. */
@Module({})
export class StorageModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(KURA_STORES) private readonly stores: KuraStores) {}

  async onApplicationBootstrap(): Promise<void> {
    if (await this.stores.connected(CONNECT_AT_START_MS)) return;
    // Said once at start, so an operator who starts Kura by hand sees why before any probe or request asks.
    await this.stores.sessions.ping().catch((error: unknown) => {
      const reason = error instanceof StoreUnavailableError ? error.reason : String(error);
      new Logger('Store').warn(`the session store does not answer yet: ${reason}. Routes that need it answer 503 until it does.`);
    });
  }

  static forConfig(config: AppConfig['store']): DynamicModule {
    return {
      module: StorageModule,
      global: true,
      providers: [{ provide: KURA_STORES, useFactory: () => createStores(config) }],
      exports: [KURA_STORES],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stores.close();
  }
}
