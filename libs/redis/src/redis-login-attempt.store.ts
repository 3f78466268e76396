import type { LoginAttemptStore } from '@kura/common';
import { storeUnavailable } from './redis-errors.js';
import { RedisScript } from './redis-script.js';
import { RedisStoreBase } from './redis-store.base.js';

/**
 * Adds an attempt while the counter holds fewer than the bound (or already holds it: a retry), and keeps the
 * counter at least until the expiry. KEYS: counter. ARGV: attempt, bound, expiry (epoch ms). 1 admitted, 0 full.
 */
const RESERVE = new RedisScript(`
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then
  if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
  redis.call('SADD', KEYS[1], ARGV[1])
end
if redis.call('PEXPIRETIME', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIREAT', KEYS[1], ARGV[3]) end
return 1`);

/** Failed-login counters in Redis: a set of attempt ids per counter, bounded atomically by a script. */
export class RedisLoginAttemptStore extends RedisStoreBase implements LoginAttemptStore {
  async counts(keys: readonly string[]): Promise<number[]> {
    try {
      // One SCARD per key (each counter may live in its own cluster slot); node-redis pipelines them.
      const replies = await Promise.all(keys.map((key) => this.redis.sendCommand(['SCARD', this.keys.attempts(key)])));
      return replies.map(Number);
    } catch (error) {
      throw storeUnavailable('loginAttempts.counts', error);
    }
  }

  async reserve(key: string, attempt: string, below: number, expiresAt: number): Promise<boolean> {
    try {
      return Number(await RESERVE.run(this.redis, [this.keys.attempts(key)], [attempt, below, expiresAt])) === 1;
    } catch (error) {
      throw storeUnavailable('loginAttempts.reserve', error);
    }
  }

  async release(key: string, attempt: string): Promise<void> {
    try {
      await this.redis.sendCommand(['SREM', this.keys.attempts(key), attempt]);
    } catch (error) {
      throw storeUnavailable('loginAttempts.release', error);
    }
  }

  async clear(keys: readonly string[]): Promise<void> {
    try {
      await Promise.all(keys.map((key) => this.redis.sendCommand(['UNLINK', this.keys.attempts(key)])));
    } catch (error) {
      throw storeUnavailable('loginAttempts.clear', error);
    }
  }
}
