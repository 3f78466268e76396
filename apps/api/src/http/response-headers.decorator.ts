import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

/** Sets headers on this request's response, without handing the controller the raw reply. */
export interface ResponseHeaderWriter {
  set(name: string, value: string): void;
}

export const ResponseHeaders = createParamDecorator((_: unknown, context: ExecutionContext): ResponseHeaderWriter => {
  const reply = context.switchToHttp().getResponse<FastifyReply>();
  return { set: (name, value) => void reply.header(name, value) };
});
