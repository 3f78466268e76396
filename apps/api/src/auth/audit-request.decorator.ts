import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AuditRequest } from '../observability/audit-log.js';

/** The request as the audit log names it: its id (answered as `X-Request-Id`) and the client's address. */
export const Audited = createParamDecorator((_: unknown, context: ExecutionContext): AuditRequest => {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  return { id: request.id, ip: request.ip };
});
