import type { ServerResponse } from 'node:http';
import type { ArgumentsHost } from '@nestjs/common';
import { parseCookie, stringifySetCookie } from 'cookie';
import type { CookieSpec } from './session-transport.js';

/**
 * The one place that knows the HTTP platforms Nest runs on. Everything the session layer reads goes
 * through Node's own request, which both platforms expose: Express's `req` is Node's `IncomingMessage`, and
 * Fastify's request has its `headers`. What it writes goes on Express's response (Node's `ServerResponse`) or
 * through Fastify's reply, where Fastify merges it with what the app sets. So no cookie plugin (`@fastify/cookie`,
 * `cookie-parser`) is needed, and cookies already parsed by one are used as they are.
 */

/**
 * The request and the response of an HTTP context, by position (Nest's documented order for HTTP: request,
 * response, next). Not `switchToHttp()`: it assigns three new closures to the context on every call, and the
 * guards and the session parameter run on every authenticated request.
 */
export function httpRequestOf<Request>(context: ArgumentsHost): Request {
  return context.getArgByIndex<Request>(0);
}

export function httpResponseOf<Response>(context: ArgumentsHost): Response {
  return context.getArgByIndex<Response>(1);
}

/**
 * The parts of a request the session layer reads: headers, and cookies if a plugin already parsed them. A plugin's
 * values are not always text: cookie-parser (Express) turns a value that starts with `j:` into the JSON after it,
 * an array or an object, whatever the client sent.
 */
export interface HttpRequestLike {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly cookies?: Readonly<Record<string, unknown>> | null;
}

/** What the session layer needs of Node's response. */
type NodeResponseLike = Pick<ServerResponse, 'appendHeader' | 'setHeader' | 'getHeader' | 'removeHeader'>;

/**
 * Node's response, the Express response (which is one), or a Fastify reply (which keeps one in `raw`, and has
 * headers of its own, `header()`).
 */
export type HttpResponseLike = NodeResponseLike | { readonly raw: NodeResponseLike; header?(name: string, value: string | string[]): unknown };

/**
 * The request's cookies: as a cookie plugin parsed them (values it made into something else than text included:
 * see `HttpRequestLike`), or else straight from the `Cookie` header.
 */
export function requestCookies(request: HttpRequestLike): Readonly<Record<string, unknown>> {
  if (request.cookies && typeof request.cookies === 'object') return request.cookies;
  const header = request.headers.cookie;
  const text = Array.isArray(header) ? header.join('; ') : header;
  return text ? parseCookie(text) : {};
}

/**
 * Sets a response header (replacing any earlier value of it). On Fastify it goes through the reply's own headers,
 * as everything else the app sets there does: Fastify writes those over the same headers of Node's response when
 * it sends, so a header set on `raw` would lose to any the app set through the reply.
 */
export function setResponseHeader(response: HttpResponseLike, name: string, value: string): void {
  if (isFastifyReply(response)) response.header(name, value);
  else nodeResponseOf(response).setHeader(name, value);
}

/**
 * Adds a `Set-Cookie` header; cookies the app set before it stay, and so do those it sets after it through its
 * platform (Express's `res.cookie`; Fastify's `reply.header('set-cookie', ...)` or @fastify/cookie). On Fastify,
 * a cookie set on Node's response would be dropped at send by any the app set through the reply, so the cookie
 * goes into the reply's own list, with any that something else (a Nest middleware, on Node's response) put on
 * Node's response before it.
 */
export function appendCookie(response: HttpResponseLike, cookie: CookieSpec): void {
  const text = serialiseCookie(cookie);
  if (!isFastifyReply(response)) {
    nodeResponseOf(response).appendHeader('set-cookie', text);
    return;
  }
  const onNode = response.raw.getHeader('set-cookie');
  if (onNode !== undefined) {
    response.raw.removeHeader('set-cookie');
    response.header('set-cookie', Array.isArray(onNode) ? onNode : [String(onNode)]);
  }
  response.header('set-cookie', text);
}

/** The `Set-Cookie` value: `name=value; Max-Age=<s>; Path=/; HttpOnly; [Secure; ]SameSite=Lax|Strict`, no Domain. */
export function serialiseCookie(cookie: CookieSpec): string {
  const { httpOnly, secure, sameSite, path, maxAge } = cookie.options;
  return stringifySetCookie({ name: cookie.name, value: cookie.value, maxAge, path, httpOnly, secure, sameSite });
}

function nodeResponseOf(response: HttpResponseLike): NodeResponseLike {
  return 'raw' in response ? response.raw : response;
}

/** A Fastify reply: Node's response in `raw`, and headers of its own that Fastify writes over `raw`'s at send. */
function isFastifyReply(response: HttpResponseLike): response is { readonly raw: NodeResponseLike; header(name: string, value: string | string[]): unknown } {
  return 'raw' in response && typeof response.header === 'function';
}
