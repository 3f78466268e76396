import { ManualClock } from '@kura/common';
import { InMemorySessionStore } from './in-memory-session.store.js';
import { resolveSessionSettings } from './session.options.js';
import { SessionTransport } from './session-transport.js';

const clock = new ManualClock();
const token = 'T'.repeat(43);

describe('SessionTransport', () => {
  // Built per test, not at import: settings resolved while a spec file loads make every mutant of
  // session.options.ts "static" for Stryker (run against every test, and an error instead of a kill).
  let sut: SessionTransport;
  beforeEach(() => {
    sut = new SessionTransport(resolveSessionSettings({ store: new InMemorySessionStore(), clock }));
  });

  it('reads the session cookie', () => {
    expect(sut.read({ headers: {}, cookies: { '__Host-kura_session': token } })).toEqual({ token, kind: 'cookie', cache: undefined });
  });

  it('reads the session cookie from the Cookie header when no cookie plugin parsed it', () => {
    expect(sut.read({ headers: { cookie: `other=1; __Host-kura_session=${token}; __Host-kura_session_cache=c` } })).toEqual({
      token,
      kind: 'cookie',
      cache: 'c',
    });
  });

  // The security review of 2026-12-05: cookie-parser (Express; Nest's documentation sets it up) parses a value that
  // starts with `j:` as JSON, so a client sending `__Host-kura_session=j:["<43 characters>"]` handed the session layer
  // an array, which the token's pattern took (as its text) and hashing then threw on: every route reading the session,
  // and logout, answered 500 where any other value that is no token is a 401 (shown by hand: cookie-parser 1.4, Express 5).
  it.each([
    ['an array', [token]],
    ['an object', { token }],
    ['a number', 42],
  ])("takes a cookie a plugin parsed into %s (cookie-parser's `j:` JSON cookies) as no token, and no cache", (_, value) => {
    const read = sut.read({ headers: {}, cookies: { '__Host-kura_session': value, '__Host-kura_session_cache': value } });

    expect(read).toEqual({ token: undefined, kind: 'cookie', cache: undefined });
  });

  it.each(['Bearer', 'bearer', 'BEARER'])('prefers an Authorization %s header over the cookie', (scheme) => {
    const request = { headers: { authorization: `${scheme} ${token}` }, cookies: { '__Host-kura_session': 'other' } };

    expect(sut.read(request)).toEqual({ token, kind: 'bearer', cache: undefined });
  });

  it.each([['Bearer'], ['Bearer   '], ['Bearer a b']])('reads a malformed bearer header %p as a bad token, not as no header', (header) => {
    const read = sut.read({ headers: { authorization: header }, cookies: { '__Host-kura_session': token } });

    expect(read.kind).toBe('bearer');
    expect(read.token).not.toBe(token);
  });

  it('ignores other Authorization schemes and falls back to the cookie', () => {
    expect(sut.read({ headers: { authorization: 'Basic Zm9vOmJhcg==' }, cookies: {} })).toEqual({ token: undefined, kind: 'cookie', cache: undefined });
  });

  it('makes the cookie HttpOnly, Secure, SameSite=Lax, Path=/, lasting to the absolute expiry, not the idle one', () => {
    // A cookie lasting to the idle expiry must be renewed when use extends it, and a renewal arriving after a
    // login's answer put the ended session's cookie back (test/review-defects).
    const now = clock.now();
    const record = {
      id: 'x',
      user: { id: 'u', email: 'e@example.com', name: null },
      createdAt: now,
      lastSeenAt: now,
      idleExpiresAt: now + 600_000,
      absoluteExpiresAt: now + 3_600_000,
    };

    expect(sut.cookieFor(token, record)).toEqual({
      name: '__Host-kura_session',
      value: token,
      options: { httpOnly: true, secure: true, sameSite: 'lax', path: '/', maxAge: 3600 },
    });
  });

  it('clears the cookie with the same name and attributes and Max-Age=0', () => {
    expect(sut.expiredCookies()).toMatchObject([{ name: '__Host-kura_session', value: '', options: { maxAge: 0, path: '/' } }]);
  });
});
