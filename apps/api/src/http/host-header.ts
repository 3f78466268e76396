import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';

/** The code of the error for an HTTP/1.1 request without a Host header (a client error, answered as Fastify's). */
export const MISSING_HOST = 'KURA_ERR_MISSING_HOST';

/**
 * An `onRequest` step for a server made with `requireHostHeader: false`: an HTTP/1.1 request without Host
 * (RFC 9112, section 3.2, requires one) is answered 400 by `refuse`, as every other error. Node's own check answers
 * it with a bare 400 and no body before Fastify sees the request, so no problem document and none of the headers
 * every answer carries (nosniff, the CSP). HTTP/1.0 needs no Host, as Node has it; the Lambda's requests always
 * carry one (Fastify's inject sets it).
 */
export function refuseWithoutHost(refuse: (request: FastifyRequest, reply: FastifyReply, error: Error) => void) {
  return (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    if (request.headers.host !== undefined || request.raw.httpVersion !== '1.1') return done();
    refuse(request, reply, Object.assign(new Error('The request has no Host header'), { statusCode: 400, code: MISSING_HOST }));
  };
}
