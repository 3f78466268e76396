import { databaseOf, DEFAULT_REDIS_URL, loadNodeRedis, newClient, type NodeRedis, type NodeRedisClient, redisClientDefaults, watchConnectFailures } from './node-redis.js';
import type { RedisCommander } from './redis-script.js';
import type { RedisConnectionOptions } from './redis-client.js';
import type { RedisCommandLog } from './redis-command-log.js';
import { durableWrites, followingRedirections } from './redis-durable.js';
import { noteConnectFailure } from './redis-errors.js';

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

/** Where Redis is: one server (the default), a Redis Cluster, or a master found through Sentinel. */
export interface RedisTopologyOptions extends RedisConnectionOptions {
  /**
   * A Redis Cluster: `url` is a seed node (its user, password and TLS apply to every node); each command goes to
   * the master owning its first key, keyless ones (PING, INFO) to any master, and `masters()` reaches each one.
   */
  cluster?: boolean | undefined;
  /**
   * Sentinels to ask where the master of `masterName` is; commands follow the master after a failover. Only the
   * user, password and TLS of `url` are used (for the data nodes).
   */
  sentinels?: readonly { host: string; port: number }[] | undefined;
  /** The master's name in the sentinels' configuration. @default 'mymaster' */
  masterName?: string | undefined;
  /**
   * Writes that must survive a failover (login, logout, revocation, password change, registration) are followed
   * by `WAIT replicas timeoutMs` on a connection of their own (WAIT blocks its connection and counts only its
   * writes); fewer acknowledgements than `replicas` fail the write with `StoreUnavailableError`. A WAIT holds up
   * everything behind it on its connection until the replicas answer, so durable writes spread over `connections`
   * of their own (each takes the next durable write when it has the fewest in flight).
   * @default with `sentinels`, `{ replicas: 1, timeoutMs: 500 }` (`replicas: 0` turns it off); otherwise no WAIT;
   * `connections` 4
   */
  waitForReplicas?: { replicas: number; timeoutMs: number; connections?: number | undefined } | undefined;
  /** Counts every command and its round trip (for metrics). */
  commandLog?: RedisCommandLog | undefined;
}

/** One way of reaching Redis (a client, a cluster, a sentinel-backed master), as the connection drives it. */
interface RedisLink {
  send(args: string[]): Promise<unknown>;
  /** `args`, then `then`, pipelined on the same connection (the one that owns `args`' first key). */
  sendThen(args: string[], then: string[]): Promise<[unknown, unknown]>;
  /** A commander per master (a cluster's); absent on a single node. */
  masters?(): RedisCommander[];
  connect(): Promise<unknown>;
  close(): Promise<void>;
}

/** Commands without a key: on a cluster they go to any master. */
const KEYLESS = new Set(['PING', 'INFO', 'SCAN', 'WAIT', 'SCRIPT', 'DBSIZE', 'FLUSHALL', 'FLUSHDB', 'TIME', 'ROLE', 'CONFIG', 'CLIENT', 'CLUSTER']);

/** The key a command is routed by: EVAL/EVALSHA's first key (when it has any), else its first argument. */
export function firstKeyOf(args: readonly string[]): string | undefined {
  const name = args[0]?.toUpperCase() ?? '';
  if (name === 'EVALSHA' || name === 'EVAL' || name === 'FCALL') return Number(args[2]) > 0 ? args[3] : undefined;
  return KEYLESS.has(name) ? undefined : args[1];
}

/**
 * Whether `work` succeeded within `ms` (`false` if it failed or took longer). Closing waits this long at most for
 * the replies in flight: node-redis's own `close` waits until every command sent has its reply, so a Redis that
 * stopped answering (paused, partitioned) would otherwise hold a shutdown until the process is killed.
 */
async function within(ms: number, work: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
  const settled = await Promise.race([work.then(() => true, () => false), late]);
  clearTimeout(timer);
  return settled;
}

/**
 * Cuts a cluster's or sentinel's connections after a close that failed or did not finish in time. node-redis
 * fails the commands still waiting, then may refuse to destroy sockets its `close` already marked as closing.
 */
function forceClosed(destroy: () => void): void {
  try {
    destroy();
  } catch {
    // Closing already: the sockets end when Redis answers or the process exits.
  }
}

/** How long a close waits for replies in flight: no longer than a command may take anyway. */
const closeTimeoutOf = (options: RedisConnectionOptions) => options.commandTimeoutMs ?? 1000;

