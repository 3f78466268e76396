import { type Clock, systemClock } from '@kura/common';
import { SessionOptionsError } from './session.errors.js';
import type { SessionDataStore } from './session-data-store.port.js';
import type { SessionCacheKey } from './session-cache.js';
import type { SessionStore } from './session-store.port.js';
import type { SessionEvent } from './session.types.js';

/** Nest injection token for the resolved {@link SessionSettings}. */
export const SESSION_SETTINGS = Symbol('kura:session-settings');

export interface SessionCookieOptions {
  /**
   * Send the cookie only over HTTPS. Turn off only for plain-http local development on a host that is not
   * loopback (browsers already accept secure cookies from http://localhost and 127.0.0.1).
   * @default true
   */
  secure?: boolean;
  /**
   * Cookie name. A `__Host-` name makes the browser refuse the cookie unless it is Secure, host-only and
   * Path=/ (no subdomain can set or shadow it).
   * @default '__Host-kura_session' when secure, 'kura_session' otherwise
   */
  name?: string;
  /**
   * SameSite attribute. `lax` keeps top-level navigation logged in; `strict` also drops it there.
   * @default 'lax'
   */
  sameSite?: 'lax' | 'strict';
}

export interface SessionModuleOptions {
  /** Where sessions live. */
  store: SessionStore;
  /**
   * Seconds without use after which a session ends.
   * @default 1800 (30 minutes)
   */
  idleTimeoutSeconds?: number;
  /**
   * Seconds after login after which a session ends, however active.
   * @default 28800 (8 hours)
   */
  absoluteTimeoutSeconds?: number;
  /**
   * The idle expiry is pushed forward (one store write) at most once per this many seconds per session, so
   * steady-state reads write nothing. Must be shorter than the idle timeout.
   * @default a tenth of the idle timeout (180 with the default idle timeout)
   */
  refreshIntervalSeconds?: number;
  /**
   * The most sessions one user may have at once (devices, browsers, API clients). A login that would pass it
   * ends the user's least recently used sessions (by when each was last used, as the idle extension records it)
   * so that the new one fits. It never refuses the login: a stolen or lost device would otherwise lock its
   * owner out until that session expired. Sessions ended this way answer 401 at their next request. The store's
   * reads must be strongly consistent (the default of Kura's DynamoDB adapter): a session a read did not show yet
   * would be taken for ended. From 1 to 100 (a login at the limit reads each of the user's other sessions once).
   * @default unlimited
   */
  maxSessionsPerUser?: number;
  /** How the token travels when the client chose cookies. */
  cookie?: SessionCookieOptions;
  /**
   * Where per-session application data lives; `SessionDataService` needs it.
   * @default none (session data disabled)
   */
  dataStore?: SessionDataStore;
  /**
   * Largest session data document, in bytes of JSON (UTF-8): at most 350000 (DynamoDB items stop at 400 KB).
   * @default 8192
   */
  dataMaxBytes?: number;
  /**
   * The signed session cache: for up to `ttlSeconds` after the store vouched for a session, a JWS next to the
   * token lets any replica accept it without a store read. A session revoked elsewhere can then be used for up
   * to `ttlSeconds` more. `keys[0]` signs; all verify (rotation). Requests it answers do not extend the session,
   * so `ttlSeconds` plus `refreshIntervalSeconds` must not exceed `idleTimeoutSeconds`.
   * @default off
   */
  cache?: { ttlSeconds: number; keys: SessionCacheKey[] };
  /**
   * Origins (`https://app.example.com`) other than the API's own whose pages may send state-changing requests
   * with the session cookie (a front end on another host). Everything else cross-site is refused.
   * @default none
   */
  trustedOrigins?: string[];
  /**
   * How long after the user last proved their password (login or `reauthenticated`) a session may end the
   * user's other sessions (`requireRecentAuthentication`).
   * @default 300
   */
  reauthenticationWindowSeconds?: number;
  /** Told of every session event (created, authenticated, rejected, ...), e.g. to count them. */
  events?: (event: SessionEvent) => void;
  /**
   * Source of the current time.
   * @default the system clock
   */
  clock?: Clock;
}

