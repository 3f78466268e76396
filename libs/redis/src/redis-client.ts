import { createClient, type RedisClientType } from 'redis';
import { noteConnectFailure } from './redis-errors.js';

/** Where Kura looks for Redis when no URL is given. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. @default 'redis://127.0.0.1:6379' */
  url?: string;
  /**
   * Not a client setting: each store bounds every command's whole round trip with its own `commandTimeoutMs`
   * (default 1000). node-redis's own command timeout is left off on purpose: it only covers commands still
   * waiting to be written and, measured, cuts a client's throughput by about two thirds (a timer and an abort
   * signal per command). `connectRedis` also gives a close this long for the replies in flight, then cuts the
   * connection.
   */
  commandTimeoutMs?: number;
  /** How long connecting may take (ms). @default 2000 */
  connectTimeoutMs?: number;
  /** The longest pause between reconnection attempts (ms); the client keeps trying in the background. @default 2000 */
  maxReconnectDelayMs?: number;
  /**
   * With a `rediss://` URL: the certificate authorities to trust (PEM) instead of Node's own list, and a client
   * certificate and its key (PEM) for a server that asks for one (Redis's `tls-auth-clients yes`, its default).
   * The server's certificate is always verified, and must name the URL's host.
   */
  tls?: RedisTlsOptions;
}

/** PEM texts (or buffers) for a TLS connection to Redis. */
export interface RedisTlsOptions {
  ca?: string | Buffer | (string | Buffer)[];
  cert?: string | Buffer;
  key?: string | Buffer;
}

/**
 * A node-redis client configured so that a Redis outage surfaces at once as `StoreUnavailableError` instead of
 * hanging requests: no offline queue (commands sent while disconnected fail immediately), a bounded connect
 * time (the stores and `connectRedis` put a deadline on each command's round trip), and reconnection in the
 * background with capped backoff. Call
 * `await client.connect()` before use and `client.close()` (or `destroy()`) on shutdown.
 */
export function createRedisClient(options: RedisConnectionOptions = {}): RedisClientType {
  const { url, RESP, commandOptions, disableOfflineQueue, socket } = redisClientDefaults(options);
  const client = createClient({ url, RESP, commandOptions, disableOfflineQueue, socket });
  // node-redis emits connection failures as 'error' events; unhandled, they would crash the process. The
  // commands refused meanwhile reach their callers as StoreUnavailableError, saying why the last attempt failed.
  watchConnectFailures(client, client, url);
  return client as unknown as RedisClientType;
}

/**
 * The fail-fast settings of every node-redis client Kura makes (one server, each node of a cluster, each master a
 * sentinel names), with the URL's user, password and TLS spelled out for the clients that take no URL.
 */
export function redisClientDefaults(options: RedisConnectionOptions) {
  const url = options.url ?? DEFAULT_REDIS_URL;
  const parsed = new URL(url);
  if (options.tls && parsed.protocol !== 'rediss:') throw new Error('Redis: TLS options need a rediss:// URL');
  if (Boolean(options.tls?.cert) !== Boolean(options.tls?.key)) throw new Error('Redis: a client certificate needs its key, and a key its certificate');
  const maxDelay = options.maxReconnectDelayMs ?? 2000;
  return {
    url,
    // The stores read RESP2 replies. node-redis v5 speaks RESP2 unless told otherwise, v6 RESP3: say it.
    RESP: 2 as const,
    // node-redis v6 puts a 5 s timeout on every command by default (v5: none); the stores bound each round trip
    // themselves (`commandTimeoutMs`), and a timer per command in the client cut its throughput (see README).
    commandOptions: { timeout: undefined },
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    disableOfflineQueue: true,
    socket: {
      ...(parsed.protocol === 'rediss:' ? { tls: true as const, ...pickTls(options.tls) } : {}),
      connectTimeout: options.connectTimeoutMs ?? 2000,
      // node-redis v5's default (v6 waits 30 s): an idle connection whose peer vanished is found as soon as before.
      keepAliveInitialDelay: 5000,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 10), maxDelay),
    },
  };
}

/** Only the TLS settings this package offers: nothing that could turn certificate checks off. */
function pickTls(tls: RedisTlsOptions | undefined): RedisTlsOptions {
  if (!tls) return {};
  return { ...(tls.ca ? { ca: tls.ca } : {}), ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}) };
}

/**
 * Handles a node-redis client's (or cluster's, or sentinel's) `error` events, which would otherwise crash the
 * process, by remembering the latest as why `owner` is not connected, until the client is ready again.
 */
export function watchConnectFailures(emitter: { on(event: string, listener: (...args: any[]) => void): unknown }, owner: object, url: string): void {
  const overTls = new URL(url).protocol === 'rediss:';
  emitter.on('error', (error: unknown) => noteConnectFailure(owner, error, overTls));
  emitter.on('ready', () => noteConnectFailure(owner, undefined));
}