/** A command sent while the client is away: fails at once (a pipeline would otherwise wait for the reconnect). */
function offline(): Error {
  return new Error('The client is offline (reconnecting)');
}

/** Whether Redis refused a command as a replica does a write (READONLY), alone or inside a pipeline's replies. */
function readOnlyRefusal(error: unknown): boolean {
  const replies = (error as { replies?: unknown[] } | undefined)?.replies;
  return [error, ...(Array.isArray(replies) ? replies : [])].some((reply) => reply instanceof Error && reply.message.startsWith('READONLY'));
}

/**
 * One server at one address. When it answers a write READONLY, the address may have moved to a new primary while
 * this connection stayed on the demoted one: a managed service's primary endpoint is a DNS name it points at the
 * new primary on failover (ElastiCache, MemoryDB, Azure Cache), and a Kubernetes Service follows its selector. A
 * connection that outlives the move was refused every write until the process restarted (an outside review,
 * 2026-12-07: 32 s of 503s and the same connection before and after). So a READONLY makes a new connection, which
 * resolves the name again, and once it is ready commands go to it and the old one is closed; at most one attempt
 * per reconnect delay (2 s by default): a URL that names a replica for good makes a connection every 2 s while
 * writes come (each durable-write link its own), not one per write, and its reason says so.
 */
function singleLink(redis: NodeRedis, options: RedisConnectionOptions, owner: object): RedisLink {
  let client = newClient(redis, options, owner);
  let replacement: NodeRedisClient | undefined;
  let lastReplacedAt = 0;
  let closed = false;
  const replaceAfterReadOnly = (error: unknown): never => {
    if (readOnlyRefusal(error) && !replacement && !closed && Date.now() - lastReplacedAt >= (options.maxReconnectDelayMs ?? 2000)) {
      lastReplacedAt = Date.now();
      const next = (replacement = newClient(redis, options, owner));
      next.connect().then(
        () => {
          replacement = undefined;
          if (closed) return void next.destroy();
          const previous = client;
          client = next;
          void closeClient(previous);
        },
        () => undefined, // rejected only when destroyed meanwhile (close)
      );
    }
    throw error;
  };
  const closeClient = async (old: NodeRedisClient) => {
    if (!old.isOpen) return old.destroy();
    // Replies come in order: once a PING sent now is answered, so is every command sent before it. Then the
    // connection is cut (a Redis that stopped answering gets the command timeout, no more).
    await within(closeTimeoutOf(options), old.isReady ? old.sendCommand(['PING']) : Promise.resolve());
    old.destroy();
  };
  return {
    send: (args) => client.sendCommand(args).catch(replaceAfterReadOnly),
    async sendThen(args, then) {
      if (!client.isReady) throw offline();
      return (await client.multi().addCommand(args).addCommand(then).execAsPipeline().catch(replaceAfterReadOnly)) as [unknown, unknown];
    },
    connect: () => client.connect(),
    async close() {
      closed = true;
      replacement?.destroy();
      await closeClient(client);
    },
  };
}

function clusterLink(redis: NodeRedis, options: RedisTopologyOptions, owner: object): RedisLink {
  const { url, ...defaults } = redisClientDefaults(options);
  const seed = new URL(url);
  const cluster = redis.createCluster({
    // A cluster hands its own protocol and command options to every node's client, whatever `defaults` say.
    RESP: defaults.RESP,
    commandOptions: defaults.commandOptions,
    rootNodes: [{ socket: { host: seed.hostname, port: Number(seed.port || 6379) } }],
    defaults,
    // A node that stops answering is dropped from the slot map and found again by the next command.
    maxCommandRedirections: 4,
  });
  watchConnectFailures(cluster, owner, url);
  return {
    send: (args) => cluster.sendCommand(firstKeyOf(args), false, args),
    sendThen: followingRedirections({
      async routed(args, then) {
        const key = firstKeyOf(args);
        return (await cluster.multi(key).addCommand(key, false, args).addCommand(key, false, then).execAsPipeline()) as [unknown, unknown];
      },
      asking(address) {
        const master = cluster.masters.find((node) => node.address === address);
        return (
          master &&
          (async (args, then) => {
            const client = await cluster.nodeClient(master);
            const [, reply, thenReply] = await client.multi().addCommand(['ASKING']).addCommand(args).addCommand(then).execAsPipeline();
            return [reply, thenReply];
          })
        );
      },
      relearn: (args) => cluster.sendCommand(firstKeyOf(args), false, ['EXISTS', firstKeyOf(args)!]),
    }),
    masters: () =>
      cluster.masters.map((master) => ({
        sendCommand: async (args: string[]) => (await cluster.nodeClient(master)).sendCommand(args),
      })),
    connect: () => cluster.connect(),
    async close() {
      if (await within(closeTimeoutOf(options), cluster.close())) return;
      forceClosed(() => cluster.destroy());
    },
  };
}

