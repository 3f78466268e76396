import { randomBytes } from 'node:crypto';
import { ManualClock, systemClock } from '@kura/common';
import { InMemorySessionStore } from './in-memory-session.store.js';
import { SessionOptionsError } from './session.errors.js';
import { resolveSessionSettings, type SessionModuleOptions } from './session.options.js';

const store = new InMemorySessionStore();
const key = (kid: string, bytes = 32) => ({ kid, secret: new Uint8Array(randomBytes(bytes)) });

/** The problems `resolveSessionSettings` reports for these options (none when it accepts them). */
function problemsOf(options: Partial<SessionModuleOptions>): readonly string[] {
  try {
    resolveSessionSettings({ store, ...options });
    return [];
  } catch (error) {
    if (!(error instanceof SessionOptionsError)) throw error;
    return error.problems;
  }
}

describe('resolveSessionSettings', () => {
  it('applies secure defaults', () => {
    const settings = resolveSessionSettings({ store });

    expect(settings).toMatchObject({
      idleTimeoutMs: 1_800_000,
      absoluteTimeoutMs: 28_800_000,
      refreshIntervalMs: 180_000,
      cookie: { secure: true, name: '__Host-kura_session', sameSite: 'lax' },
    });
  });

  it('turns off optional features unless they are configured', () => {
    const settings = resolveSessionSettings({ store });

    expect(settings).toMatchObject({
      store,
      reauthenticationWindowMs: 300_000,
      dataStore: undefined,
      dataMaxBytes: 8192,
      trustedOrigins: [],
      cache: undefined,
      clock: systemClock,
    });
    expect(() => settings.events({ type: 'created' })).not.toThrow();
  });

  it('keeps what it was given, converted to milliseconds', () => {
    const clock = new ManualClock();
    const events = () => {};
    const keys = [key('k1')];

    const settings = resolveSessionSettings({
      store,
      dataStore: store,
      clock,
      events,
      idleTimeoutSeconds: 600,
      absoluteTimeoutSeconds: 3600,
      refreshIntervalSeconds: 30,
      reauthenticationWindowSeconds: 120,
      dataMaxBytes: 1024,
      trustedOrigins: ['https://app.example.com'],
      cookie: { sameSite: 'strict' },
      cache: { ttlSeconds: 15, keys },
    });

    expect(settings).toEqual({
      store,
      dataStore: store,
      clock,
      events,
      idleTimeoutMs: 600_000,
      absoluteTimeoutMs: 3_600_000,
      refreshIntervalMs: 30_000,
      reauthenticationWindowMs: 120_000,
      dataMaxBytes: 1024,
      trustedOrigins: ['https://app.example.com'],
      cookie: { secure: true, name: '__Host-kura_session', sameSite: 'strict' },
      cache: { ttlMs: 15_000, keys },
    });
  });

  it('drops the __Host- prefix when secure cookies are turned off', () => {
    expect(resolveSessionSettings({ store, cookie: { secure: false } }).cookie.name).toBe('kura_session');
  });

  it('reports every problem in one error', () => {
    const attempt = () =>
      resolveSessionSettings({
        store,
        idleTimeoutSeconds: 600,
        absoluteTimeoutSeconds: 60,
        refreshIntervalSeconds: 600,
        cookie: { secure: false, name: '__Host-x' },
      });

    expect(attempt).toThrow(SessionOptionsError);
    try {
      attempt();
    } catch (error) {
      expect((error as SessionOptionsError).problems).toEqual([
        'absoluteTimeoutSeconds (60) must not be shorter than idleTimeoutSeconds (600)',
        'refreshIntervalSeconds (600) must be shorter than idleTimeoutSeconds (600)',
        'cookie.name with the __Host- prefix requires cookie.secure',
      ]);
    }
  });

  it('refuses an idle timeout of 1 s for what it is, not for a refresh interval nobody set, and a 0 once', () => {
    // An outside review, 2026-12-06: "refreshIntervalSeconds (1) must be shorter than idleTimeoutSeconds (1)".
    expect(problemsOf({ store, idleTimeoutSeconds: 1 })).toEqual(['idleTimeoutSeconds (1) must be at least 2 (its refresh interval, a tenth, is at least 1 s)']);
    expect(problemsOf({ store, idleTimeoutSeconds: 0 })).toEqual(['idleTimeoutSeconds must be a positive integer, got 0']);
    expect(problemsOf({ store, idleTimeoutSeconds: 2 })).toEqual([]);
  });

  it('refuses to run without a store', () => {
    expect(problemsOf({ store: undefined as never })).toEqual(['store is required']);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects an idle timeout of %p', (idleTimeoutSeconds) => {
    expect(() => resolveSessionSettings({ store, idleTimeoutSeconds, refreshIntervalSeconds: 1 })).toThrow(
      /idleTimeoutSeconds must be a positive integer/,
    );
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects an absolute timeout of %p', (absoluteTimeoutSeconds) => {
    expect(problemsOf({ absoluteTimeoutSeconds })).toContain(
      `absoluteTimeoutSeconds must be a positive integer, got ${absoluteTimeoutSeconds}`,
    );
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects a refresh interval of %p', (refreshIntervalSeconds) => {
    expect(problemsOf({ refreshIntervalSeconds })).toContain(
      `refreshIntervalSeconds must be a positive integer, got ${refreshIntervalSeconds}`,
    );
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects a re-authentication window of %p', (reauthenticationWindowSeconds) => {
    expect(problemsOf({ reauthenticationWindowSeconds })).toEqual([
      `reauthenticationWindowSeconds must be a positive integer, got ${reauthenticationWindowSeconds}`,
    ]);
  });

  it.each([0, -1, 1.5, 101, Number.NaN])('rejects a limit on sessions per user of %p', (maxSessionsPerUser) => {
    expect(problemsOf({ maxSessionsPerUser })).toEqual([`maxSessionsPerUser must be an integer from 1 to 100, got ${maxSessionsPerUser}`]);
  });

  it('has no limit on sessions per user unless given one, and takes 1 to 100', () => {
    expect(resolveSessionSettings({ store: new InMemorySessionStore() }).maxSessionsPerUser).toBeUndefined();
    expect(problemsOf({ maxSessionsPerUser: 1 })).toEqual([]);
    expect(problemsOf({ maxSessionsPerUser: 100 })).toEqual([]);
  });

  it('accepts the smallest positive values', () => {
    expect(
      problemsOf({ idleTimeoutSeconds: 2, absoluteTimeoutSeconds: 2, refreshIntervalSeconds: 1, reauthenticationWindowSeconds: 1 }),
    ).toEqual([]);
  });

  describe('timeouts', () => {
    it('the absolute timeout may not be shorter than the idle timeout', () => {
      expect(problemsOf({ idleTimeoutSeconds: 600, absoluteTimeoutSeconds: 599 })).toEqual([
        'absoluteTimeoutSeconds (599) must not be shorter than idleTimeoutSeconds (600)',
      ]);
    });

    it('the absolute timeout may equal the idle timeout', () => {
      expect(problemsOf({ idleTimeoutSeconds: 600, absoluteTimeoutSeconds: 600 })).toEqual([]);
    });

    it('the refresh interval must be shorter than the idle timeout, or a session could expire between refreshes', () => {
      expect(problemsOf({ idleTimeoutSeconds: 600, refreshIntervalSeconds: 600 })).toEqual([
        'refreshIntervalSeconds (600) must be shorter than idleTimeoutSeconds (600)',
      ]);
      expect(problemsOf({ idleTimeoutSeconds: 600, refreshIntervalSeconds: 599 })).toEqual([]);
    });

    it.each([
      [600, 60_000],
      [25, 2000],
      [19, 1000],
      [5, 1000],
      [2, 1000],
    ])('refreshes at most once per a tenth of an idle timeout of %p s by default, and at least once a second', (idle, refreshMs) => {
      expect(resolveSessionSettings({ store, idleTimeoutSeconds: idle }).refreshIntervalMs).toBe(refreshMs);
    });
  });

  describe('cookie', () => {
    it('accepts every character RFC 6265 allows in a cookie name', () => {
      expect(problemsOf({ cookie: { name: "!#$%&'*+-.^_`|~09AZaz" } })).toEqual([]);
    });

    it.each(['', 'kura session', 'kura;session', 'kura=session', 'kura,session', 'kura"', 'kura\tsession', 'küra', '(kura)', 'kura/session'])(
      'refuses %j as a cookie name',
      (name) => {
        expect(problemsOf({ cookie: { name } })).toEqual([`cookie.name "${name}" is not a valid cookie name`]);
      },
    );

    // In any case: browsers match the prefixes case-insensitively (RFC 6265bis), so `__host-kura` without Secure was
    // accepted here and refused by every browser (the security review of 2026-12-05).
    it.each([
      ['__Host-kura', '__Host-'],
      ['__Secure-kura', '__Secure-'],
      ['__host-kura', '__Host-'],
      ['__SECURE-kura', '__Secure-'],
    ])('refuses the prefix of %p on a cookie that is not Secure', (name, prefix) => {
      expect(problemsOf({ cookie: { name, secure: false } })).toEqual([`cookie.name with the ${prefix} prefix requires cookie.secure`]);
      expect(problemsOf({ cookie: { name, secure: true } })).toEqual([]);
    });

    it('accepts a prefix-free name on a cookie that is not Secure', () => {
      expect(problemsOf({ cookie: { name: 'kura', secure: false } })).toEqual([]);
    });

    it('keeps an explicitly chosen name', () => {
      expect(resolveSessionSettings({ store, cookie: { name: 'sid', secure: false } }).cookie.name).toBe('sid');
    });

    it.each(['none', 'Lax', ''])('refuses SameSite %p (None would send the cookie on cross-site requests)', (sameSite) => {
      expect(problemsOf({ cookie: { sameSite: sameSite as never } })).toEqual([`cookie.sameSite must be "lax" or "strict", got "${sameSite}"`]);
    });
  });

  describe('session data', () => {
    it.each([1, 350_000])('accepts documents of up to %p bytes', (dataMaxBytes) => {
      expect(problemsOf({ dataMaxBytes })).toEqual([]);
    });

    it.each([0, -1, 1.5, 350_001, Number.NaN])('refuses a data limit of %p, which no DynamoDB item could hold or which is no size', (dataMaxBytes) => {
      expect(problemsOf({ dataMaxBytes })).toEqual([
        `dataMaxBytes must be an integer from 1 to 350000 (DynamoDB items stop at 400 KB), got ${dataMaxBytes}`,
      ]);
    });
  });

  describe('trusted origins', () => {
    it('accepts exact origins', () => {
      expect(problemsOf({ trustedOrigins: ['https://app.example.com', 'http://localhost:5173'] })).toEqual([]);
    });

    it.each(['https://app.example.com/', 'https://app.example.com/path', 'app.example.com', '*', 'null', ''])(
      'refuses %j, which is not an origin a browser would send',
      (origin) => {
        expect(problemsOf({ trustedOrigins: [origin] })).toEqual([`trustedOrigins: "${origin}" is not an origin like https://app.example.com`]);
      },
    );

    it.each(['https://App.example.com', 'https://app.example.com:443', 'HTTPS://app.example.com'])(
      'refuses %j, which is not written as a browser writes it and so would never match',
      (origin) => {
        expect(problemsOf({ trustedOrigins: [origin] })).toEqual([`trustedOrigins: "${origin}" is not an origin like https://app.example.com`]);
      },
    );

    it('reports each bad origin', () => {
      expect(problemsOf({ trustedOrigins: ['a', 'https://ok.example.com', 'b'] })).toHaveLength(2);
    });
  });

  describe('signed session cache', () => {
    it('accepts a ttl and a key of 32 bytes', () => {
      expect(problemsOf({ cache: { ttlSeconds: 1, keys: [key('k1')] } })).toEqual([]);
    });

    it.each([0, -1, 1.5, Number.NaN])('refuses a cache ttl of %p', (ttlSeconds) => {
      expect(problemsOf({ cache: { ttlSeconds, keys: [key('k1')] } })).toEqual([`cache.ttlSeconds must be a positive integer, got ${ttlSeconds}`]);
    });

    // Requests the cache answers do not extend the session (an outside review: with ttl 20 s and idle 10 s, a user
    // active every second only on cached routes was logged out at 10 s).
    it.each([
      [{ idleTimeoutSeconds: 10, refreshIntervalSeconds: 1, cache: { ttlSeconds: 20, keys: [key('k1')] } }, '20', '1', '10'],
      [{ idleTimeoutSeconds: 10, refreshIntervalSeconds: 8, cache: { ttlSeconds: 5, keys: [key('k1')] } }, '5', '8', '10'],
      [{ cache: { ttlSeconds: 4000, keys: [key('k1')] } }, '4000', '180', '1800'],
    ])('refuses a cache window that with the refresh interval outlasts the idle timeout: %j', (options, ttl, refresh, idle) => {
      expect(problemsOf(options)).toEqual([
        `cache.ttlSeconds (${ttl}) plus refreshIntervalSeconds (${refresh}) must not exceed idleTimeoutSeconds (${idle}): requests the cache answers do not extend a session, so its users would be logged out while active`,
      ]);
    });

    it('accepts a cache window that leaves a store read, and so an extension, before the idle timeout', () => {
      expect(problemsOf({ idleTimeoutSeconds: 10, refreshIntervalSeconds: 1, cache: { ttlSeconds: 9, keys: [key('k1')] } })).toEqual([]);
      expect(problemsOf({ cache: { ttlSeconds: 300, keys: [key('k1')] } })).toEqual([]);
    });

    it('refuses a cache with no key', () => {
      expect(problemsOf({ cache: { ttlSeconds: 10, keys: [] } })).toEqual(['cache.keys needs at least one key']);
    });

    it('refuses a key shorter than 32 bytes, the HS256 output size', () => {
      expect(problemsOf({ cache: { ttlSeconds: 10, keys: [key('k1'), key('short', 31)] } })).toEqual([
        'cache key "short" must have at least 32 bytes',
      ]);
    });

    // Anyone who guesses the secret forges cache entries for any session: 32 zero bytes passed as 32 bytes.
    it('refuses a secret that is not random, and says how to make one', () => {
      const zeros = { kid: 'zeros', secret: new Uint8Array(32) };
      const typed = { kid: 'typed', secret: new TextEncoder().encode('correct horse battery staple!!!!') };

      expect(problemsOf({ cache: { ttlSeconds: 10, keys: [key('k1'), zeros, typed] } })).toEqual([
        expect.stringMatching(/^cache key "zeros" is not random \(1 distinct byte values in 32\): make one with node -e "console.log\(require\('node:crypto'\).randomBytes\(32\)/),
        expect.stringMatching(/^cache key "typed" is not random \(14 distinct byte values in 32\)/),
      ]);
    });

    it.each(['k', 'key-2026.01_a', 'a'.repeat(64)])('accepts the key id %p', (kid) => {
      expect(problemsOf({ cache: { ttlSeconds: 10, keys: [key(kid)] } })).toEqual([]);
    });

    it.each(['', 'a'.repeat(65), 'key 1', 'key/1', '../key', 'kéy', 'key\n', ' key'])('refuses the key id %j', (kid) => {
      expect(problemsOf({ cache: { ttlSeconds: 10, keys: [key(kid)] } })).toEqual([
        `cache key id "${kid}" must be 1-64 characters of A-Z a-z 0-9 _ . -`,
      ]);
    });

    it('refuses two keys with the same id, which would make verification ambiguous', () => {
      expect(problemsOf({ cache: { ttlSeconds: 10, keys: [key('k1'), key('k2'), key('k1')] } })).toEqual(['cache key ids must be unique']);
    });
  });
});
