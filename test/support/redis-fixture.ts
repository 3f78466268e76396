import { RedisLoginAttemptStore, RedisSessionDataStore, RedisSessionStore, RedisUserStore, type RedisCommander } from '@kura/redis';
import type { StoreUnderTest } from '../contracts/session-store.contract.js';
import { createRedisClient, type RedisClient } from '../../libs/redis/src/redis-client.js';
import { type RedisServer, startRedisServer } from './redis-server.js';

/**
 * Inside a `describe`: a redis-server of its own and a client connected to it, started before the block's tests
 * and stopped after them. Read them through the getters once the tests run.
 */
export function redisServerWithClient(): { readonly server: RedisServer; readonly client: RedisClient } {
  let server: RedisServer | undefined;
  let client: RedisClient | undefined;
  beforeAll(async () => {
    server = await startRedisServer();
    client = await createRedisClient({ url: server.url });
    await client.connect();
  });
  afterAll(async () => {
    client?.destroy();
    await server?.stop();
  });
  return {
    get server() {
      return server!;
    },
    get client() {
      return client!;
    },
  };
}

/** Kura's four Redis stores on one client or connection, as the store contract takes them. */
export function redisStores(redis: RedisCommander): StoreUnderTest {
  return {
    sessions: new RedisSessionStore(redis),
    data: new RedisSessionDataStore(redis),
    attempts: new RedisLoginAttemptStore(redis),
    users: new RedisUserStore(redis),
  };
}