function sentinelLink(redis: NodeRedis, options: RedisTopologyOptions, owner: object): RedisLink {
  const { url, RESP, commandOptions, ...nodeClientOptions } = redisClientDefaults(options);
  const sentinel = redis.createSentinel({
    // A sentinel client's protocol and command options are its own, not its nodes' (node-redis v6).
    RESP,
    commandOptions,
    name: options.masterName ?? 'mymaster',
    sentinelRootNodes: options.sentinels!.map(({ host, port }) => ({ host, port })),
    nodeClientOptions,
    // The sentinels themselves: plain TCP without credentials (the URL's user, password and TLS are the data nodes').
    sentinelClientOptions: { socket: { connectTimeout: nodeClientOptions.socket.connectTimeout } },
    // READONLY (a demoted master) or a lost connection makes the client ask the sentinels again, a few times.
    maxCommandRediscovers: 4,
    // The sentinels' pub/sub announces a failover; this also catches one announced while disconnected.
    scanInterval: 1000,
  });
  watchConnectFailures(sentinel, owner, url);
  // A node's failure to connect (the master refusing the URL's password) comes as `client-error`, not `error`: with
  // `error` alone, a wrong password behind Sentinel was "not connected" with no reason (an outside review).
  const overTls = new URL(url).protocol === 'rediss:';
  sentinel.on('client-error', (event: { error?: unknown }) => noteConnectFailure(owner, event?.error, overTls));
  return {
    send: (args) => sentinel.sendCommand(false, args),
    async sendThen(args, then) {
      if (!sentinel.isReady) throw offline();
      return (await sentinel.multi().addCommand(false, args).addCommand(false, then).execAsPipeline()) as [unknown, unknown];
    },
    connect: () => sentinel.connect(),
    async close() {
      if (await within(closeTimeoutOf(options), sentinel.close())) return;
      forceClosed(() => sentinel.destroy());
    },
  };
}

/**
 * A link that (re)connects in the background: a cluster or sentinel client that could not connect at first is
 * thrown away and made again after a pause, until `close`. Meanwhile commands fail at once.
 */
function backgroundLink(make: () => RedisLink, retryMs: number, owner: object): RedisLink {
  let link: RedisLink | undefined;
  let closed = false;
  const current = () => {
    if (!link) throw offline();
    return link;
  };
  let opened: Promise<void> | undefined;
  const connect = async () => {
    while (!closed) {
      const candidate = make();
      try {
        await candidate.connect();
        if (closed) await candidate.close();
        else link = candidate;
        noteConnectFailure(owner, undefined);
        return;
      } catch (error) {
        noteConnectFailure(owner, error);
        await candidate.close().catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, retryMs).unref());
      }
    }
  };
  return {
    send: async (args) => current().send(args),
    sendThen: async (args, then) => current().sendThen(args, then),
    masters: () => current().masters?.() ?? [],
    connect: () => (opened ??= connect()),
    async close() {
      closed = true;
      await link?.close();
    },
  };
}

/** The link `options` describe; its connect failures are noted on `owner` (the connection the stores are given). */
function linkFor(redis: NodeRedis, options: RedisTopologyOptions, owner: object): RedisLink {
  if (options.cluster) return backgroundLink(() => clusterLink(redis, options, owner), options.maxReconnectDelayMs ?? 2000, owner);
  if (options.sentinels) return backgroundLink(() => sentinelLink(redis, options, owner), options.maxReconnectDelayMs ?? 2000, owner);
  return singleLink(redis, options, owner);
}

/**
 * A link made once node-redis has loaded (by `connect`): until then every command fails at once, as while
 * disconnected. A command is handed straight to the link once there is one (no extra promise on the way).
 */
function lazyLink(make: (redis: NodeRedis) => RedisLink): RedisLink {
  let link: RedisLink | undefined;
  let made: Promise<RedisLink> | undefined;
  let closed = false;
  return {
    send: (args) => (link ? link.send(args) : Promise.reject(offline())),
    sendThen: (args, then) => (link ? link.sendThen(args, then) : Promise.reject(offline())),
    masters: () => link?.masters?.() ?? [],
    async connect() {
      made ??= loadNodeRedis().then((redis) => (link = make(redis)));
      const ready = await made;
      if (!closed) await ready.connect();
    },
    async close() {
      closed = true;
      await link?.close();
    },
  };
}

