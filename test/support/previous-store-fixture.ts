import type { ConnectSessionStore } from '@kura/common';
import { createRedisClient, type RedisClient, RedisConnectSessionStore } from '@kura/redis';
import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import { type RedisServer, startRedisServer } from './redis-server.js';

/**
 * For KuraStore's `migrateFrom` specs: connect-redis (the previous store, as old replicas run it) on a redis-server
 * of its own, and KuraStore's Redis adapter on another, started before the file's tests and stopped after.
 */
export interface PreviousAndKura {
  readonly previousServer: RedisServer;
  readonly previousClient: ReturnType<typeof createClient>;
  /** connect-redis, configured as its README says. */
  readonly previous: RedisStore;
  readonly adapter: RedisConnectSessionStore;
  /** The client under `adapter`, to look at what KuraStore wrote (a key's time to live). */
  readonly kuraClient: RedisClient;
  /** What connect-redis holds under `sid`, parsed; `null` for nothing. */
  held(sid: string): Promise<Record<string, unknown> | null>;
}

export function previousAndKuraOnRedis(): PreviousAndKura {
  const servers: RedisServer[] = [];
  let previousClient: ReturnType<typeof createClient>;
  let kuraClient: RedisClient;
  const fixture = {} as { -readonly [K in keyof PreviousAndKura]: PreviousAndKura[K] };
  beforeAll(async () => {
    servers.push(...(await Promise.all([startRedisServer(), startRedisServer()])));
    previousClient = createClient({ url: servers[0]!.url });
    await previousClient.connect();
    kuraClient = await createRedisClient({ url: servers[1]!.url });
    await kuraClient.connect();
    Object.assign(fixture, {
      previousServer: servers[0]!,
      previousClient,
      previous: new RedisStore({ client: previousClient }),
      adapter: new RedisConnectSessionStore(kuraClient),
      kuraClient,
    });
  });
  afterAll(async () => {
    previousClient?.destroy();
    kuraClient?.destroy();
    await Promise.all(servers.map((server) => server.stop()));
  });
  fixture.held = async (sid) => {
    const raw = await previousClient.get(`sess:${sid}`);
    return raw === null ? null : (JSON.parse(raw) as Record<string, unknown>);
  };
  return fixture;
}

/**
 * `adapter` with its calls of `method` held: each one says it was reached (`reached`), then waits for `release()`
 * before it goes through. Every other call goes through at once.
 */
export function holding<M extends keyof ConnectSessionStore>(adapter: ConnectSessionStore, method: M): { adapter: ConnectSessionStore; reached: Promise<void>; release(): void } {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let reach!: () => void;
  const reached = new Promise<void>((resolve) => (reach = resolve));
  const held = Object.fromEntries(
    METHODS.map((name) => [
      name,
      async (...args: unknown[]) => {
        if (name === method) {
          reach();
          await released;
        }
        return (adapter[name] as (...a: unknown[]) => unknown).apply(adapter, args);
      },
    ]),
  ) as unknown as ConnectSessionStore;
  return { adapter: held, reached, release };
}
const METHODS = ['read', 'replace', 'update', 'delete', 'addToUserIndex', 'userIndex', 'removeFromUserIndex', 'noteIndexed'] as const satisfies readonly (keyof ConnectSessionStore)[];
