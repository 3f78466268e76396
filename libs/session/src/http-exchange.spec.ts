import { ServerResponse, IncomingMessage } from 'node:http';
import Fastify, { type FastifyReply } from 'fastify';
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
  ["an object that only carries Node's response in `raw`", (response: ServerResponse) => ({ raw: response })],
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

describe('writing to a Fastify reply (a real Fastify app, through inject)', () => {
  /** The headers of one response whose handler runs `write` on the reply. */
  async function answered(write: (reply: FastifyReply) => void) {
    const app = Fastify();
    app.get('/', (_request, reply) => {
      write(reply);
      return reply.send({});
    });
    const { headers } = await app.inject('/');
    await app.close();
    return headers;
  }
  const [a, b] = [serialiseCookie(cookie('a', 1)), serialiseCookie(cookie('b', 2))];

  it("keeps the app's cookies set through the reply before and after Kura's (Fastify sends only its own list)", async () => {
    const headers = await answered((reply) => {
      reply.header('set-cookie', 'theme=dark');
      appendCookie(reply, cookie('a', 1));
      reply.header('set-cookie', 'seen=1');
    });

    expect(headers['set-cookie']).toEqual(['theme=dark', a, 'seen=1']);
  });

  it("keeps a cookie set on Node's response before Kura's (a Nest middleware sees only Node's response)", async () => {
    const headers = await answered((reply) => {
      reply.raw.setHeader('set-cookie', 'from-middleware=1');
      appendCookie(reply, cookie('a', 1));
      appendCookie(reply, cookie('b', 2));
      reply.header('set-cookie', 'seen=1');
    });

    expect(headers['set-cookie']).toEqual(['from-middleware=1', a, b, 'seen=1']);
  });

  it('sets a header through the reply, so a later value the app sets through it wins, as on any Fastify header', async () => {
    const kept = await answered((reply) => setResponseHeader(reply, 'cache-control', 'no-store'));
    const replaced = await answered((reply) => {
      setResponseHeader(reply, 'cache-control', 'no-store');
      reply.header('cache-control', 'private');
    });

    expect(kept['cache-control']).toBe('no-store');
    expect(replaced['cache-control']).toBe('private');
  });
});
