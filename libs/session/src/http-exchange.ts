import type { ServerResponse } from 'node:http';
import type { ArgumentsHost } from '@nestjs/common';
import { parseCookie, stringifySetCookie } from 'cookie';
import type { CookieSpec } from './session-transport.js';

/**
 * The one place that knows the HTTP platforms Nest runs on. Everything the session layer reads or writes goes
 * through Node's own request and response, which both platforms expose: Express's `req`/`res` are Node's
 * `IncomingMessage`/`ServerResponse`; Fastify's request has `headers` and its reply keeps Node's response in
 * `raw`. So no cookie plugin (`@fastify/cookie`, `cookie-parser`) is needed, and cookies already parsed by
 * one are used as they are.
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

/** The parts of a request the session layer reads: headers, and cookies if a plugin already parsed them. */
export interface HttpRequestLike {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly cookies?: Readonly<Record<string, string | undefined>> | null;
}

/** Node's response, the Express response (which is one), or a Fastify reply (which keeps one in `raw`). */
export type HttpResponseLike = Pick<ServerResponse, 'appendHeader' | 'setHeader'> | { readonly raw: Pick<ServerResponse, 'appendHeader' | 'setHeader'> };

/** The request's cookies: as a cookie plugin parsed them, or else straight from the `Cookie` header. */
export function requestCookies(request: HttpRequestLike): Readonly<Record<string, string | undefined>> {
  if (request.cookies && typeof request.cookies === 'object') return request.cookies;
  const header = request.headers.cookie;
  const text = Array.isArray(header) ? header.join('; ') : header;
  return text ? parseCookie(text) : {};
}

/** Sets a response header (replacing any earlier value of it). */
export function setResponseHeader(response: HttpResponseLike, name: string, value: string): void {
  nodeResponseOf(response).setHeader(name, value);
}

/** Adds a `Set-Cookie` header; earlier cookies of the same response stay. `maxAge` is in seconds. */
export function appendCookie(response: HttpResponseLike, cookie: CookieSpec): void {
  nodeResponseOf(response).appendHeader('set-cookie', serialiseCookie(cookie));
}

/** The `Set-Cookie` value: `name=value; Max-Age=<s>; Path=/; HttpOnly; [Secure; ]SameSite=Lax|Strict`, no Domain. */
export function serialiseCookie(cookie: CookieSpec): string {
  const { httpOnly, secure, sameSite, path, maxAge } = cookie.options;
  return stringifySetCookie({ name: cookie.name, value: cookie.value, maxAge, path, httpOnly, secure, sameSite });
}

function nodeResponseOf(response: HttpResponseLike): Pick<ServerResponse, 'appendHeader' | 'setHeader'> {
  return 'raw' in response ? response.raw : response;
}
