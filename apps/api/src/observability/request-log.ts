import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { LoggerService } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The request id header: taken from the caller when well formed (a load balancer's trace id), echoed back. */
export const REQUEST_ID_HEADER = 'x-request-id';
const WELL_FORMED = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * The id of a request: the caller's `X-Request-Id` when it is harmless to log (8-128 characters of a safe
 * alphabet, so nobody can forge log lines through it), otherwise a new UUID.
 */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const given = headers[REQUEST_ID_HEADER];
  return isWellFormedRequestId(given) ? given : randomUUID();
}

/** Whether a caller's `X-Request-Id` is kept as the request's id (see `requestIdOf`). */
export function isWellFormedRequestId(given: unknown): given is string {
  return typeof given === 'string' && WELL_FORMED.test(given);
}

/** Told of every answered request, after its response: the access log, the metrics. */
export type ResponseObserver = (request: FastifyRequest, reply: FastifyReply) => void;

/**
 * One structured line per request, after the response: request id, method, the route's pattern (never the raw
 * URL, whose query string is the caller's to fill), status and duration. Headers, cookies and bodies are
 * never logged, so no token, password or cache signature can reach a log line. (The id goes back to the
 * client in the `X-Request-Id` header, set with Kura's other response headers in `createApp`.) `undefined` with
 * the access log off.
 */
export function requestLog(logger: LoggerService, options: { accessLog: boolean; json: boolean }): ResponseObserver | undefined {
  if (!options.accessLog) return undefined;
  return (request, reply) => {
    const line = {
      event: 'request',
      requestId: request.id,
      method: request.method,
      route: request.routeOptions.url ?? '(no route)',
      status: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 10) / 10,
    };
    // JSON for machines; one short line for a person at a terminal.
    logger.log(options.json ? line : `${line.method} ${line.route} ${line.status} ${line.durationMs} ms [${line.requestId}]`, 'Http');
  };
}
