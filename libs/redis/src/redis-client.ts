import { createClient, type RedisClientType } from 'redis';

export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. @default 'redis://127.0.0.1:6379' */
  url?: string;
  /**
   * How long a command sent through `connectRedis` may wait for its answer (ms), the whole round trip; the
   * stores put their own `commandTimeoutMs` on each command too. Not node-redis's own command timeout: that one
   * only covers commands still waiting to be written and, measured, cuts a client's throughput by about two
   * thirds (a timer and an abort signal per command). @default 1000
   */
  commandTimeoutMs?: number;
  /** How long connecting may take (ms). @default 2000 */
  connectTimeoutMs?: number;
  /** The longest pause between reconnection attempts (ms); the client keeps trying in the background. @default 2000 */
  maxReconnectDelayMs?: number;
}

/**
 * A node-redis client configured so that a Redis outage surfaces at once as `StoreUnavailableError` instead of
 * hanging requests: no offline queue (commands sent while disconnected fail immediately), a bounded connect
 * time (the stores and `connectRedis` put a deadline on each command's round trip), and reconnection in the
 * background with capped backoff. Call
 * `await client.connect()` before use and `client.close()` (or `destroy()`) on shutdown.
 */
export function createRedisClient(options: RedisConnectionOptions = {}): RedisClientType {
  const maxDelay = options.maxReconnectDelayMs ?? 2000;
  const client = createClient({
    url: options.url ?? 'redis://127.0.0.1:6379',
    disableOfflineQueue: true,
    socket: {
      connectTimeout: options.connectTimeoutMs ?? 2000,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 10), maxDelay),
    },
  });
  // node-redis emits connection failures as 'error' events; unhandled, they would crash the process. The
  // commands that fail meanwhile carry the error to their callers as StoreUnavailableError.
  client.on('error', () => undefined);
  return client as unknown as RedisClientType;
}
