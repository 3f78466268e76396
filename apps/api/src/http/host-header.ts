import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';

/** The code of the error for a request whose Host header is missing or not one host (answered as Fastify's). */
export const MISSING_HOST = 'KURA_ERR_MISSING_HOST';
export const INVALID_HOST = 'KURA_ERR_INVALID_HOST';

/**
 * RFC 9110, section 7.2: `Host = uri-host [ ":" port ]`, where uri-host is an IP literal in brackets, or a reg-name
 * (an IPv4 address is one): unreserved characters, sub-delims and percent-encodings. It may be empty (a target with
 * no authority). Two Host header lines reach the hook joined (`joinDuplicateHeaders`) as `a, b`, and API Gateway
 * joins them as `a,b`: a comma, which the grammar allows (a sub-delim) but no DNS name or IP address holds, is
 * refused with the rest.
 */
const HOST = /^(?:\[[\w.:%~!$&'()*+;=-]+\]|[\w.~!$&'()*+;=%-]*)(?::\d*)?$/;

/**
 * An `onRequest` step for a server made with `requireHostHeader: false` and `joinDuplicateHeaders: true`. RFC 9112,
 * section 3.2: a server MUST answer 400 to an HTTP/1.1 request without Host, and to any request with more than one
 * Host line or a Host that is not a host. Node's own check answers the first with a bare 400 and no body before
 * Fastify sees the request (no problem document, none of the headers every answer carries), and lets the others
 * through, keeping the first of two Host lines: a proxy in front that reads the last one would name another host
 * than Kura sees (the origin check compares a browser's `Origin` with it). Each is answered 400 by `refuse`, as every
 * other error. HTTP/1.0 needs no Host, as Node has it; the Lambda's requests always carry one (Fastify's inject sets
 * it; API Gateway joins two into one, with a comma, and that is refused the same way).
 */
export function refuseWithoutHost(refuse: (request: FastifyRequest, reply: FastifyReply, error: Error) => void) {
  return (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const refusal = hostRefusal(request);
    if (refusal === undefined) return done();
    refuse(request, reply, refusal);
  };
}

/** The last Host that passed: clients name a server the same way request after request, and a comparison costs less. */
let lastHost = '\0';

/**
 * Why the request's Host is refused (above), or `undefined`. Also for what runs before Kura's own hooks (Nest runs
 * `@fastify/cors`'s first, which answers a preflight itself): a request refused here gets no CORS answer.
 */
export function hostRefusal(request: FastifyRequest): Error | undefined {
  const { host } = request.headers;
  if (host === lastHost) return undefined;
  if (host === undefined) {
    return request.raw.httpVersion !== '1.1' ? undefined : Object.assign(new Error('The request has no Host header'), { statusCode: 400, code: MISSING_HOST });
  }
  if (!HOST.test(host)) {
    return Object.assign(new Error('The request has two Host headers or one that names no host'), { statusCode: 400, code: INVALID_HOST });
  }
  lastHost = host;
  return undefined;
}
