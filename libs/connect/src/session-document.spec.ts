import { createRequire } from 'node:module';
import fc from 'fast-check';
import { applyChanges, changesBetween, cookieHasSettings, cookieSettingsOf, cookieText, documentBytes, fromDocument, keysKeepingCookie, liveCookieOf, sameCookieSettings, toDocument } from './session-document.js';

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

  it('names every key in well-formed Unicode, which UTF-8 carries, and reads each back as it was: lone surrogates, and the escape\'s own prefix', () => {
    const keys = ['k\ud83d', '\udc00', '__kura:"\\ud800"', '__kura:', 'plain', '\u{1F600}'];
    const session = Object.fromEntries(keys.map((key, index) => [key, index]));

    const sut = toDocument(session, new Set());

    expect([...sut.data.keys()].every((name) => name.isWellFormed())).toBe(true);
    expect(sut.data.get('plain')).toBe('4');
    expect(fromDocument(sut)).toEqual(session);
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

describe('cookieHasSettings', () => {
  /** A value a cookie field may hold, JSON-shaped or not (what JSON leaves out, a Date, numbers JSON writes as null). */
  const value = fc.oneof(
    fc.constantFrom(undefined, null, true, false, 0, -0, 1_800_000, 1_799_999, 1_799_000, Number.NaN, Infinity, '/', 'lax', 'strict', '1970-01-01T00:00:00.000Z'),
    fc.integer(),
    fc.string({ maxLength: 4 }),
    fc.date({ noInvalidDate: true }),
    fc.constant(() => 1),
    fc.record({ a: fc.constantFrom(1, 2) }),
    fc.constant({ toJSON: () => undefined }),
  );
  /** Field names: the usual ones, the expiry's, `__proto__`, names every object inherits, and any other. */
  const field = fc.oneof(fc.constantFrom('path', 'originalMaxAge', 'sameSite', 'domain', 'expires', 'originalExpires', '__proto__', 'toString', 'constructor', '\u0000json'), fc.string({ maxLength: 3 }));
  /** A cookie object built field by field (so `__proto__` is an own field, as JSON.parse makes it), some fields hidden from Object.keys. */
  const cookieObject = fc.array(fc.tuple(field, value, fc.boolean()), { maxLength: 6 }).map((entries) => {
    const cookie: Record<string, unknown> = {};
    for (const [key, held, hidden] of entries) Object.defineProperty(cookie, key, { value: held, enumerable: !hidden, configurable: true, writable: true });
    return cookie;
  });
  const cookie = fc.oneof({ weight: 8, arbitrary: cookieObject }, { weight: 1, arbitrary: fc.constantFrom(undefined, null, 'text', 7, [1], new Date(0)) });

  it('says what sameCookieSettings says of the settings and a copy of the cookie, whatever the two cookies', () => {
    fc.assert(
      fc.property(cookie, cookie, (read, held) => {
        const settings = cookieSettingsOf(read);

        expect(cookieHasSettings(held, settings)).toBe(sameCookieSettings(settings, cookieSettingsOf(held)));
      }),
      { numRuns: 5000 },
    );
  });

  it('compares a setting as its JSON text does, whatever the two values', () => {
    fc.assert(
      fc.property(value, value, (x, y) => {
        expect(sameCookieSettings({ path: x }, { path: y })).toBe(JSON.stringify(x) === JSON.stringify(y));
      }),
      { numRuns: 5000 },
    );
  });

  it('says it of a cookie and itself, with its expiry moved or its maxAge drifted', () => {
    fc.assert(
      fc.property(cookieObject, value, fc.integer({ min: -1500, max: 1500 }), (read, expires, drift) => {
        const held = { ...read, expires, ...(typeof read.originalMaxAge === 'number' ? { originalMaxAge: read.originalMaxAge + drift } : {}) };
        const settings = cookieSettingsOf(read);

        expect(cookieHasSettings(held, settings)).toBe(sameCookieSettings(settings, cookieSettingsOf(held)));
      }),
      { numRuns: 2000 },
    );
  });

  it('allows the drift to originalMaxAge alone, and only between numbers; no cookie carries no settings', () => {
    const cases: Array<[unknown, unknown]> = [
      [{ domain: 5_000 }, { domain: 4_500 }],
      [{ originalMaxAge: 1_800_000 }, { originalMaxAge: '1800000' }],
      [{ originalMaxAge: '1800000' }, { originalMaxAge: 1_800_000 }],
      [{ originalMaxAge: 1_800_000 }, { originalMaxAge: 1_799_500 }],
      [undefined, undefined],
      [undefined, { path: '/' }],
    ];
    for (const [read, held] of cases) expect(cookieHasSettings(held, cookieSettingsOf(read))).toBe(sameCookieSettings(cookieSettingsOf(read), cookieSettingsOf(held)));
    expect(cases.map(([read, held]) => cookieHasSettings(held, cookieSettingsOf(read)))).toEqual([false, false, false, true, true, false]);
  });

  it('throws on a setting JSON cannot write (a BigInt), as the comparison of the copy does', () => {
    expect(() => sameCookieSettings(cookieSettingsOf({ path: '/' }), cookieSettingsOf({ path: '/', size: 1n }))).toThrow(TypeError);
    expect(() => cookieHasSettings({ path: '/', size: 1n }, cookieSettingsOf({ path: '/' }))).toThrow(TypeError);
  });

  it("finds express-session's live Cookie carrying the settings of its stored JSON, and not once one changed", () => {
    const live = new ExpressCookie({ path: '/', httpOnly: true, sameSite: 'lax', maxAge: 1_800_000 });
    const settings = cookieSettingsOf(JSON.parse(JSON.stringify(live)));
    live.maxAge = 1_800_000;

    expect(cookieHasSettings(liveCookieOf({ cookie: live }), settings)).toBe(true);
    live.sameSite = 'strict';
    expect(cookieHasSettings(liveCookieOf({ cookie: live }), settings)).toBe(false);
  });
});

describe('documentBytes', () => {
  const empty = documentBytes({ data: new Map(), cookie: undefined });

  it('counts names and values in UTF-8, and a byte more per key, as DynamoDB counts a map element', () => {
    expect(documentBytes({ data: new Map([['é', '"日"']]), cookie: undefined }) - empty).toBe(2 + 5 + 1);
  });

  it('counts the cookie twice (the fingerprint of its settings is stored beside it) and the user-index note', () => {
    expect(documentBytes({ data: new Map(), cookie: '{"path":"/"}' }) - empty).toBe(2 * 12 + 'cookie'.length + 'cookieSettings'.length);
    expect(documentBytes({ data: new Map(), cookie: undefined, indexed: '-:ada' }) - empty).toBe(5 + 'indexed'.length);
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
