import { type DynamicModule, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { InMemoryLoginAttemptStore, InMemoryUserStore, type LoginAttemptStore, type UserStore } from '@kura/accounts';
import {
  createDynamoDbClients,
  DynamoDbCallLog,
  DynamoDbLoginAttemptStore,
  DynamoDbSessionDataStore,
  DynamoDbSessionStore,
  DynamoDbUserStore,
} from '@kura/dynamodb';
import { InMemorySessionStore, type SessionDataStore, type SessionStore } from '@kura/session';
import type { AppConfig } from '../config/app-config.js';

export const KURA_STORES = Symbol('kura:stores');

/** The stores the app runs on, chosen by configuration. */
export interface KuraStores {
  readonly sessions: SessionStore;
  readonly sessionData: SessionDataStore;
  readonly users: UserStore;
  readonly loginAttempts: LoginAttemptStore;
  /** Every DynamoDB call made through these stores (absent for the memory store). */
  readonly calls: DynamoDbCallLog | undefined;
  close(): void;
}

export function createStores(config: AppConfig['store']): KuraStores {
  if (config.kind === 'memory') {
    const sessions = new InMemorySessionStore();
    return {
      sessions,
      sessionData: sessions,
      users: new InMemoryUserStore(),
      loginAttempts: new InMemoryLoginAttemptStore(),
      calls: undefined,
      close() {},
    };
  }
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
    sessions: new DynamoDbSessionStore(documents, {
      tableName: config.tables.sessions,
      consistentRead: config.consistentReads,
    }),
    sessionData: new DynamoDbSessionDataStore(documents, config.tables.sessions),
    users: new DynamoDbUserStore(documents, config.tables.users),
    loginAttempts: new DynamoDbLoginAttemptStore(documents, config.tables.sessions),
    calls,
    close: () => client.destroy(),
  };
}

/** Which store, where, and which tables, for the log line at start. */
export function describeStore(config: AppConfig['store']): string {
  if (config.kind === 'memory') return 'session store: memory, in this process only';
  const where = config.endpoint ? `DynamoDB at ${config.endpoint} (region ${config.region})` : `AWS DynamoDB in ${config.region}`;
  return `session store: ${where}, tables ${config.tables.sessions} and ${config.tables.users}`;
}

/** Provides {@link KURA_STORES} and closes its connections on shutdown. */
@Module({})
export class StorageModule implements OnApplicationShutdown {
  constructor(@Inject(KURA_STORES) private readonly stores: KuraStores) {}

  static forConfig(config: AppConfig['store']): DynamicModule {
    return {
      module: StorageModule,
      global: true,
      providers: [{ provide: KURA_STORES, useFactory: () => createStores(config) }],
      exports: [KURA_STORES],
    };
  }

  onApplicationShutdown(): void {
    this.stores.close();
  }
}
