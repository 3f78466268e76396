import { randomBytes } from 'node:crypto';
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
  /** An old replica's save (express-session or @fastify/session on connect-redis): an unconditional SET. */
  oldSave(sid: string, session: object): Promise<unknown>;
  /** An old replica's login: `session` saved under a fresh session id, which it resolves to. */
  oldLogin(session: object): Promise<string>;
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
  fixture.oldSave = (sid, session) => fixture.previous.set(sid, session as never);
  fixture.oldLogin = async (session) => {
    const sid = randomBytes(18).toString('base64url');
    await fixture.oldSave(sid, session);
    return sid;
  };
  return fixture;
}
