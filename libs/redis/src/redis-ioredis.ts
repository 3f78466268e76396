import calculateSlot from 'cluster-key-slot';
import type { RedisCommandLog } from './redis-command-log.js';
import { durableWrites, followingRedirections, type PipelinedPair } from './redis-durable.js';
import { firstKeyOf } from './redis-connection.js';
import { noteConnectFailure } from './redis-errors.js';
import type { RedisCommander } from './redis-script.js';

/**
 * What Kura uses of an ioredis `Redis` or `Cluster` (v5 or v6), declared by its shape: this package imports
 * nothing from ioredis, so an app on node-redis installs none. (An app on ioredis still gets node-redis, this
 * package's peer, installed and loaded; its stores then talk through the app's ioredis client alone.)
 */
export interface IoredisClient {
  call(command: string, ...args: string[]): Promise<unknown>;
  pipeline(): IoredisPipeline;
  on(event: 'error' | 'ready' | '+node', listener: (...args: any[]) => void): unknown;
  /** `true` on a `Cluster`. */
  readonly isCluster: boolean;
  /** A cluster's masters, or all its nodes (`Cluster#nodes`); absent on a single node. */
  nodes?(role: 'master' | 'all'): IoredisClient[];
  /** A cluster's slot map: for each slot, the `host:port` of its master, then of its replicas (`Cluster#slots`). */
  readonly slots?: readonly (readonly string[] | undefined)[];
  /** Sends `ASKING` (a cluster node's; ioredis sends it before a command an `ASK` redirected). */
  asking?(): Promise<unknown>;
  /** The client's settings (a `Cluster` keeps its nodes' in `redisOptions`; a cluster node's are its address). */
  readonly options?: {
    host?: string;
    port?: number;
    autoResendUnfulfilledCommands?: boolean;
    scaleReads?: unknown;
    /** The sentinels a client behind Sentinel asks for its master. */
    sentinels?: readonly unknown[] | null;
    redisOptions?: { autoResendUnfulfilledCommands?: boolean };
    /** A `Cluster`'s map from the addresses nodes announce to the ones it reaches them at. */
    natMap?: Record<string, { host: string; port: number }> | ((address: string) => { host: string; port: number } | null);
  };
}

/** An ioredis pipeline: commands queued, then sent together on one connection. */
export interface IoredisPipeline {
  call(command: string, ...args: string[]): IoredisPipeline;
  exec(): Promise<[error: Error | null, result: unknown][] | null>;
}

export interface IoredisCommanderOptions {
  /**
   * Writes that must survive a failover (login, logout, revocation, password change, registration) are followed
   * by `WAIT replicas timeoutMs` on the same connection; fewer acknowledgements fail the write with
   * `StoreUnavailableError` (retrying it is safe). A WAIT holds up every command behind it on its connection
   * until the replicas answer: give `connections` of their own for these writes (`[client.duplicate(), ...]`),
   * or they share the client's. `{ replicas: 0, timeoutMs: 0 }` turns WAIT off.
   * @default behind Sentinel (a client made with `sentinels`), `{ replicas: 1, timeoutMs: 500 }` on the client's
   * connection, as `connectRedis` does (even a planned failover undid acknowledged logouts without it); elsewhere none
   */
  waitForReplicas?: { replicas: number; timeoutMs: number; connections?: readonly IoredisClient[] };
  /** Counts every command the stores send and its round trip (for metrics), as with `connectRedis`. */
  commandLog?: RedisCommandLog;
}

/**
 * Kura's Redis stores on an ioredis client of your own (`Redis`, or `Cluster` for Redis Cluster; Sentinel and
 * TLS are the client's own settings): `new RedisSessionStore(fromIoredis(redis))`, and the same for every store.
 * The client stays yours to connect and to `quit()`.
 *
 * Each store bounds every command by its own deadline (`commandTimeoutMs`), whatever the client's settings. For
 * a Redis outage to fail requests at once instead of queueing them until the deadline, make the client with
 * `enableOfflineQueue: false` (ioredis queues commands while disconnected by default, and sends them when it
 * reconnects), and `autoResendUnfulfilledCommands: false` (by default ioredis sends again, once reconnected, the
 * commands in flight when the connection dropped, so a write may be made after its request failed: a
 * `KuraRedisWarning` says so, once per client). Replies may come in RESP2 or RESP3 (ioredis 6's default): the stores read both.
 */
