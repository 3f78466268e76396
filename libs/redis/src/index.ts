/**
 * @kura/redis — Kura's storage on Redis 7+ or Valkey, through node-redis (v5 or v6: `connectRedis`,
 * `createRedisClient`, which load it on first use) or an ioredis client of your own (v5 or v6: `fromIoredis`, with
 * no node-redis installed). The only lib that talks to a Redis client.
 */
export { createRedisClient, type RedisClient, type RedisConnectionOptions, type RedisTlsOptions } from './redis-client.js';
export { RedisCommandLog, type RedisCommandListener } from './redis-command-log.js';
export { connectRedis, describeRedis, describeRedisUrl, type RedisConnection, type RedisTopologyOptions } from './redis-connection.js';
export { RedisSessionStore, type RedisSessionStoreOptions } from './redis-session.store.js';
export { RedisSessionDataStore } from './redis-session-data.store.js';
export { RedisLoginAttemptStore } from './redis-login-attempt.store.js';
export { RedisUserStore } from './redis-user.store.js';
export { RedisConnectSessionStore } from './redis-connect-session.store.js';
export { fromIoredis, type IoredisClient, type IoredisCommanderOptions, type IoredisPipeline } from './redis-ioredis.js';
export { redisKeys, type RedisKeys, type RedisStoreOptions } from './redis-keys.js';
export type { RedisCommander } from './redis-script.js';
