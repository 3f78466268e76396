// The KuraStore both Kura-store systems run (express-session's and @fastify/session's): on DynamoDB, or with REDIS_URL
// on Redis through @kura/redis's RedisConnectSessionStore, with its table or keys ready.
import { KuraStore } from '../../../dist/libs/connect/src/index.js';
import { connectRedis, RedisConnectSessionStore } from '../../../dist/libs/redis/src/index.js';
import { client, redisUrl, settings } from './common.mjs';

export async function kuraStore() {
  let store;
  if (redisUrl) {
    const redis = connectRedis({ url: redisUrl });
    await redis.open();
    store = new KuraStore({ adapter: new RedisConnectSessionStore(redis) });
  } else {
    store = new KuraStore({ client, tableName: settings.kuraStoreTable });
  }
  await store.ensureTable();
  return store;
}
