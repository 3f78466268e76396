import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { CrossSiteRequestGuard, SessionErrorFilter, SessionModule, type SessionStore } from '@kura/session';
import { AuthController } from './auth.controller.js';

@Module({})
export class AppModule {
  static register(store: SessionStore): DynamicModule {
    return {
      module: AppModule,
      imports: [SessionModule.forRoot({ store })],
      controllers: [AuthController],
      providers: [
        { provide: APP_FILTER, useClass: SessionErrorFilter },
        { provide: APP_GUARD, useClass: CrossSiteRequestGuard },
      ],
    };
  }
}