export function fromIoredis(client: IoredisClient, options: IoredisCommanderOptions = {}): RedisCommander {
  warnOfWeakSettings(client);
  const log = options.commandLog;
  const counted = (send: (args: string[]) => Promise<unknown>) => (log ? (args: string[]) => log.time(args, () => send(args)) : send);
  const commander: RedisCommander = { sendCommand: counted(sender(client)) };
  // Why the client cannot connect, for the stores' errors (and, handled, no "Unhandled error event" lines).
  client.on('error', (error: unknown) => noteConnectFailure(commander, error));
  client.on('ready', () => noteConnectFailure(commander, undefined));
  const wait = options.waitForReplicas ?? (client.options?.sentinels?.length ? { replicas: 1, timeoutMs: 500 } : undefined);
  handleAskingReplies(client);
  if (wait && wait.replicas > 0) {
    const lanes = wait.connections?.length ? wait.connections : [client];
    lanes.forEach(handleAskingReplies);
    commander.sendDurable = counted(durableWrites(lanes.map(laneOf), wait.replicas, wait.timeoutMs));
    Object.assign(commander, { replicasToWait: wait.replicas });
  }
  if (client.isCluster && client.nodes) {
    const nodes = client.nodes.bind(client);
    commander.masters = () => nodes('master').map((master) => ({ sendCommand: sender(master) }));
  }
  return commander;
}

const guarded = new WeakSet<IoredisClient>();
/**
 * ioredis (5, and 6 up to 6.1.0 at least) sends `ASKING` ahead of a command an `ASK` redirected and never handles its
 * reply. When the connection to the node the slot moves to drops with it in flight, that reply's "Connection is
 * closed." is an unhandled rejection, and Node ends the process: a refresh of the slots drops the connection to any
 * master that serves no slot yet, which a new shard is while its first slot moves there, in an online scale-out
 * (`redis-cli --cluster reshard`, ElastiCache's online resharding; 3 of 8 such runs ended a plain ioredis app, see
 * the README). The command itself is refused or retried by ioredis as usual (a refusal is a 503 to the stores). So
 * on each node of a `Cluster` given to the stores, now and as ioredis adds them (`+node`), the reply to `ASKING` is
 * handled; nothing else about the client changes. Written here because no ioredis release handles it
 * (test/redis-cluster-scaleout fails on an unhandled rejection without it).
 */
function handleAskingReplies(client: IoredisClient): void {
  if (!client.isCluster || !client.nodes || guarded.has(client)) return;
  guarded.add(client);
  const guard = (node: IoredisClient) => {
    const asking = node.asking;
    if (guarded.has(node) || typeof asking !== 'function') return;
    guarded.add(node);
    node.asking = function (this: IoredisClient, ...args: []) {
      const reply = asking.apply(this, args);
      reply.catch(() => undefined);
      return reply;
    };
  };
  client.nodes('all').forEach(guard);
  client.on('+node', guard);
}

const warned = new WeakSet<IoredisClient>();
/**
 * Once per client, the settings that weaken what the stores promise: resending in-flight commands after a
 * reconnect (ioredis's default), and a Cluster reading from replicas (`scaleReads` other than 'master'), where a
 * session read may miss a logout the master has acknowledged.
 */
function warnOfWeakSettings(client: IoredisClient): void {
  if (warned.has(client)) return;
  warned.add(client);
  const settings = client.isCluster ? client.options?.redisOptions : client.options;
  if (settings?.autoResendUnfulfilledCommands !== false) {
    process.emitWarning(
      'this ioredis client sends again, after a reconnect, the commands that were in flight when its connection dropped: a session write may then be made after its request failed. Make it with autoResendUnfulfilledCommands: false (and enableOfflineQueue: false).',
      { type: 'KuraRedisWarning', code: 'KURA_IOREDIS_RESENDS' },
    );
  }
  const scaleReads = client.isCluster ? (client.options?.scaleReads ?? 'master') : 'master';
  if (scaleReads !== 'master') {
    process.emitWarning(
      `this ioredis Cluster reads from replicas (scaleReads: ${JSON.stringify(scaleReads)}): a session read there may not see a logout or revocation the master has acknowledged yet. Leave scaleReads at 'master' for Kura's stores.`,
      { type: 'KuraRedisWarning', code: 'KURA_IOREDIS_REPLICA_READS' },
    );
  }
}

