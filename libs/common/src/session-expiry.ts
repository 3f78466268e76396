/**
 * When a session stops being valid: the earlier of its idle and absolute expiry (epoch ms). Here, beside the
 * ports, so that the storage adapters apply the same rule as the session core without loading it (and NestJS
 * with it) in an app that uses only KuraStore.
 */
export function effectiveExpiry(record: { readonly idleExpiresAt: number; readonly absoluteExpiresAt: number }): number {
  return Math.min(record.idleExpiresAt, record.absoluteExpiresAt);
}
