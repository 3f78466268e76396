import { type DynamicModule, Module } from '@nestjs/common';
import { AccountsModule } from '@kura/accounts';
import { APP_GUARD } from '@nestjs/core';
import { CrossSiteRequestGuard, type SessionEvent, SessionModule } from '@kura/session';
import { AuthModule } from './auth/auth.module.js';
import type { AppConfig } from './config/app-config.js';
import { HealthModule } from './health/health.module.js';
import { SessionDataModule } from './session-data/session-data.module.js';
import { KURA_STORES, type KuraStores, StorageModule } from './storage/storage.module.js';

/** Composition root: which stores, which session rules, which routes. */
@Module({})
export class AppModule {
  static forConfig(config: AppConfig, sessionEvents?: (event: SessionEvent) => void): DynamicModule {
    return {
      module: AppModule,
      imports: [
        StorageModule.forConfig(config.store),
        SessionModule.forRootAsync({
          inject: [KURA_STORES],
          useFactory: (stores: KuraStores) => ({
            store: stores.sessions,
            dataStore: stores.sessionData,
            dataMaxBytes: config.session.dataMaxBytes,
            trustedOrigins: [...config.session.trustedOrigins],
            ...(config.session.cache ? { cache: { ttlSeconds: config.session.cache.ttlSeconds, keys: [...config.session.cache.keys] } } : {}),
            idleTimeoutSeconds: config.session.idleTimeoutSeconds,
            absoluteTimeoutSeconds: config.session.absoluteTimeoutSeconds,
            reauthenticationWindowSeconds: config.session.reauthenticationWindowSeconds,
            ...(config.session.maxSessionsPerUser ? { maxSessionsPerUser: config.session.maxSessionsPerUser } : {}),
            ...(sessionEvents ? { events: sessionEvents } : {}),
            ...(config.session.refreshIntervalSeconds ? { refreshIntervalSeconds: config.session.refreshIntervalSeconds } : {}),
            cookie: {
              secure: config.session.cookieSecure,
              ...(config.session.cookieName ? { name: config.session.cookieName } : {}),
            },
          }),
        }),
        AccountsModule.forRootAsync({
          inject: [KURA_STORES],
          useFactory: (stores: KuraStores) => ({
            store: stores.users,
            passwordHashing: { log2Cost: config.passwordHashCost, maxConcurrent: config.passwordHashConcurrency },
            passwordPolicy: { serviceWords: config.passwordServiceWords },
            loginThrottle: { store: stores.loginAttempts, ...config.loginThrottle },
          }),
        }),
        AuthModule.forConfig({ enabled: config.log.auditLog, json: config.log.json }),
        SessionDataModule,
        HealthModule,
      ],
      providers: [{ provide: APP_GUARD, useExisting: CrossSiteRequestGuard }],
    };
  }
}
