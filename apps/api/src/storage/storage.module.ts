import { type DynamicModule, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { InMemoryUserStore, type UserStore } from '@kura/accounts';
import { createDynamoDbClients, DynamoDbSessionStore, DynamoDbUserStore } from '@kura/dynamodb';
import { InMemorySessionStore, type SessionStore } from '@kura/session';
import type { AppConfig } from '../config/app-config.js';

export const KURA_STORES = Symbol('kura:stores');

/** The stores the app runs on, chosen by configuration. */
export interface KuraStores {
  readonly sessions: SessionStore;
  readonly users: UserStore;
  close(): void;
}

export function createStores(config: AppConfig['store']): KuraStores {
  if (config.kind === 'memory') {
    return { sessions: new InMemorySessionStore(), users: new InMemoryUserStore(), close() {} };
  }
  const { client, documents } = createDynamoDbClients({
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
    users: new DynamoDbUserStore(documents, config.tables.users),
    close: () => client.destroy(),
  };
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
