import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { LoggerService } from '@nestjs/common';

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

/** An answered request, as the access log and the metrics see it. */
export interface Answered {
  readonly id: string;
  readonly method: string;
  /** The route's pattern (never the URL); `(no route)` for what no route took, `(not parsed)` for what Node's parser refused. */
  readonly route: string;
  readonly status: number;
  /** From the request's arrival to its answer; `undefined` where nobody timed it (a request Node's parser refused). */
  readonly seconds: number | undefined;
}

/** Told of every answered request, after its response: the access log, the metrics. */
export type ResponseObserver = (answered: Answered) => void;

/**
 * One structured line per request, after the response: request id, method, the route's pattern (never the raw
 * URL, whose query string is the caller's to fill), status and duration. Headers, cookies and bodies are
 * never logged, so no token, password or cache signature can reach a log line. (The id goes back to the
 * client in the `X-Request-Id` header, set with Kura's other response headers in `createApp`.) `undefined` with
 * the access log off.
 */
export function requestLog(logger: LoggerService, options: { accessLog: boolean; json: boolean }): ResponseObserver | undefined {
  if (!options.accessLog) return undefined;
  return ({ id, method, route, status, seconds }) => {
    const durationMs = seconds === undefined ? undefined : Math.round(seconds * 10_000) / 10;
    const line = { event: 'request', requestId: id, method, route, status, durationMs };
    // JSON for machines; one short line for a person at a terminal.
    logger.log(options.json ? line : `${method} ${route} ${status}${durationMs === undefined ? '' : ` ${durationMs} ms`} [${id}]`, 'Http');
  };
}
