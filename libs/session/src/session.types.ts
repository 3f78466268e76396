import type { SessionData, SessionRecord } from '@kura/common';

export type { SessionRecord, SessionUser } from '@kura/common';

/** Where a login came from; recorded on the session for the owner to see. */
export interface ClientInfo {
  readonly userAgent?: string;
  readonly ip?: string;
}

/** The result of a login: the secret token (shown once, to the client) and the stored record. */
export interface IssuedSession {
  readonly token: string;
  readonly record: SessionRecord;
  /** The ids of the user's sessions this login ended, live, to stay within `maxSessionsPerUser` (absent: none). */
  readonly evicted?: readonly string[];
  /** The live session this login replaced (`replaces`) and ended: whose it was (possibly another user's) and its id. */
  readonly replaced?: { readonly userId: string; readonly sessionId: string };
}

/** A session that passed every check on this request. */
export interface AuthenticatedSession {
  readonly token: string;
  readonly record: SessionRecord;
  /** True when this request extended the idle expiry (a store write happened; the cookie is not renewed for it). */
  readonly extended: boolean;
  /** A fresh signed cache to hand the client, when the cache is on and the store was read for this request. */
  readonly cache?: { readonly jws: string; readonly expiresAt: number };
  /**
   * This session's data, read in the same round trip as the session itself: only on `@WithSessionData()` routes,
   * when the store was read and can do both at once (`SessionStore.findWithData`).
   */
  readonly data?: SessionData;
}

/**
 * What happened to a session, for metrics (never carries a token or an id). `authenticated` says whether the
 * store or the signed cache vouched for it; `rejected` why a presented token was refused. A store reads an ended or
 * expired session as absent (`SessionStore.find`), so its token is rejected as `unknown`, as one never issued is.
 */
export type SessionEvent =
  | { readonly type: 'created' }
  | { readonly type: 'authenticated'; readonly source: 'store' | 'cache' }
  | { readonly type: 'rejected'; readonly reason: 'missing' | 'malformed' | 'unknown' | 'expired' | 'revoked' }
  | { readonly type: 'extended' }
  /**
   * An idle extension the store could not take (unavailable, out of memory, a write it refused): the request went on,
   * the session unextended. `reason`: the store's, in one line (`StoreUnavailableError.reason`).
   */
  | { readonly type: 'extension-failed'; readonly reason: string }
  | { readonly type: 'reauthenticated' }
  | { readonly type: 'revoked'; readonly count: number }
  /** Sessions a login ended to keep its user within `maxSessionsPerUser`. */
  | { readonly type: 'evicted'; readonly count: number };

/** The public, JSON-ready view of a session (never the token). */
export interface SessionView {
  readonly id: string;
  readonly createdAt: string;
  /** The absolute expiry: the session ends then, however active it is. */
  readonly expiresAt: string;
  /** The idle expiry: the session ends then unless it is used (each use may push it forward). */
  readonly idleExpiresAt: string;
}

export function toSessionView(record: SessionRecord): SessionView {
  return {
    id: record.id,
    createdAt: isoTime(record.createdAt),
    expiresAt: isoTime(record.absoluteExpiresAt),
    idleExpiresAt: isoTime(record.idleExpiresAt),
  };
}

/**
 * `new Date(ms).toISOString()`, remembered: a session's times change at most once per refresh interval, and
 * V8 formats a date through its printf (about 0.4 µs, three times per `GET /auth/me`). Bounded (emptied when
 * full), like every cache a request can fill.
 */
function isoTime(ms: number): string {
  let text = ISO_TIMES.get(ms);
  if (text === undefined) {
    if (ISO_TIMES.size >= ISO_TIMES_KEPT) ISO_TIMES.clear();
    text = new Date(ms).toISOString();
    ISO_TIMES.set(ms, text);
  }
  return text;
}
const ISO_TIMES = new Map<number, string>();
const ISO_TIMES_KEPT = 16_384;

/** The key a session's data is kept under. */
export function dataIdOf(record: Pick<SessionRecord, 'id' | 'dataId'>): string {
  return record.dataId ?? record.id;
}

/** When a record stops being valid: the earlier of its idle and absolute expiry (epoch ms). */
export { effectiveExpiry } from '@kura/common';
