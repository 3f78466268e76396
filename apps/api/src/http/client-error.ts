import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { statusTitle } from '@kura/common';
import type { ResponseObserver } from '../observability/request-log.js';
import type { Problem } from './problem-details.js';
import { answerSecurityHeaders } from './security-headers.js';

/** The headers every answer carries, as header lines (no HSTS: this answer does not know whether Kura is behind TLS). */
const SECURITY_LINES = Object.entries(answerSecurityHeaders(false)).map(([name, value]) => `${name}: ${value}\r\n`).join('');

/**
 * Requests Node's HTTP parser refuses before any route sees them (headers over the limit, not HTTP at all, too
 * slow to arrive), answered on the socket as every other error: an RFC 9457 problem, `about:blank` as for the
 * framework's other errors, instead of Fastify's own `{"error":…,"statusCode":…}` in `application/json`, with a
 * request id of its own and this copy's instance header, and told to the access log and the metrics (method and
 * route `(not parsed)`), which no Fastify hook reaches. Then the connection is closed, as Node and Fastify do: what
 * follows on it cannot be parsed.
 *
 * Not told where Fastify holds a request on the socket (a body that did not arrive in time, a request pipelined
 * before the refused one): its own line says that request's end, and a second line for it was counted twice (a
 * review, 2026-12-07). Nor is a method guessed from the bytes Node read: they are the last chunk, not the request's
 * start, and a client chose the label.
 */
export function clientErrorHandler(instance: { header: string; id: string }, observe: ResponseObserver | undefined) {
  return (error: Error & { code?: string }, socket: Socket & { _httpMessage?: unknown }): void => {
    // A reset connection is already gone; there is no one to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, detail] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'The request headers are too large.']
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'The request did not arrive in time.']
          : [400, 'The request is not valid HTTP.'];
    const title = statusTitle(status);
    const problem: Problem = { type: 'about:blank', title, status, detail };
    const body = JSON.stringify(problem);
    const id = randomUUID();
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\n${SECURITY_LINES}X-Request-Id: ${id}\r\n${instance.header}: ${instance.id}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    // Node's own response to a request it handed on (`_httpMessage`, as Node's default handler reads it).
    const handedOn = socket._httpMessage !== undefined && socket._httpMessage !== null;
    socket.destroy(error);
    if (!handedOn) observe?.({ id, method: '(not parsed)', route: '(not parsed)', status, seconds: undefined });
  };
}
