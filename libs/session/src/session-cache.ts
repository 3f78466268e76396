import { Inject, Injectable } from '@nestjs/common';
import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { SESSION_SETTINGS, type SessionSettings } from './session.options.js';
import { effectiveExpiry, type SessionRecord } from './session.types.js';

/** A signing key for the session cache: `kid` names it in every cache token it signs. */
export interface SessionCacheKey {
  readonly kid: string;
  /** At least 32 random bytes (HS256). */
  readonly secret: Uint8Array;
}

const ALGORITHM = 'HS256';
const TYPE = 'kura-session-cache+jwt';

interface CacheClaims extends JWTPayload {
  sid: string;
  sub: string;
  email?: string;
  name: string | null;
  ca: number;
  ls: number;
  ie: number;
  ae: number;
  aa?: number;
  di?: string;
}

/**
 * jose (which signs the cache tokens), loaded on the first token issued: a deployment without the cache (the
 * default) never loads it, which a Lambda cold start notices. Verifying needs no jose (see `verifiedClaims`).
 */
let jose: typeof import('jose') | undefined;
const loadJose = async () => (jose ??= await import('jose'));

/**
 * The opt-in signed session cache: a short-lived JWS (HS256, `kid` in the header) that lets any replica accept
 * a session without reading the store, until the JWS expires (at most `ttl` seconds, never past the session's
 * own expiry). It names the session it vouches for, so it is worthless without that session's token.
 *
 * The trade-off: a session revoked elsewhere can still READ for up to `ttl` seconds with its cache, on the routes
 * marked `@CacheableSession()` and only with GET or HEAD (`SessionGuard` decides); every state change reads the
 * store. Keys rotate by configuration: the first key signs, every listed key verifies.
 */
@Injectable()
export class SessionCache {
  constructor(@Inject(SESSION_SETTINGS) private readonly settings: SessionSettings) {}

  get enabled(): boolean {
    return this.settings.cache !== undefined;
  }

  /** A cache token for a session the store just vouched for, and when it expires (epoch ms). */
  async issue(record: SessionRecord): Promise<{ jws: string; expiresAt: number }> {
    const cache = this.settings.cache!;
    const [signing] = cache.keys as [SessionCacheKey];
    const now = this.settings.clock.now();
    const claims: CacheClaims = {
      sid: record.id,
      sub: record.user.id,
      ...(record.user.email === undefined ? {} : { email: record.user.email }),
      name: record.user.name ?? null,
      ca: record.createdAt,
      ls: record.lastSeenAt,
      ie: record.idleExpiresAt,
      ae: record.absoluteExpiresAt,
      ...(record.authenticatedAt === undefined ? {} : { aa: record.authenticatedAt }),
      ...(record.dataId === undefined ? {} : { di: record.dataId }),
    };
    const exp = Math.floor(Math.min(now + cache.ttlMs, effectiveExpiry(record)) / 1000);
    const { SignJWT } = jose ?? (await loadJose());
    const jws = await new SignJWT(claims)
      .setProtectedHeader({ alg: ALGORITHM, kid: signing.kid, typ: TYPE })
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(exp)
      .sign(signing.secret);
    return { jws, expiresAt: exp * 1000 };
  }

  /**
   * The session a cache token vouches for, if it verifies (allowed algorithm, known key, unexpired, and for
   * exactly this session); `undefined` otherwise, and the caller asks the store. Synchronous: the HMAC is
   * node:crypto's, and a request that has no cache token pays for no promise.
   */
  verify(jws: string | undefined, sessionId: string): SessionRecord | undefined {
    const cache = this.settings.cache;
    if (!cache || !jws) return undefined;
    const now = this.settings.clock.now();
    const verified = this.verified(jws, cache.keys);
    if (!verified || !inForce(verified.claims, now) || verified.claims.sid !== sessionId) return undefined;
    return effectiveExpiry(verified.record) > now ? verified.record : undefined;
  }

