import type { Socket } from 'node:net';
import { statusTitle } from '@kura/common';
import type { Problem } from './problem-details.js';
import { answerSecurityHeaders } from './security-headers.js';

/** The headers every answer carries, as header lines (no HSTS: this answer does not know whether Kura is behind TLS). */
const SECURITY_LINES = Object.entries(answerSecurityHeaders(false)).map(([name, value]) => `${name}: ${value}\r\n`).join('');

/**
 * Requests Node's HTTP parser refuses before any route sees them (headers over the limit, not HTTP at all, too
 * slow to arrive), answered on the socket as every other error: an RFC 9457 problem, `about:blank` as for the
 * framework's other errors, instead of Fastify's own `{"error":…,"statusCode":…}` in `application/json`. Then
 * the connection is closed, as Node and Fastify do: what follows on it cannot be parsed.
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
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
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\n${SECURITY_LINES}Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