/** Options after defaults were applied and checked. */
export interface SessionSettings {
  readonly store: SessionStore;
  readonly idleTimeoutMs: number;
  readonly absoluteTimeoutMs: number;
  readonly refreshIntervalMs: number;
  readonly reauthenticationWindowMs: number;
  readonly maxSessionsPerUser: number | undefined;
  readonly events: (event: SessionEvent) => void;
  readonly cookie: Required<SessionCookieOptions>;
  readonly dataStore: SessionDataStore | undefined;
  readonly dataMaxBytes: number;
  readonly trustedOrigins: readonly string[];
  readonly cache: { readonly ttlMs: number; readonly keys: readonly SessionCacheKey[] } | undefined;
  readonly clock: Clock;
}

/** The highest `maxSessionsPerUser`: a login at the limit reads each of the user's other sessions once. */
const MAX_SESSIONS_PER_USER = 100;

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A name a browser accepts for a cookie: an RFC 6265 token (no spaces, separators or control characters). */
export function isValidCookieName(name: string): boolean {
  return COOKIE_NAME.test(name);
}

/** The refresh interval in force: the one given, else a tenth of the idle timeout and at least a second. */
export function refreshIntervalSecondsFor(idleTimeoutSeconds: number, given?: number): number {
  return given ?? Math.max(1, Math.floor(idleTimeoutSeconds / 10));
}

/** Applies defaults and checks the options once, reporting every problem in one error. */
export function resolveSessionSettings(options: SessionModuleOptions): SessionSettings {
  const problems: string[] = [];
  const idle = options.idleTimeoutSeconds ?? 1800;
  const absolute = options.absoluteTimeoutSeconds ?? 28_800;
  const refresh = refreshIntervalSecondsFor(idle, options.refreshIntervalSeconds);
  const secure = options.cookie?.secure ?? true;
  const name = options.cookie?.name ?? (secure ? '__Host-kura_session' : 'kura_session');
  const sameSite = options.cookie?.sameSite ?? 'lax';
  const dataMaxBytes = options.dataMaxBytes ?? 8192;
  const reauthenticationWindow = options.reauthenticationWindowSeconds ?? 300;

  if (!options.store) problems.push('store is required');
  if (!isPositiveInteger(idle)) problems.push(`idleTimeoutSeconds must be a positive integer, got ${idle}`);
  if (!isPositiveInteger(absolute)) problems.push(`absoluteTimeoutSeconds must be a positive integer, got ${absolute}`);
  if (!isPositiveInteger(refresh)) problems.push(`refreshIntervalSeconds must be a positive integer, got ${refresh}`);
  if (!isPositiveInteger(reauthenticationWindow)) problems.push(`reauthenticationWindowSeconds must be a positive integer, got ${reauthenticationWindow}`);
  const maxSessions = options.maxSessionsPerUser;
  if (maxSessions !== undefined && (!isPositiveInteger(maxSessions) || maxSessions > MAX_SESSIONS_PER_USER)) {
    problems.push(`maxSessionsPerUser must be an integer from 1 to ${MAX_SESSIONS_PER_USER}, got ${maxSessions}`);
  }
  if (absolute < idle) problems.push(`absoluteTimeoutSeconds (${absolute}) must not be shorter than idleTimeoutSeconds (${idle})`);
  // Unset, the interval is a tenth of the idle timeout and at least a second: an idle timeout of 1 s was refused for
  // an interval the user never set (an outside review, 2026-12-06).
  if (refresh >= idle && isPositiveInteger(idle)) {
    problems.push(
      options.refreshIntervalSeconds === undefined
        ? `idleTimeoutSeconds (${idle}) must be at least 2 (its refresh interval, a tenth, is at least 1 s)`
        : `refreshIntervalSeconds (${refresh}) must be shorter than idleTimeoutSeconds (${idle})`,
    );
  }
  if (!isValidCookieName(name)) problems.push(`cookie.name "${name}" is not a valid cookie name`);
  // Browsers match the prefixes whatever their case (RFC 6265bis): `__host-sid` without Secure is a cookie they refuse.
  if (/^__host-/i.test(name) && !secure) problems.push('cookie.name with the __Host- prefix requires cookie.secure');
  if (/^__secure-/i.test(name) && !secure) problems.push('cookie.name with the __Secure- prefix requires cookie.secure');
  if (sameSite !== 'lax' && sameSite !== 'strict') problems.push(`cookie.sameSite must be "lax" or "strict", got "${sameSite}"`);
  if (!isPositiveInteger(dataMaxBytes) || dataMaxBytes > 350_000) {
    problems.push(`dataMaxBytes must be an integer from 1 to 350000 (DynamoDB items stop at 400 KB), got ${dataMaxBytes}`);
  }
  const trustedOrigins = options.trustedOrigins ?? [];
  for (const origin of trustedOrigins) {
    if (!isOrigin(origin)) problems.push(`trustedOrigins: "${origin}" is not an origin like https://app.example.com`);
  }
  const cache = options.cache;
  if (cache) {
    if (!isPositiveInteger(cache.ttlSeconds)) problems.push(`cache.ttlSeconds must be a positive integer, got ${cache.ttlSeconds}`);
    // Requests the cache answers do not extend the session: only a store read does, and only once the refresh
    // interval has passed since the last. A cache window plus that interval past the idle timeout logged out a user
    // active only on cached routes, at the idle timeout (an outside review: ttl 20 s, idle 10 s).
    else if (isPositiveInteger(idle) && cache.ttlSeconds + refresh > idle) {
      problems.push(
        `cache.ttlSeconds (${cache.ttlSeconds}) plus refreshIntervalSeconds (${refresh}) must not exceed idleTimeoutSeconds (${idle}): requests the cache answers do not extend a session, so its users would be logged out while active`,
      );
    }
    if (cache.keys.length === 0) problems.push('cache.keys needs at least one key');
    for (const key of cache.keys) {
      if (!/^[\w.-]{1,64}$/.test(key.kid)) problems.push(`cache key id "${key.kid}" must be 1-64 characters of A-Z a-z 0-9 _ . -`);
      const weak = cacheKeySecretProblem(key.secret);
      if (weak) problems.push(`cache key "${key.kid}" ${weak}`);
    }
    if (new Set(cache.keys.map((key) => key.kid)).size !== cache.keys.length) problems.push('cache key ids must be unique');
  }
  if (problems.length > 0) throw new SessionOptionsError(problems);

  return {
    store: options.store,
    idleTimeoutMs: idle * 1000,
    absoluteTimeoutMs: absolute * 1000,
    refreshIntervalMs: refresh * 1000,
    reauthenticationWindowMs: reauthenticationWindow * 1000,
    maxSessionsPerUser: maxSessions,
    events: options.events ?? (() => {}),
    cookie: { secure, name, sameSite },
    dataStore: options.dataStore,
    dataMaxBytes,
    trustedOrigins,
    cache: cache ? { ttlMs: cache.ttlSeconds * 1000, keys: cache.keys } : undefined,
    clock: options.clock ?? systemClock,
  };
}