  /**
   * A token whose signature and shape were checked, with the session it vouches for, remembered: a client sends
   * the same token until it is reissued, so most requests skip the HMAC and the record is made once (frozen, as
   * it is shared). Found by the signature segment, which is shorter to hash than the whole token, and used only
   * when the whole text is the same. Bounded (emptied when full); time is checked on every use (`inForce`),
   * and only tokens that verified are remembered.
   */
  private verified(jws: string, keys: readonly SessionCacheKey[]): VerifiedToken | undefined {
    const signature = jws.slice(jws.lastIndexOf('.') + 1);
    const known = this.checked.get(signature);
    if (known?.jws === jws) return known;
    const claims = verifiedClaims(jws, keys);
    if (!claims) return undefined;
    if (this.checked.size >= CHECKED_TOKENS) this.checked.clear();
    const verified: VerifiedToken = { jws, claims, record: recordOf(claims) };
    this.checked.set(signature, verified);
    return verified;
  }

  private readonly checked = new Map<string, VerifiedToken>();
}

interface VerifiedToken {
  readonly jws: string;
  readonly claims: CacheClaims;
  readonly record: SessionRecord;
}

/** The session record a cache token's claims describe, frozen. */
function recordOf(claims: CacheClaims): SessionRecord {
  return Object.freeze({
    id: claims.sid,
    user: Object.freeze({ id: claims.sub, ...(typeof claims.email === 'string' ? { email: claims.email } : {}), name: claims.name }),
    createdAt: claims.ca,
    lastSeenAt: claims.ls,
    idleExpiresAt: claims.ie,
    absoluteExpiresAt: claims.ae,
    ...(typeof claims.aa === 'number' ? { authenticatedAt: claims.aa } : {}),
    ...(typeof claims.di === 'string' ? { dataId: claims.di } : {}),
  });
}

/** How many verified tokens a replica remembers: about 4 MB at most. */
const CHECKED_TOKENS = 4096;

/** Whether claims that verified are in force at `now` (epoch ms): unexpired, and not before their `nbf`. */
function inForce(claims: CacheClaims, now: number): boolean {
  const seconds = Math.floor(now / 1000);
  return (claims.exp as number) > seconds && (claims.nbf === undefined || (claims.nbf as number) <= seconds);
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;
/** A media type as JOSE compares it: case-insensitive, `application/` optional (RFC 7515, 4.1.9). */
const sameType = (typ: string) => typ.toLowerCase().replace(/^application\//, '') === TYPE;

/**
 * The claims of a cache token, if it is a compact HS256 JWS of this type, signed by the listed key its `kid`
 * names, carrying the claims a record needs (`exp` and `iat` numbers, `nbf` a number if present); `undefined`
 * otherwise. With `inForce`, it checks what jose's `jwtVerify` checks for these options (tokens are signed with
 * jose).
 *
 * Written by hand, on node:crypto, because it runs on every cached request: jose verifies through WebCrypto,
 * whose HMAC is an asynchronous job on the libuv thread pool, measured at about 60 µs of CPU per request (more
 * under load) where this takes a few. The specs check it against jose on genuine and forged tokens.
 */
function verifiedClaims(jws: string, keys: readonly SessionCacheKey[]): CacheClaims | undefined {
  const parts = jws.split('.');
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) return undefined;
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
  const header = jsonObject(encodedHeader);
  if (!header || header.alg !== ALGORITHM || typeof header.typ !== 'string' || !sameType(header.typ) || 'crit' in header || 'b64' in header) return undefined;
  const key = keys.find((candidate) => candidate.kid === header.kid);
  if (!key) return undefined;
  const expected = createHmac('sha256', keyObjectOf(key)).update(`${encodedHeader}.${encodedPayload}`).digest();
  const signature = Buffer.from(encodedSignature, 'base64url');
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return undefined;
  const claims = jsonObject(encodedPayload);
  if (!claims || typeof claims.exp !== 'number' || typeof claims.iat !== 'number') return undefined;
  if (claims.nbf !== undefined && typeof claims.nbf !== 'number') return undefined;
  if (typeof claims.sid !== 'string' || typeof claims.sub !== 'string') return undefined;
  if (![claims.ca, claims.ls, claims.ie, claims.ae].every((value) => typeof value === 'number') || !(claims.name === null || typeof claims.name === 'string')) return undefined;
  return claims as CacheClaims;
}

/** Each key's secret as a KeyObject, made once: Node otherwise makes one from the bytes on every HMAC. */
const keyObjects = new WeakMap<SessionCacheKey, KeyObject>();
function keyObjectOf(key: SessionCacheKey): KeyObject {
  let keyObject = keyObjects.get(key);
  if (!keyObject) keyObjects.set(key, (keyObject = createSecretKey(key.secret)));
  return keyObject;
}

/** A base64url segment as a JSON object, or `undefined`. */
function jsonObject(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
