/**
 * Failed-login counters shared by every process (replicas, Lambda invocations). Keys are opaque strings
 * chosen by `LoginThrottle`; each counter belongs to one fixed time window.
 */
export interface LoginAttemptStore {
  /** The counts of the given counters (0 for those never incremented), strongly consistent. */
  counts(keys: readonly string[]): Promise<number[]>;
  /** Adds one to each counter atomically; the engine may forget them after `expiresAt` (epoch ms). */
  increment(keys: readonly string[], expiresAt: number): Promise<void>;
  /** Forgets counters (after a successful login). */
  clear(keys: readonly string[]): Promise<void>;
}

export class InMemoryLoginAttemptStore implements LoginAttemptStore {
  private readonly counters = new Map<string, number>();

  async counts(keys: readonly string[]): Promise<number[]> {
    return keys.map((key) => this.counters.get(key) ?? 0);
  }

  async increment(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.counters.set(key, (this.counters.get(key) ?? 0) + 1);
  }

  async clear(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.counters.delete(key);
  }
}
