import { createClient, type RedisClientType } from 'redis';

export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. @default 'redis://127.0.0.1:6379' */
  url?: string;
  /**
   * Not a client setting: each store bounds every command's whole round trip with its own `commandTimeoutMs`
   * (default 1000). node-redis's own command timeout is left off on purpose: it only covers commands still
   * waiting to be written and, measured, cuts a client's throughput by about two thirds (a timer and an abort
   * signal per command).
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
  const { url, disableOfflineQueue, socket } = redisClientDefaults(options);
  const client = createClient({ url, disableOfflineQueue, socket });
  // node-redis emits connection failures as 'error' events; unhandled, they would crash the process. The
  // commands that fail meanwhile carry the error to their callers as StoreUnavailableError.
  client.on('error', () => undefined);
  return client as unknown as RedisClientType;
}

/**
 * The fail-fast settings of every node-redis client Kura makes (one server, each node of a cluster, each master a
 * sentinel names), with the URL's user, password and TLS spelled out for the clients that take no URL.
 */
export function redisClientDefaults(options: RedisConnectionOptions) {
  const url = options.url ?? 'redis://127.0.0.1:6379';
  const parsed = new URL(url);
  const maxDelay = options.maxReconnectDelayMs ?? 2000;
  return {
    url,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    disableOfflineQueue: true,
    socket: {
      ...(parsed.protocol === 'rediss:' ? { tls: true as const } : {}),
      connectTimeout: options.connectTimeoutMs ?? 2000,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 10), maxDelay),
    },
  };
}
