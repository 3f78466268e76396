import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { ClientInfo } from '@kura/session';
import type { FastifyRequest } from 'fastify';

/** Who is calling: user agent and address (behind a proxy, as `KURA_TRUST_PROXY` allows). */
export const Client = createParamDecorator((_: unknown, context: ExecutionContext): ClientInfo => {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  const userAgent = request.headers['user-agent'];
  return { ...(userAgent ? { userAgent } : {}), ip: request.ip };
});
