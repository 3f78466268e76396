import { type DynamicModule, Module } from '@nestjs/common';
import { AUDIT_LOG_OPTIONS, AuditLog, type AuditLogOptions } from '../observability/audit-log.js';
import { AuthController } from './auth.controller.js';
import { SessionsController } from './sessions.controller.js';

/**
 * Register, login, me and logout over HTTP, each change audited (`AuditLog`). Sessions and accounts come from
 * their (global) modules.
 */
@Module({})
export class AuthModule {
  static forConfig(audit: AuditLogOptions): DynamicModule {
    return {
      module: AuthModule,
      controllers: [AuthController, SessionsController],
      providers: [AuditLog, { provide: AUDIT_LOG_OPTIONS, useValue: audit }],
    };
  }
}
