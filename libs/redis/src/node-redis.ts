import type { RedisConnectionOptions, RedisTlsOptions } from './redis-client.js';
import { noteConnectFailure } from './redis-errors.js';

/**
 * node-redis, as the clients Kura makes use it. Internal: no declaration the package exports names a node-redis
 * type, so an app on ioredis type-checks without node-redis installed.
 */
export type NodeRedis = typeof import('redis');
export type NodeRedisClient = ReturnType<NodeRedis['createClient']>;

/** Where Kura looks for Redis when no URL is given. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

let nodeRedis: Promise<NodeRedis> | undefined;
/**
 * node-redis, an optional peer, loaded by the first client Kura makes (`connectRedis`, `createRedisClient`), never at
 * import: an app that hands the stores its own ioredis client neither installs nor loads it. Measured, importing
 * this package took 22-30 ms and left the process at 51 MiB resident; with node-redis loaded too, 161-200 ms and
 * 72 MiB. The rejection handler on the import itself also tells a bundler (esbuild) that the package may be missing.
 */
export const loadNodeRedis = (): Promise<NodeRedis> =>
  (nodeRedis ??= import('redis').then(exportsOf, (error: unknown) => {
    nodeRedis = undefined;
    throw new Error('@kura/redis: connectRedis and createRedisClient need node-redis: npm install redis (or give the stores your own ioredis client with fromIoredis)', { cause: error });
  }));

/**
 * node-redis's exports from its module namespace. node-redis is CommonJS: Node gives its exports by name and as
 * `default`, but a bundle (esbuild, as Kura's image and Lambda are built) gives them as `default` only.
 */
function exportsOf(loaded: NodeRedis): NodeRedis {
  return typeof loaded.createClient === 'function' ? loaded : (loaded as unknown as { default: NodeRedis }).default;
}

/**
 * The fail-fast settings of every node-redis client Kura makes (one server, each node of a cluster, each master a
 * sentinel names), with the URL's user, password and TLS spelled out for the clients that take no URL.
 * @throws Error when the options contradict each other (checked before anything loads or connects)
 */
export function redisClientDefaults(options: RedisConnectionOptions) {
  const url = options.url ?? DEFAULT_REDIS_URL;
  const parsed = new URL(url);
  // node-redis refuses these when it connects, and connecting in the background swallowed that: open() resolved,
  // and every call was refused as "not connected" for good, with no reason (an outside review: http://, /abc).
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error(`Redis: the URL's scheme is ${parsed.protocol}//, not redis:// (or rediss:// for TLS)`);
  }
  if (databaseOf(parsed) === undefined) throw new Error(`Redis: the URL's path ${parsed.pathname} is no database number (redis://host:6379/0)`);
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

/** The database a URL names (`/2`), 0 where it names none, undefined where its path is no database number. */
export function databaseOf(url: URL): number | undefined {
  if (url.pathname === '' || url.pathname === '/') return 0;
  const number = /^\/(\d{1,5})\/?$/.exec(url.pathname)?.[1];
  return number === undefined ? undefined : Number(number);
}

/** Only the TLS settings this package offers: nothing that could turn certificate checks off. */
function pickTls(tls: RedisTlsOptions | undefined): RedisTlsOptions {
  if (!tls) return {};
  return { ...(tls.ca ? { ca: tls.ca } : {}), ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}) };
}

/**
 * A node-redis client with Kura's fail-fast settings (`redisClientDefaults`), its connection failures noted on
 * `owner` (the client itself, or the connection the stores are given) instead of crashing the process.
 */
export function newClient(redis: NodeRedis, options: RedisConnectionOptions, owner?: object): NodeRedisClient {
  const { url, RESP, commandOptions, disableOfflineQueue, socket } = redisClientDefaults(options);
  const client = redis.createClient({ url, RESP, commandOptions, disableOfflineQueue, socket });
  watchConnectFailures(client, owner ?? client, url);
  return client as unknown as NodeRedisClient;
}

/**
 * Handles a node-redis client's (or cluster's, or sentinel's) `error` events, which would otherwise crash the
 * process, by remembering the latest as why `owner` is not connected, until the client is ready again.
 */
export function watchConnectFailures(emitter: { on(event: string, listener: (...args: any[]) => void): unknown }, owner: object, url: string): void {
  const overTls = new URL(url).protocol === 'rediss:';
  // Whether the connection the next error ends was up: its close is then not a failed attempt.
  let up = false;
  emitter.on('error', (error: unknown) => {
    noteConnectFailure(owner, error, overTls, up);
    up = false;
  });
  emitter.on('ready', () => {
    up = true;
    noteConnectFailure(owner, undefined);
  });
}