/** One raw command, as the stores send it: `['HGETALL', key]` becomes `call('HGETALL', key)`. */
function sender(client: IoredisClient): (args: string[]) => Promise<unknown> {
  return (args) => client.call(args[0]!, ...args.slice(1));
}

/**
 * The pair on `lane`. On a cluster, pipelined on ioredis's own connection to the master its slot map names for the
 * write's key, not through the `Cluster`: since 6.1.0, a `Cluster`'s pipeline sends a write that a node redirects
 * (`ASK` while its slot moves) again on its own, to the node the redirection names, while the WAIT behind it still
 * runs where the pipeline went and counts that node's replicas: a write no replica of its new owner has would be
 * acknowledged (what test/redis-cluster-reshard and test/redis-cluster-scaleout caught when ioredis 6.1.0 came). On
 * one node's connection ioredis resends nothing, and the redirections are followed here, the write always with its
 * WAIT (see followingRedirections).
 */
function laneOf(lane: IoredisClient): PipelinedPair {
  if (!lane.isCluster || !lane.nodes) return pipelined(lane, []);
  const relearn = (args: string[]) => lane.call('EXISTS', firstKeyOf(args)!);
  return followingRedirections({
    async routed(args, then) {
      const key = firstKeyOf(args)!;
      // A slot the map does not name a master for yet (the cluster still connecting): a read of the key through
      // ioredis's own routing connects it, or fails as its commands do (offline, not ready).
      // Nor one whose connection ioredis has ended (a master that failed): it leaves the pool at once, while the map
      // still names it until ioredis refreshes it, which that read has it do.
      const master = ownerOf(lane, key) ?? (await relearn(args), ownerOf(lane, key));
      if (!master) throw new Error(`Redis Cluster: this ioredis client knows no master for the slot of ${key}`);
      return pipelined(master, [])(args, then);
    },
    asking(address) {
      // The redirection names the address the node announces; ioredis knows each node by the one its natMap gives.
      const natMap = lane.options?.natMap;
      const mapped = typeof natMap === 'function' ? natMap(address) : natMap?.[address];
      const master = nodeAt(lane, mapped ? `${mapped.host}:${mapped.port}` : address);
      return master && pipelined(master, [['ASKING']]);
    },
    relearn,
  });
}

/** ioredis's connection to the master its slot map names for `key` (`slots[slot][0]`, a `host:port`), if it has one. */
function ownerOf(cluster: IoredisClient, key: string): IoredisClient | undefined {
  const address = cluster.slots?.[calculateSlot(key)]?.[0];
  return address === undefined ? undefined : nodeAt(cluster, address);
}

/** ioredis's connection to the master it reaches at `address` (`host:port`). */
function nodeAt(cluster: IoredisClient, address: string): IoredisClient | undefined {
  return cluster.nodes!('master').find((node) => `${node.options?.host}:${node.options?.port}` === address);
}

/**
 * `before`, `args`, then `then`, in one pipeline on `client`: one connection, in order (on a cluster, a node's: see
 * laneOf). The replies of `args` and `then`.
 */
function pipelined(client: IoredisClient, before: string[][]): PipelinedPair {
  return async (args, then) => {
    let pipeline = client.pipeline();
    for (const command of [...before, args, then]) pipeline = pipeline.call(command[0]!, ...command.slice(1));
    const replies = await pipeline.exec();
    if (!replies) throw new Error('The client is offline (reconnecting)');
    const failed = replies.find(([error]) => error);
    if (failed) throw failed[0];
    return [replies.at(-2)![1], replies.at(-1)![1]];
  };
}
