import { createRequire } from 'node:module';
import { applyChanges, changesBetween, cookieSettingsOf, cookieText, documentBytes, fromDocument, keysKeepingCookie, liveCookieOf, sameCookieSettings, toDocument } from './session-document.js';

const json = (entries: Record<string, unknown>) => new Map(Object.entries(entries).map(([key, value]) => [key, JSON.stringify(value)]));

describe('toDocument and fromDocument', () => {
  it('keeps each top-level key as JSON and the cookie apart', () => {
    const session = { cookie: { path: '/', expires: new Date(0) }, user: { id: 7 }, cart: [1, 2] };

    const sut = toDocument(session, new Set());

    expect(sut).toEqual({ data: json({ user: { id: 7 }, cart: [1, 2] }), cookie: '{"path":"/","expires":"1970-01-01T00:00:00.000Z"}' });
    expect(fromDocument(sut)).toEqual({ user: { id: 7 }, cart: [1, 2], cookie: { path: '/', expires: '1970-01-01T00:00:00.000Z' } });
  });

  it('leaves out what JSON would leave out, and the keys it is told to skip', () => {
    const session = { kept: null, gone: undefined, method: () => 1, hidden: { toJSON: () => undefined }, marker: 'x' };

    expect(toDocument(session, new Set(['marker'])).data).toEqual(json({ kept: null }));
  });

  it('reads a key __proto__ back as data, never as the prototype', () => {
    const sut = fromDocument({ data: new Map([['__proto__', '{"polluted":true}']]), cookie: undefined });

    expect(Object.getPrototypeOf(sut)).toBe(Object.prototype);
    expect(Object.keys(sut)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('leaves a key __proto__ as changeable as any other key: a request may set it again, or delete it', () => {
    const sut = fromDocument({ data: new Map([['__proto__', '1']]), cookie: undefined });

    sut['__proto__'] = 2; // its own data property, not the prototype's setter (and no TypeError in strict mode)
    expect(Object.getOwnPropertyDescriptor(sut, '__proto__')?.value).toBe(2);
    expect(Object.getPrototypeOf(sut)).toBe(Object.prototype);
    delete sut['__proto__'];
    expect(Object.keys(sut)).toEqual([]);
  });
});

describe('changesBetween (the merge rule)', () => {
  it.each([
    ['nothing changed', { a: 1, b: { c: 2 } }, { a: 1, b: { c: 2 } }, {}, []],
    ['a key added', { a: 1 }, { a: 1, b: 2 }, { b: 2 }, []],
    ['a key changed deep inside', { a: { b: [1] } }, { a: { b: [1, 2] } }, { a: { b: [1, 2] } }, []],
    ['a key deleted', { a: 1, b: 2 }, { a: 1 }, {}, ['b']],
    ['a key set to null (kept, as null)', { a: 1 }, { a: null }, { a: null }, []],
    ['everything, from a session read empty', {}, { a: 1, b: 2 }, { a: 1, b: 2 }, []],
  ])('with %s', (_case, read, current, set, remove) => {
    expect(changesBetween(json(read), json(current))).toEqual({ set: json(set), remove });
  });

  it('gives what the request knows after its change when applied to what it read', () => {
    const read = json({ a: 1, b: 2, c: 3 });
    const current = json({ a: 1, b: 20, d: 4 });

    expect(applyChanges(read, changesBetween(read, current))).toEqual(current);
  });
});

/** express-session's own Cookie class, as its Session holds it. */
const { Cookie: ExpressCookie } = createRequire(import.meta.url)('express-session') as {
  Cookie: new (options: object) => { maxAge: number; sameSite: string; toJSON(): object };
};

describe('sameCookieSettings', () => {
  const fields = (extra: Record<string, unknown>) => ({ path: '/', httpOnly: true, originalMaxAge: 60_000, ...extra });
  /** As read: the settings of the stored JSON text. */
  const read = (extra: Record<string, unknown> = {}) => cookieSettingsOf(JSON.parse(JSON.stringify(fields(extra))));
  const same = (a: unknown, b: unknown) => sameCookieSettings(cookieSettingsOf(a), cookieSettingsOf(b));

  it('ignores the expiry, which moves on every request', () => {
    expect(sameCookieSettings(read({ expires: '2026-01-01T00:00:00.000Z' }), read({ expires: '2026-01-01T00:01:00.000Z', originalExpires: 'x' }))).toBe(true);
  });

  it.each([
    ['a new maxAge', read({ originalMaxAge: 120_000 })],
    ['another path', read({ path: '/app' })],
    ['a field added', read({ domain: 'example.com' })],
    ['a field removed', cookieSettingsOf({ path: '/', originalMaxAge: 60_000 })],
    ['no cookie', undefined],
  ])('sees %s', (_case, other) => {
    expect(sameCookieSettings(read(), other)).toBe(false);
    expect(sameCookieSettings(other, read())).toBe(false);
  });

  it('ignores the millisecond drift of originalMaxAge that express-session makes when it resets the expiry', () => {
    expect(sameCookieSettings(read({ originalMaxAge: 1_800_000 }), read({ originalMaxAge: 1_799_999 }))).toBe(true);
    expect(sameCookieSettings(read({ originalMaxAge: 1_800_000 }), read({ originalMaxAge: 1_799_000 }))).toBe(false);
    expect(sameCookieSettings(read({ originalMaxAge: null }), read({ originalMaxAge: 1_800_000 }))).toBe(false);
  });

  it('does not care about field order', () => {
    expect(same({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
  });

  it('compares as JSON: a field JSON leaves out is absent, a Date is its ISO text', () => {
    expect(same({ path: '/', domain: undefined }, { path: '/' })).toBe(true);
    expect(same({ at: new Date(0) }, { at: '1970-01-01T00:00:00.000Z' })).toBe(true);
    expect(same({ nested: { a: 1 } }, { nested: { a: 1 } })).toBe(true);
    expect(same({ nested: { a: 1 } }, { nested: { a: 2 } })).toBe(false);
    expect(same('text', 'text')).toBe(true);
    expect(same('text', { path: '/' })).toBe(false);
  });

  it("finds express-session's live Cookie the same as its stored JSON, whatever its expiry", () => {
    const cookie = new ExpressCookie({ path: '/', httpOnly: true, sameSite: 'lax', maxAge: 1_800_000 });
    const stored = cookieSettingsOf(JSON.parse(JSON.stringify(cookie)));
    cookie.maxAge = 1_800_000; // what express-session's touch does: a new expiry

    expect(sameCookieSettings(stored, cookieSettingsOf(liveCookieOf({ cookie })))).toBe(true);
    cookie.sameSite = 'strict';
    expect(sameCookieSettings(stored, cookieSettingsOf(liveCookieOf({ cookie })))).toBe(false);
  });

  it('keeps a copy: changing the cookie later does not change its settings', () => {
    const cookie = fields({});
    const settings = cookieSettingsOf(cookie);
    cookie.path = '/elsewhere';

    expect(settings?.path).toBe('/');
  });
});

describe('documentBytes', () => {
  it('counts names and values in UTF-8', () => {
    expect(documentBytes({ data: new Map([['é', '"日"']]), cookie: undefined })).toBe(2 + 5);
  });
});

describe('liveCookieOf and cookieText', () => {
  const inherited = Object.create({ cookie: { path: '/' } }) as object;
  it.each([
    ['a cookie', { user: 'ada', cookie: { path: '/', expires: new Date(0) } }],
    ['no cookie', { user: 'ada' }],
    ['a cookie with no JSON form', { cookie: undefined }],
    ['an inherited cookie only', inherited],
  ])('gives the cookie exactly as toDocument does, for a session with %s', (_case, session) => {
    expect(cookieText(liveCookieOf(session))).toEqual(toDocument(session, new Set()).cookie);
  });
});

describe('keysKeepingCookie', () => {
  const changes = { set: new Map([['cart', '[1]']]), remove: ['old'] };

  it("writes the keys and keeps the cookie as read, only where the settings read are still stored", () => {
    expect(keysKeepingCookie({ cookie: '{"path":"/"}', expiresAtMs: 5, cookieSettings: 'f' }, changes)).toEqual({
      ...changes,
      cookie: '{"path":"/"}',
      expiresAtMs: 5,
      cookieSettings: 'f',
      cookieSettingsRead: 'f',
    });
  });

  it('writes the cookie as read unconditionally for a session stored without settings (before they were kept)', () => {
    const sut = keysKeepingCookie({ cookie: '{"path":"/"}', expiresAtMs: 5 }, changes);

    expect(sut).toEqual({ ...changes, cookie: '{"path":"/"}', expiresAtMs: 5 });
    expect(sut).not.toHaveProperty('cookieSettingsRead');
  });
});
