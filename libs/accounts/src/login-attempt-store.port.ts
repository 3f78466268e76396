import type { LoginAttemptStore } from '@kura/common';

export type { LoginAttemptStore } from '@kura/common';

/** Counters in process memory: for tests and a single process. */
export class InMemoryLoginAttemptStore implements LoginAttemptStore {
  private readonly counters = new Map<string, Set<string>>();

  async counts(keys: readonly string[]): Promise<number[]> {
    return keys.map((key) => this.counters.get(key)?.size ?? 0);
  }

  // Nothing expires in memory; the expiry is the engine's business.
  async reserve(key: string, attempt: string, below: number, _expiresAt?: number): Promise<boolean> {
    const attempts = this.counters.get(key) ?? new Set<string>();
    if (!attempts.has(attempt) && attempts.size >= below) return false;
    this.counters.set(key, attempts.add(attempt));
    return true;
  }

  async release(key: string, attempt: string): Promise<void> {
    this.counters.get(key)?.delete(attempt);
  }

  async clear(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.counters.delete(key);
  }
}
