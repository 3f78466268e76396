import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { addressOf } from '@kura/common';
import type { FastifyRequest } from 'fastify';
import type { AuditRequest } from '../observability/audit-log.js';

/**
 * The request as the audit log names it: its id (answered as `X-Request-Id`) and the client's address, when it is
 * one (`addressOf`, as a session keeps it): a forwarded value of a client's own making, quoted in the line, still
 * read as fields to a grep (`ip="1.2.3.4 action=logout userId=…"` in a login.failed line).
 */
export const Audited = createParamDecorator((_: unknown, context: ExecutionContext): AuditRequest => {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  return { id: request.id, ip: addressOf(request.ip) };
});
