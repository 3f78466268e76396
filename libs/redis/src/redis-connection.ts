import { type RedisCommander, withDeadline } from './redis-script.js';
import { createRedisClient, type RedisConnectionOptions } from './redis-client.js';

/**
 * A live connection to Redis for Kura's stores: commands go through `sendCommand` (the stores' only way in),
 * `open` starts connecting and `close` ends it. Connecting happens in the background and never blocks a
 * request: until Redis answers (or while it is away) every command fails at once, and the stores turn that into
 * `StoreUnavailableError` (a 503 with `Retry-After`), so a process can start before Redis and serve as soon as
 * Redis appears, without a restart.
 */
export interface RedisConnection extends RedisCommander {
  /** Starts connecting, retrying with capped backoff until `close`; resolves once connected the first time. */
  open(): Promise<void>;
  /** Ends the connection (commands in flight get their answers first). Idempotent. */
  close(): Promise<void>;
  /** Where it connects, for logs: no credentials. */
  readonly description: string;
}

/** A {@link RedisConnection} to one Redis server (or a primary behind one address) given by `options.url`. */
export function connectRedis(options: RedisConnectionOptions = {}): RedisConnection {
  const client = createRedisClient(options);
  let opening: Promise<void> | undefined;
  let closed = false;
  return {
    description: describeRedisUrl(options.url ?? 'redis://127.0.0.1:6379'),
    sendCommand: withDeadline(client, options.commandTimeoutMs ?? 1000).sendCommand,
    open() {
      opening ??= client.connect().then(
        () => undefined,
        // connect() rejects only when the client is closed while connecting: nothing left to wait for.
        () => undefined,
      );
      return opening;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (client.isOpen) await client.close().catch(() => client.destroy());
      else client.destroy();
    },
  };
}

/** `redis://user:***@host:port/db` → `redis://host:port/db` (TLS kept visible as `rediss://`): safe to log. */
export function describeRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return 'redis (unparseable URL)';
  }
}
