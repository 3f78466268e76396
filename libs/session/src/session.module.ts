import { type DynamicModule, type InjectionToken, Module, type ModuleMetadata, type Provider } from '@nestjs/common';
import { CrossSiteRequestGuard } from './cross-site-request.guard.js';
import { SessionGuard } from './session.guard.js';
import { SESSION_SETTINGS, type SessionModuleOptions, type SessionSettings, resolveSessionSettings } from './session.options.js';
import { SessionService } from './session.service.js';
import { SessionDataService } from './session-data.service.js';
import { SessionCache } from './session-cache.js';
import { SESSION_STORE } from './session-store.port.js';
import { SessionTransport } from './session-transport.js';

export interface SessionModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  inject?: InjectionToken[];
  useFactory: (...args: any[]) => SessionModuleOptions | Promise<SessionModuleOptions>;
}

const shared: Provider[] = [
  SessionService,
  SessionDataService,
  SessionCache,
  SessionTransport,
  SessionGuard,
  CrossSiteRequestGuard,
  { provide: SESSION_STORE, inject: [SESSION_SETTINGS], useFactory: (settings: SessionSettings) => settings.store },
];
const exported = [SessionService, SessionDataService, SessionTransport, SessionGuard, CrossSiteRequestGuard, SESSION_STORE, SESSION_SETTINGS];

/**
 * Sessions for a Nest application: `SessionService`, `SessionTransport` and `SessionGuard`, available
 * everywhere (global). Options are checked once, when the module is created.
 */
@Module({})
export class SessionModule {
  static forRoot(options: SessionModuleOptions): DynamicModule {
    return {
      module: SessionModule,
      global: true,
      providers: [{ provide: SESSION_SETTINGS, useValue: resolveSessionSettings(options) }, ...shared],
      exports: exported,
    };
  }

  static forRootAsync(options: SessionModuleAsyncOptions): DynamicModule {
    return {
      module: SessionModule,
      global: true,
      imports: options.imports ?? [],
      providers: [
        {
          provide: SESSION_SETTINGS,
          inject: options.inject ?? [],
          useFactory: async (...args: unknown[]) => resolveSessionSettings(await options.useFactory(...args)),
        },
        ...shared,
      ],
      exports: exported,
    };
  }
}
