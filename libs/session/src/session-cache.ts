import { Inject, Injectable } from '@nestjs/common';
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
 * jose, loaded on the first use of the cache: a deployment without the cache (the default) never loads it, which a
 * Lambda cold start notices. Once loaded it is kept, so steady requests pay no `import()`.
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
   * exactly this session); `undefined` otherwise, and the caller asks the store.
   */
  async verify(jws: string | undefined, sessionId: string): Promise<SessionRecord | undefined> {
    const cache = this.settings.cache;
    if (!cache || !jws) return undefined;
    const now = this.settings.clock.now();
    const { errors, jwtVerify } = jose ?? (await loadJose());
    try {
      const { payload } = await jwtVerify<CacheClaims>(
        jws,
        (header) => {
          const key = cache.keys.find((candidate) => candidate.kid === header.kid);
          if (!key) throw new errors.JWKSNoMatchingKey();
          return key.secret;
        },
        { algorithms: [ALGORITHM], typ: TYPE, requiredClaims: ['exp', 'iat', 'sid', 'sub'], currentDate: new Date(now) },
      );
      if (payload.sid !== sessionId) return undefined;
      const record: SessionRecord = {
        id: payload.sid,
        user: { id: payload.sub, ...(typeof payload.email === 'string' ? { email: payload.email } : {}), name: payload.name },
        createdAt: payload.ca,
        lastSeenAt: payload.ls,
        idleExpiresAt: payload.ie,
        absoluteExpiresAt: payload.ae,
        ...(typeof payload.aa === 'number' ? { authenticatedAt: payload.aa } : {}),
        ...(typeof payload.di === 'string' ? { dataId: payload.di } : {}),
      };
      return effectiveExpiry(record) > now ? record : undefined;
    } catch {
      return undefined;
    }
  }
}
