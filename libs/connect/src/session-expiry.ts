/**
 * When a session ends, in epoch milliseconds: its cookie's `expires` when it has one (express-session and
 * @fastify/session both set it from `maxAge`), else `now + ttlMs` (a browser-session cookie, which the store
 * cannot see end).
 */
export function expiryOf(cookie: unknown, now: number, ttlMs: number): number {
  return cookieExpiryOf(cookie) ?? now + ttlMs;
}

/** The cookie's `expires` in epoch milliseconds, or `undefined` for a browser-session cookie (none, or not a date). */
export function cookieExpiryOf(cookie: unknown): number | undefined {
  const expires = typeof cookie === 'object' && cookie !== null ? (cookie as { expires?: unknown }).expires : undefined;
  const at = expires instanceof Date ? expires.getTime() : typeof expires === 'string' || typeof expires === 'number' ? new Date(expires).getTime() : NaN;
  return Number.isFinite(at) ? at : undefined;
}

/**
 * The touch rule: a session read at steady state only needs a write when the expiry it should have (`wanted`)
 * is at least `touchFraction` of its remaining lifetime away from the stored one. With 0.1 and a 30-minute
 * window, an active session costs at most one expiry write every 3 minutes, and an idle one ends between 27
 * and 30 minutes after its last request. Either direction counts, so a cookie made shorter is written at once,
 * but clock skew of a few milliseconds between replicas is not. A fraction of 0 writes on every touch.
 */
export function mustMoveExpiry(stored: number, wanted: number, now: number, touchFraction: number): boolean {
  const lifetime = Math.max(0, wanted - now);
  return Math.abs(wanted - stored) >= touchFraction * lifetime;
}
