import { randomBytes } from 'node:crypto';
import { freshTables, kuraEnv } from './engine.js';
import { FLAVOUR_NAMES, possibleFlavours, type RedisFlavour, type RedisServer, startRedisServer } from './redis-server.js';

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

/** One server per flavour per test file, started on first use and stopped after the file's last test. */
const servers = new Map<RedisFlavour, Promise<RedisServer>>();
afterAll(async () => {
  for (const server of servers.values()) await (await server).stop();
  servers.clear();
});

function redisBackend(flavour: RedisFlavour): Backend {
  return {
    name: FLAVOUR_NAMES[flavour],
    async env(extra = {}) {
      if (!servers.has(flavour)) servers.set(flavour, startRedisServer({ flavour }));
      const server = await servers.get(flavour)!;
      return {
        KURA_STORE: 'redis',
        REDIS_URL: server.url,
        KURA_REDIS_KEY_PREFIX: `t${randomBytes(4).toString('hex')}:`,
        KURA_PASSWORD_HASH_COST: '12',
        KURA_REGISTRATION_MAX_PER_CLIENT: '10000',
        KURA_LOG_LEVEL: 'warn',
        KURA_AUDIT_LOG: 'false',
        ...extra,
      };
    },
  };
}

/**
 * Every shared store Kura runs on: DynamoDB Local, Redis where `redis-server` is installed and Valkey where
 * `valkey-server` is (`.ci/run` installs both).
 */
export const BACKENDS: readonly Backend[] = [
  dynamoDbLocal,
  ...possibleFlavours((name) => `the runs on ${name}`).map(({ flavour }) => redisBackend(flavour)),
];
