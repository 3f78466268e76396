import { randomBytes } from 'node:crypto';
import { freshTables, kuraEnv } from './engine.js';
import { type RedisServer, redisRunsPossible, startRedisServer } from './redis-server.js';

/** A shared store the cross-process suites run on: the environment that points Kura at fresh, empty state on it. */
export interface Backend {
  readonly name: string;
  /** Kura's environment for a fresh, isolated namespace on this store (new tables, or a new Redis key prefix). */
  env(extra?: Record<string, string>): Promise<Record<string, string>>;
}

const dynamoDbLocal: Backend = {
  name: 'DynamoDB Local',
  env: async (extra = {}) => kuraEnv(await freshTables(), undefined, extra),
};

/** One redis-server per test file, started on first use and stopped after the file's last test. */
let redis: Promise<RedisServer> | undefined;
afterAll(async () => {
  await (await redis)?.stop();
  redis = undefined;
});

const redisBackend: Backend = {
  name: 'Redis',
  async env(extra = {}) {
    redis ??= startRedisServer();
    const server = await redis;
    return {
      KURA_STORE: 'redis',
      REDIS_URL: server.url,
      KURA_REDIS_KEY_PREFIX: `t${randomBytes(4).toString('hex')}:`,
      KURA_PASSWORD_HASH_COST: '12',
      KURA_LOG_LEVEL: 'warn',
      ...extra,
    };
  },
};

/** Every shared store Kura runs on (Redis where `redis-server` is installed, as `.ci/run` installs it). */
export const BACKENDS: readonly Backend[] = redisRunsPossible('the runs on Redis') ? [dynamoDbLocal, redisBackend] : [dynamoDbLocal];
