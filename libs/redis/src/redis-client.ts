import { loadNodeRedis, newClient } from './node-redis.js';
import type { RedisCommander } from './redis-script.js';

/**
 * Each option may be given as `undefined`, read as absent (its default), so that a setting taken from the environment
 * (`url: process.env.REDIS_URL`) type-checks under `exactOptionalPropertyTypes`.
 */
export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. @default 'redis://127.0.0.1:6379' */
  url?: string | undefined;
  /**
   * Not a client setting: each store bounds every command's whole round trip with its own `commandTimeoutMs`
   * (default 1000). node-redis's own command timeout is left off on purpose: it only covers commands still
   * waiting to be written and, measured, cuts a client's throughput by about two thirds (a timer and an abort
   * signal per command). `connectRedis` also gives a close this long for the replies in flight, then cuts the
   * connection.
   */
  commandTimeoutMs?: number | undefined;
  /** How long connecting may take (ms). @default 2000 */
  connectTimeoutMs?: number | undefined;
  /** The longest pause between reconnection attempts (ms); the client keeps trying in the background. @default 2000 */
  maxReconnectDelayMs?: number | undefined;
  /**
   * With a `rediss://` URL: the certificate authorities to trust (PEM) instead of Node's own list, and a client
   * certificate and its key (PEM) for a server that asks for one (Redis's `tls-auth-clients yes`, its default).
   * The server's certificate is always verified, and must name the URL's host.
   */
  tls?: RedisTlsOptions | undefined;
}

/** PEM texts (or buffers) for a TLS connection to Redis. */
export interface RedisTlsOptions {
  ca?: string | Buffer | (string | Buffer)[];
  cert?: string | Buffer;
  key?: string | Buffer;
}

/**
 * The node-redis client `createRedisClient` makes, typed as the stores and a shutdown use it, so that this package's
 * types never name node-redis's (an app on ioredis has none). It is node-redis's `RedisClientType` (cast to
 * `RedisClientType` from 'redis' for the rest of its API).
 */
export interface RedisClient extends RedisCommander {
  /** Connects; rejects if the first attempt fails (the client keeps retrying in the background). */
  connect(): Promise<unknown>;
  /** Waits for the replies in flight, then ends the connection. */
  close(): Promise<void>;
  /** Ends the connection at once; commands in flight fail. */
  destroy(): void;
  readonly isOpen: boolean;
  readonly isReady: boolean;
  on(event: string, listener: (...args: any[]) => void): this;
}

/**
 * A node-redis client configured so that a Redis outage surfaces at once as `StoreUnavailableError` instead of
 * hanging requests: no offline queue (commands sent while disconnected fail immediately), a bounded connect
 * time (the stores and `connectRedis` put a deadline on each command's round trip), and reconnection in the
 * background with capped backoff. Its connection failures are handled (unhandled, node-redis's `error` events
 * would end the process); commands refused meanwhile reach the stores' callers as `StoreUnavailableError`, saying
 * why the last attempt failed. Resolves once node-redis has loaded (an optional peer: `npm install redis`); call
 * `await client.connect()` before use and `client.close()` (or `destroy()`) on shutdown. Rejects when node-redis is
 * not installed (saying `npm install redis`), or when the options contradict each other.
 */
export async function createRedisClient(options: RedisConnectionOptions = {}): Promise<RedisClient> {
  return newClient(await loadNodeRedis(), options) as unknown as RedisClient;
}