const MIN_CACHE_KEY_BYTES = 32; // the HS256 output size
/**
 * A signing secret must come from a CSPRNG. 32 random bytes hold 30 distinct values on average (fewer than 16: a
 * chance of 3e-17); a secret typed by hand or filled with one character (the 43 'A's of an all-zero key, a
 * repeated word) holds a handful, and anyone who guesses it can forge cache entries for any session.
 */
const MIN_DISTINCT_KEY_BYTES = 16;

/** Why a signed-cache key's secret is unfit (too short, or not random), or undefined if it is fit. */
export function cacheKeySecretProblem(secret: Uint8Array): string | undefined {
  if (secret.byteLength < MIN_CACHE_KEY_BYTES) return `must have at least ${MIN_CACHE_KEY_BYTES} bytes`;
  const distinct = new Set(secret).size;
  if (distinct >= MIN_DISTINCT_KEY_BYTES) return undefined;
  return `is not random (${distinct} distinct byte values in ${secret.byteLength}): make one with node -e "console.log(require('node:crypto').randomBytes(32).toString('base64url'))"`;
}

function isPositiveInteger(value: number): boolean {
  return Number.isInteger(value) && value > 0;
}

/** A serialised origin (`https://app.example.com`, `http://localhost:3000`): scheme, host and port only. */
export function isOrigin(value: string): boolean {
  try {
    return new URL(value).origin === value;
  }
  // Stryker disable next-line BlockStatement: an emptied catch returns undefined, which the caller reads as false, like the explicit false
  catch {
    return false;
  }
}
