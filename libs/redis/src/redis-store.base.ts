import { redisKeys, type RedisKeys, type RedisStoreOptions } from './redis-keys.js';
import { type RedisCommander, withDeadline } from './redis-script.js';

/** What every Redis store is made of: its keys under the prefix, and a way in whose every command has a deadline. */
export abstract class RedisStoreBase {
  protected readonly keys: RedisKeys;
  protected readonly redis: RedisCommander;
  private readonly connection: RedisCommander;
  private readonly prefix: string;

  /** @param redis a connected client (`connectRedis`, `createRedisClient`), shared and closed by you */
  constructor(redis: RedisCommander, options: RedisStoreOptions = {}) {
    this.keys = redisKeys(options.keyPrefix);
    this.redis = withDeadline(redis, options.commandTimeoutMs ?? 1000);
    this.connection = redis;
    this.prefix = options.keyPrefix ?? 'kura:';
  }

  /** Whether `other` keeps its keys on the same connection under the same prefix (so one script may read both). */
  protected sharesKeysWith(other: unknown): boolean {
    return other instanceof RedisStoreBase && other.connection === this.connection && other.prefix === this.prefix;
  }
}
