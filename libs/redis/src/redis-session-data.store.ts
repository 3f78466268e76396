import { randomBytes } from 'node:crypto';
import type { SessionData, SessionDataStore } from '@kura/common';
import { storeUnavailable } from './redis-errors.js';
import { RedisScript } from './redis-script.js';
import { RedisStoreBase } from './redis-store.base.js';

/**
 * Writes the document only on the version read, leaving the write's id in the slot of the version it makes.
 * KEYS: data. ARGV: expected version, JSON, expiry (epoch ms), write id, its slot (`w0`..`w3`). Returns 1 when
 * written, or when this very write was made already (a command sent again: ioredis resends what was in flight
 * when a connection dropped), 0 when the stored version moved on.
 */
const WRITE = new RedisScript(`
local version = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if version ~= tonumber(ARGV[1]) then
  if redis.call('HGET', KEYS[1], ARGV[5]) == ARGV[4] then return 1 end
  return 0
end
redis.call('HSET', KEYS[1], 'd', ARGV[2], 'v', version + 1, ARGV[5], ARGV[4])
if redis.call('PEXPIRETIME', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIREAT', KEYS[1], ARGV[3]) end
return 1`);

/**
 * Keeps a document at least until the expiry, an absent one created empty at version 0 (which WRITE takes as the
 * version it finds, keeping the longer expiry). KEYS: data. ARGV: expiry (epoch ms).
 */
const RETAIN = new RedisScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('HSET', KEYS[1], 'd', '{}', 'v', 0) end
if redis.call('PEXPIRETIME', KEYS[1]) < tonumber(ARGV[1]) then redis.call('PEXPIREAT', KEYS[1], ARGV[1]) end
return 1`);

/** How many of the latest writes a document remembers the ids of. */
const WRITE_SLOTS = 4;

/**
 * Session documents in Redis: a hash per document (`d` JSON, `v` version, and the ids of the latest writes),
 * written optimistically by version.
 */
export class RedisSessionDataStore extends RedisStoreBase implements SessionDataStore {
  async read(sessionId: string): Promise<SessionData> {
    let reply: unknown;
    try {
      reply = await this.redis.sendCommand(['HMGET', this.keys.data(sessionId), 'd', 'v']);
    } catch (error) {
      throw storeUnavailable('sessionData.read', error);
    }
    return sessionDataOf(reply);
  }

  async write(sessionId: string, data: Record<string, unknown>, expectedVersion: number, expiresAt: number): Promise<boolean> {
    try {
      const writeId = randomBytes(12).toString('base64url');
      const slot = `w${(expectedVersion + 1) % WRITE_SLOTS}`;
      const written = await WRITE.run(this.redis, [this.keys.data(sessionId)], [expectedVersion, JSON.stringify(data), expiresAt, writeId, slot]);
      return Number(written) === 1;
    } catch (error) {
      throw storeUnavailable('sessionData.write', error);
    }
  }

  async retain(sessionId: string, expiresAt: number): Promise<void> {
    try {
      await RETAIN.run(this.redis, [this.keys.data(sessionId)], [expiresAt]);
    } catch (error) {
      throw storeUnavailable('sessionData.retain', error);
    }
  }
}

/** The data an `HMGET <document> d v` reply holds (`{}` at version 0 when there is none). */
export function sessionDataOf(reply: unknown): SessionData {
  const [data, version] = reply as [string | null, string | null];
  if (data === null || version === null) return { data: {}, version: 0 };
  return { data: JSON.parse(data) as Record<string, unknown>, version: Number(version) };
}