/**
 * A {@link RedisConnection} to one Redis server (or a primary behind one address) given by `options.url`, to a
 * Redis Cluster (`cluster`), or to the master the `sentinels` name. With `waitForReplicas`, a few more connections
 * of the same kind carry the durable writes (`sendDurable`), each followed by WAIT.
 */
export function connectRedis(options: RedisTopologyOptions = {}): RedisConnection {
  // Made first, filled in below: the links note why they could not connect on it, for the stores' errors.
  const connection = {} as RedisConnection;
  // Checked now, before node-redis loads: options that contradict each other fail the call, not a later open().
  if (options.cluster && options.sentinels) throw new Error('Redis: choose Cluster or Sentinel, not both');
  redisClientDefaults(options);
  // A database number is used by a single server only: a Cluster has database 0 alone, and of a Sentinel setup's URL
  // only the user, password and TLS are used. Ignored, it put apps kept apart by database into one keyspace, where
  // each app's sessionsOf and destroySessionsOf reach the other's users (an outside review).
  const database = databaseOf(new URL(options.url ?? DEFAULT_REDIS_URL));
  if ((options.cluster || options.sentinels) && database !== 0) {
    throw new Error(`Redis: the URL names database ${database}, which ${options.cluster ? 'a Redis Cluster does not have (database 0 only)' : 'is not used with Sentinel (only the URL\'s user, password and TLS are)'}: take it out, and keep apps apart by keyPrefix`);
  }
  const make = () => lazyLink((redis) => linkFor(redis, options, connection));
  const shared = make();
  const replicas = replicasToWaitFor(options);
  const waitMs = options.waitForReplicas?.timeoutMs ?? 500;
  const durable = replicas > 0 ? Array.from({ length: Math.max(1, options.waitForReplicas?.connections ?? 4) }, make) : [];
  let opening: Promise<void> | undefined;
  let closed = false;
  const connect = (link: RedisLink) =>
    link.connect().then(
      () => undefined,
      // connect() rejects only when the client is closed while connecting: nothing left to wait for.
      () => undefined,
    );
  const log = options.commandLog;
  // Only with replicas to wait for: a store tells by its presence whether a write can be confirmed (RedisCommander).
  const durableSend = durable.length === 0 ? undefined : durableWrites(durable.map((link) => (args, then) => link.sendThen(args, then)), replicas, waitMs);
  return Object.assign<RedisConnection, RedisConnection>(connection, {
    description: describeRedis(options),
    sendCommand: log ? (args) => log.time(args, () => shared.send(args)) : (args) => shared.send(args),
    ...(durableSend ? { sendDurable: log ? (args: string[]) => log.time(args, () => durableSend(args)) : durableSend, replicasToWait: replicas } : {}),
    ...(options.cluster ? { masters: () => shared.masters!() } : {}),
    open() {
      // Rejects only when node-redis is missing (saying what to install); a Redis that does not answer yet does not.
      opening ??= loadNodeRedis().then(async () => {
        await Promise.all([shared, ...durable].map(connect));
      });
      return opening;
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([shared, ...durable].map((link) => link.close()));
    },
  });
}

/**
 * How many replicas a durable write waits for: `waitForReplicas.replicas` when given (0 turns WAIT off), else 1 behind
 * Sentinel, whose failovers (planned ones too: the old master takes writes until it is demoted) otherwise undo
 * acknowledged logouts, as an outside review measured (8 of 367 logouts back after one `SENTINEL FAILOVER`, 0 with
 * WAIT 1), and none on one server or a Cluster (whose replicas Kura cannot assume).
 */
function replicasToWaitFor(options: RedisTopologyOptions): number {
  return options.waitForReplicas?.replicas ?? (options.sentinels ? 1 : 0);
}

/** What a connection reaches, for logs: no credentials. */
export function describeRedis(options: RedisTopologyOptions): string {
  const url = describeRedisUrl(options.url ?? DEFAULT_REDIS_URL);
  const replicas = replicasToWaitFor(options);
  const wait = replicas ? `, durable writes wait for ${replicas} replica(s)` : '';
  if (options.cluster) return `Redis Cluster seeded by ${url}${wait}`;
  if (options.sentinels) {
    return `Redis master ${options.masterName ?? 'mymaster'} via sentinels ${options.sentinels.map(({ host, port }) => `${host}:${port}`).join(',')}${wait}`;
  }
  return `Redis at ${url}${wait}`;
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
