import { EmailTakenError, type UserRecord, type UserStore } from '@kura/common';
import { storeUnavailable } from './redis-errors.js';
import { hashOf } from './redis-hash.js';
import { REASSERT, RedisScript } from './redis-script.js';
import { RedisStoreBase } from './redis-store.base.js';

/**
 * Writes the account unless the email already has one; returns the id of the account that is there now (this
 * one, or the one that was there first). Its own retry writes the id again, so the WAIT after it covers the first
 * attempt; an email taken by another account writes nothing. KEYS: user. ARGV: 'id', the id, then field, value, ...
 */
const INSERT = new RedisScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], unpack(ARGV))
elseif redis.call('HGET', KEYS[1], 'id') == ARGV[2] then
  ${REASSERT("'id', ARGV[2]")}
end
return redis.call('HGET', KEYS[1], 'id')`);

/**
 * Replaces the password hash only if it is still the expected one, raising the credential version by one.
 * A retry that meets its own first attempt finds the new hash there and reports the version it made.
 * KEYS: user. ARGV: expected hash, new hash. Returns the credential version, or -1 (nothing written).
 */
const REPLACE_PASSWORD = new RedisScript(`
local current = redis.call('HGET', KEYS[1], 'passwordHash')
if current == ARGV[2] then
  ${REASSERT("'passwordHash', current")}
  return tonumber(redis.call('HGET', KEYS[1], 'credentialVersion') or '0')
end
if current ~= ARGV[1] then return -1 end
redis.call('HSET', KEYS[1], 'passwordHash', ARGV[2])
return redis.call('HINCRBY', KEYS[1], 'credentialVersion', 1)`);

/**
 * Replaces the password hash by another of the same password if it is still the expected one, leaving the
 * credential version as it is. A retry that meets its own first attempt finds the new hash there.
 * KEYS: user. ARGV: expected hash, new hash. Returns 1 when the new hash is there, 0 (nothing written) otherwise.
 */
const REHASH_PASSWORD = new RedisScript(`
local current = redis.call('HGET', KEYS[1], 'passwordHash')
if current == ARGV[2] then return 1 end
if current ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'passwordHash', ARGV[2])
return 1`);

/**
 * Deletes the account if its hash is still the expected one; an account gone already counts as deleted.
 * KEYS: user. ARGV: expected hash. Returns 1 when no account is left, 0 when one with another hash is. A retry
 * that finds it gone writes nothing, so its WAIT may confirm before the first attempt's deletion reached a
 * replica: an account that a failover brings back still holds the deletion's mark, which no password matches,
 * and the next deletion removes it.
 */
const REMOVE = new RedisScript(`
local current = redis.call('HGET', KEYS[1], 'passwordHash')
if current and current ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1`);

/**
 * Accounts in Redis, one hash per normalised email, with no expiry: keys without a TTL are never evicted under
 * a `noeviction` or `volatile-*` policy (`RedisSessionStore.ping` refuses an `allkeys-*` one), and they are as
 * durable as the server's persistence (AOF with `appendfsync everysec` loses at most a second on a crash).
 * Uniqueness of an email is the key itself; each write is one script on one key, and every write is safe to retry.
 * Every write (a new account, a password change, a deletion) is durable (`sendDurable`): WAIT for replicas when configured;
 * a hash upgraded at a login (`rehashPassword`: the same password) is not.
 */
export class RedisUserStore extends RedisStoreBase implements UserStore {
  async insert(user: UserRecord): Promise<void> {
    const fields = [
      ['id', user.id],
      ['email', user.email],
      ['name', JSON.stringify(user.name)],
      ['passwordHash', user.passwordHash],
      ['createdAt', String(user.createdAt)],
      ['credentialVersion', String(user.credentialVersion ?? 0)],
    ].flat();
    let owner: unknown;
    try {
      owner = await INSERT.run(this.redis, [this.keys.user(user.email)], fields, true);
    } catch (error) {
      throw storeUnavailable('user.insert', error);
    }
    // Another id there: the email was taken. The same id: this insert's own retry met its first attempt.
    if (owner !== user.id) throw new EmailTakenError();
  }

  async findByEmail(email: string): Promise<UserRecord | undefined> {
    let reply: unknown;
    try {
      reply = await this.redis.sendCommand(['HGETALL', this.keys.user(email)]);
    } catch (error) {
      throw storeUnavailable('user.findByEmail', error);
    }
    const hash = hashOf(reply);
    if (hash.id === undefined || hash.email === undefined || hash.passwordHash === undefined) return undefined;
    return {
      id: hash.id,
      email: hash.email,
      name: JSON.parse(hash.name ?? 'null') as string | null,
      passwordHash: hash.passwordHash,
      createdAt: Number(hash.createdAt),
      credentialVersion: Number(hash.credentialVersion ?? 0),
    };
  }

  async replacePasswordHash(email: string, expectedHash: string, newHash: string): Promise<number | undefined> {
    let version: unknown;
    try {
      version = await REPLACE_PASSWORD.run(this.redis, [this.keys.user(email)], [expectedHash, newHash], true);
    } catch (error) {
      throw storeUnavailable('user.replacePasswordHash', error);
    }
    return Number(version) < 0 ? undefined : Number(version);
  }

  /**
   * Not durable (no WAIT): a failover that loses it brings back the older hash of the same password, which the next
   * login upgrades again; a login should not wait on replicas for it.
   */
  async rehashPassword(email: string, expectedHash: string, newHash: string): Promise<boolean> {
    try {
      return Number(await REHASH_PASSWORD.run(this.redis, [this.keys.user(email)], [expectedHash, newHash], false)) === 1;
    } catch (error) {
      throw storeUnavailable('user.rehashPassword', error);
    }
  }

  async remove(email: string, expectedHash: string): Promise<boolean> {
    try {
      return Number(await REMOVE.run(this.redis, [this.keys.user(email)], [expectedHash], true)) === 1;
    } catch (error) {
      throw storeUnavailable('user.remove', error);
    }
  }
}
