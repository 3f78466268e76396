/**
 * Failed-login counters shared by every process (replicas, Lambda invocations). Keys are opaque strings
 * chosen by `LoginThrottle`; each counter belongs to one fixed time window and counts distinct attempts, so
 * recording or withdrawing the same attempt twice (a retried call) changes nothing.
 */
export interface LoginAttemptStore {
  /** How many attempts each counter holds (0 for those never used), strongly consistent. */
  counts(keys: readonly string[]): Promise<number[]>;
  /**
   * Adds `attempt` to the counter, atomically, only while it holds fewer than `below` attempts (or already holds
   * this one); `false`, writing nothing, when it is full. The engine may forget the counter after `expiresAt` (epoch ms).
   */
  reserve(key: string, attempt: string, below: number, expiresAt: number): Promise<boolean>;
  /** Takes `attempt` back out of the counter (a login that succeeded, or that could not be checked). */
  release(key: string, attempt: string): Promise<void>;
  /** Forgets counters (after a successful login). */
  clear(keys: readonly string[]): Promise<void>;
}
