import { EvictionGuard, guardedByEviction } from './eviction-guard.js';
import { redisKeys, type RedisKeys, type RedisStoreOptions } from './redis-keys.js';
import { type RedisCommander, withDeadline } from './redis-script.js';

/** One guard per connection, shared by the stores on it: one `INFO memory` per process. */
const guards = new WeakMap<RedisCommander, EvictionGuard>();

/**
 * The accounts, sessions and counters of Kura's stores: an `allkeys-*` policy could evict an account or a session's
 * ending that was acknowledged, so every call is refused under one (`RedisSessionStore.ping` reports it too).
 */
const STORE_REACTION = {
  refusal: (policy: string) => `Redis's maxmemory-policy is ${policy}, which may evict accounts and sessions: set it to noeviction (or a volatile-* policy)`,
};

/**
 * What every Redis store is made of: its keys under the prefix, and a way in whose every command has a deadline and,
 * unless the store guards itself ({@link guardsItsOwnEviction}), is refused under an `allkeys-*` eviction policy.
 */
export abstract class RedisStoreBase {
  protected readonly keys: RedisKeys;
  protected readonly redis: RedisCommander;
  /** The connection's eviction guard, unless the store guards itself: what else reads `INFO` hands it over. */
  protected readonly sharedEviction: EvictionGuard | undefined;
  private readonly connection: RedisCommander;
  private readonly prefix: string;

  /** @param redis a connected client (`connectRedis`, `createRedisClient`), shared and closed by you */
  constructor(redis: RedisCommander, options: RedisStoreOptions = {}) {
    this.keys = redisKeys(options.keyPrefix);
    const bounded = withDeadline(redis, options.commandTimeoutMs ?? 1000);
    if (this.guardsItsOwnEviction()) {
      this.redis = bounded;
    } else {
      let guard = guards.get(redis);
      if (!guard) guards.set(redis, (guard = new EvictionGuard(bounded, STORE_REACTION)));
      this.redis = guardedByEviction(bounded, guard);
      this.sharedEviction = guard;
    }
    this.connection = redis;
    this.prefix = options.keyPrefix ?? 'kura:';
  }

  /** Whether this store reads Redis's eviction policy itself (KuraStore's, whose reads do not wait for it). */
  protected guardsItsOwnEviction(): boolean {
    return false;
  }

  /** Whether `other` keeps its keys on the same connection under the same prefix (so one script may read both). */
  protected sharesKeysWith(other: unknown): boolean {
    return other instanceof RedisStoreBase && other.connection === this.connection && other.prefix === this.prefix;
  }
}
