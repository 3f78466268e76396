import { ServerResponse, IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { appendCookie, requestCookies, serialiseCookie, setResponseHeader } from './http-exchange.js';
import type { CookieSpec } from './session-transport.js';

const cookie = (name: string, maxAge: number, sameSite: 'lax' | 'strict' = 'lax', secure = true): CookieSpec => ({
  name,
  value: 'v',
  options: { httpOnly: true, secure, sameSite, path: '/', maxAge },
});
const nodeResponse = () => new ServerResponse(new IncomingMessage(new Socket()));

describe('requestCookies', () => {
  it('uses cookies a plugin already parsed', () => {
    expect(requestCookies({ headers: { cookie: 'a=header' }, cookies: { a: 'plugin' } })).toEqual({ a: 'plugin' });
  });

  it('parses the Cookie header when no plugin ran (Express without cookie-parser, Fastify without @fastify/cookie)', () => {
    expect(requestCookies({ headers: { cookie: 'a=1; kura_session=abc%2Fdef' } })).toEqual({ a: '1', kura_session: 'abc/def' });
  });

  it.each([[{}], [{ cookie: '' }]])('reads no cookies from headers %p', (headers) => {
    expect(requestCookies({ headers })).toEqual({});
  });
});

describe('serialiseCookie', () => {
  it('writes every attribute Kura sets, Max-Age in seconds, and no Domain (host-only)', () => {
    expect(serialiseCookie(cookie('__Host-kura_session', 1800))).toBe('__Host-kura_session=v; Max-Age=1800; Path=/; HttpOnly; Secure; SameSite=Lax');
  });

  it('writes SameSite=Strict and leaves Secure out when asked', () => {
    expect(serialiseCookie(cookie('kura_session', 0, 'strict', false))).toBe('kura_session=v; Max-Age=0; Path=/; HttpOnly; SameSite=Strict');
  });
});

describe.each([
  ['a Node or Express response', (response: ServerResponse) => response],
  ['a Fastify reply', (response: ServerResponse) => ({ raw: response })],
])('writing to %s', (_, wrap) => {
  it('appends one Set-Cookie header per cookie', () => {
    const response = nodeResponse();

    appendCookie(wrap(response), cookie('a', 1));
    appendCookie(wrap(response), cookie('b', 2));

    expect(response.getHeader('set-cookie')).toEqual([serialiseCookie(cookie('a', 1)), serialiseCookie(cookie('b', 2))]);
  });

  it('sets a header, replacing an earlier value', () => {
    const response = nodeResponse();

    setResponseHeader(wrap(response), 'cache-control', 'private');
    setResponseHeader(wrap(response), 'cache-control', 'no-store');

    expect(response.getHeader('cache-control')).toBe('no-store');
  });
});
