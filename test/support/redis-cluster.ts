import calculateSlot from 'cluster-key-slot';
import type { Cluster } from 'ioredis';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type RedisFlavour, startRedisServer, type RedisServer } from './redis-server.js';

const run = promisify(execFile);

/** One `redis-cli` command against a loopback port, its reply as text. */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 10_000 });
  return stdout;
}

/** Polls `check` every 100 ms until it holds, or fails with `what` after `ms`. */
export async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const giveUpAt = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > giveUpAt) throw new Error(`gave up after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface RedisClusterOptions {
  /** Each node's config file (a TLS port, ACL users), made anew per node: its text for the node's plain port. */
  config?: () => Promise<(port: number) => string>;
  /** redis-cli's arguments to create and watch the cluster on the plain ports (an ACL user that may). */
  cliArgs?: string[];
  /** Redis's servers, or Valkey's (redis-cli creates and watches either). @default 'redis' */
  flavour?: RedisFlavour;
  /** Replicas per master (each on a port of its own, in sync before this resolves). @default 0 */
  replicas?: number;
  /** More arguments for every node, after the cluster's own (`--cluster-announce-ip`, say). */
  args?: string[];
}

export interface RedisCluster {
  /** A seed URL (the first master's): the client discovers the others. */
  readonly url: string;
  readonly nodes: readonly RedisServer[];
  /** Stops every node and removes their dirs; calling it again is harmless. */
  stop(): Promise<void>;
}

/** The arguments that make a server a cluster node (its `nodes.conf` in its own dir; failed after 2 s of silence). */
export const CLUSTER_NODE_ARGS = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000'];

/**
 * A Redis Cluster of three masters (and `replicas` per master, none by default) on free loopback ports, each with
 * its own dir (and its `cluster-config-file` there), created by `redis-cli --cluster create` and awaited until every
 * node reports `cluster_state:ok` and every replica is in sync.
 */
export async function startRedisCluster(masters = 3, options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const nodes: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    const replicas = options.replicas ?? 0;
    for (let index = 0; index < masters * (1 + replicas); index += 1) {
      nodes.push(
        await startRedisServer({
          args: [...CLUSTER_NODE_ARGS, ...(options.args ?? [])],
          flavour: options.flavour,
          ...(options.config ? { config: await options.config() } : {}),
        }),
      );
    }
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
    const auth = options.cliArgs ?? [];
    await run('redis-cli', [...auth, '--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: 30_000 }).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`redis-cli --cluster create failed: ${error.stdout ?? ''}${error.stderr ?? ''}`.slice(0, 2000));
    });
    for (const node of nodes) {
      await until(`cluster_state:ok on ${node.port}`, async () => (await redisCli(node.port, ...auth, 'CLUSTER', 'INFO')).includes('cluster_state:ok'));
    }
    if (replicas > 0) {
      // Each master sees its replicas connected and in sync (a master's own count: the seed's gossip may lag).
      for (const node of nodes) {
        await until(`node ${node.port} to be a master with ${replicas} replica(s) in sync, or a replica in sync`, async () => {
          const replication = await redisCli(node.port, ...auth, 'INFO', 'replication');
          if (replication.includes('role:slave')) return replication.includes('master_link_status:up');
          return new RegExp(`connected_slaves:${replicas}\\b`).test(replication) && (replication.match(/state=online/g) ?? []).length === replicas;
        });
      }
      // And every node's view of the cluster says so (tests read it from any node): gossip carries a replica's
      // role a moment after its sync, and a sync is immediate (repl-diskless-sync-delay 0, startRedisServer).
      for (const node of nodes) {
        await until(`node ${node.port} to see ${masters} master(s) with ${replicas} replica(s) each`, async () => {
          const seen = await clusterNodes(node.port, auth);
          const masterIds = seen.filter((known) => known.role === 'master').map((known) => known.id);
          return masterIds.length === masters && masterIds.every((id) => seen.filter((known) => known.role === 'replica' && known.masterId === id).length === replicas);
        });
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: nodes[0]!.url, nodes, stop };
}

/** A shard added to a running cluster: a master serving no slot yet, and its replica. */
export interface AddedShard {
  /** The new master's node id. */
  readonly id: string;
  readonly master: RedisServer;
  readonly replica: RedisServer;
  /** Stops both nodes; calling it again is harmless. */
  stop(): Promise<void>;
}

/**
 * Scales `cluster` out as an operator does: a new master joined with `redis-cli --cluster add-node` (it serves no
 * slot until a reshard gives it some), then its replica (`--cluster-slave`), awaited until every node knows both
 * and the replica is in sync. `options` are the ones the cluster was started with.
 */
export async function addShard(cluster: RedisCluster, options: RedisClusterOptions = {}): Promise<AddedShard> {
  const start = async () => startRedisServer({ args: [...CLUSTER_NODE_ARGS, ...(options.args ?? [])], flavour: options.flavour, ...(options.config ? { config: await options.config() } : {}) });
  const added: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(added.map((node) => node.stop()));
  };
  const auth = options.cliArgs ?? [];
  const seed = `127.0.0.1:${cluster.nodes[0]!.port}`;
  const everyNodeKnows = async (id: string) => {
    for (const node of [...cluster.nodes, ...added]) {
      await until(`node ${node.port} to know ${id}`, async () => (await clusterNodes(node.port, auth)).some((known) => known.id === id));
    }
  };
  try {
    const master = await start();
    added.push(master);
    await run('redis-cli', [...auth, '--cluster', 'add-node', `127.0.0.1:${master.port}`, seed], { timeout: 30_000 });
    const id = (await redisCli(master.port, ...auth, 'CLUSTER', 'MYID')).trim();
    await everyNodeKnows(id);
    const replica = await start();
    added.push(replica);
    await run('redis-cli', [...auth, '--cluster', 'add-node', `127.0.0.1:${replica.port}`, seed, '--cluster-slave', '--cluster-master-id', id], { timeout: 30_000 });
    await everyNodeKnows((await redisCli(replica.port, ...auth, 'CLUSTER', 'MYID')).trim());
    await until(`the new master's replica to be in sync`, async () => {
      const replication = await redisCli(master.port, ...auth, 'INFO', 'replication');
      return /connected_slaves:1\b/.test(replication) && replication.includes('state=online');
    });
    return { id, master, replica, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** One node as `CLUSTER NODES` describes it. */
export interface ClusterNode {
  readonly id: string;
  readonly port: number;
  readonly role: 'master' | 'replica';
  /** A replica's master's id. */
  readonly masterId: string | undefined;
  /** How many hash slots it serves (a master's ranges, `first-last` or one slot each). */
  readonly slots: number;
  /** The slots it serves, as inclusive ranges. */
  readonly ranges: readonly (readonly [number, number])[];
}

/**
 * The cluster as the node on `port` sees it (`CLUSTER NODES`: id, address@bus-port, flags, master, ping, pong,
 * epoch, link state, then the slot ranges), failed nodes included.
 */
export async function clusterNodes(port: number, auth: string[] = []): Promise<ClusterNode[]> {
  return (await redisCli(port, ...auth, 'CLUSTER', 'NODES'))
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id, address, flags, master, , , , , ...ranges] = line.split(' ');
      return {
        id: id!,
        port: Number(/:(\d+)@/.exec(address!)?.[1]),
        role: flags!.split(',').includes('master') ? ('master' as const) : ('replica' as const),
        masterId: master === '-' ? undefined : master,
        // Slots in migration show as [slot->-node] or [slot-<-node]: not served by this one yet, not counted.
        ranges: ranges
          .filter((range) => !range.startsWith('['))
          .map((range) => {
            const [first, last = first] = range.split('-').map(Number);
            return [first!, last!] as const;
          }),
      };
    })
    .map((node) => ({ ...node, slots: node.ranges.reduce((total, [first, last]) => total + last - first + 1, 0) }));
}

/** The hash slot of `key` (its hash tag's, if it has one), as Redis computes it: the library `@kura/redis` uses. */
export const hashSlotOf = (key: string): number => calculateSlot(key);

/** `work` while `replica` stops acknowledging (paused), then until it has caught up with `master` again. */
export async function whilePaused<T>(replica: { pid: number }, master: { port: number }, work: () => Promise<T>): Promise<T> {
  process.kill(replica.pid, 'SIGSTOP');
  try {
    return await work();
  } finally {
    process.kill(replica.pid, 'SIGCONT');
    await until('the replica to catch up', async () => {
      const info = await redisCli(master.port, 'INFO', 'replication');
      return /,offset=(\d+)/.exec(info)?.[1] === /master_repl_offset:(\d+)/.exec(info)?.[1];
    });
  }
}

/**
 * Moves `slots` slots from master `from` to master `to` as an operator does, with `redis-cli --cluster reshard`
 * (MIGRATE, `pipeline` keys at a time), through the node at `seedPort`; resolves to how long the move took (ms).
 */
export async function reshard(seedPort: number, { from, to, slots, pipeline, timeoutMs }: { from: string; to: string; slots: number; pipeline: number; timeoutMs: number }): Promise<number> {
  const started = performance.now();
  await run('redis-cli', ['--cluster', 'reshard', `127.0.0.1:${seedPort}`, '--cluster-from', from, '--cluster-to', to, '--cluster-slots', String(slots), '--cluster-pipeline', String(pipeline), '--cluster-yes'], {
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  return Math.round(performance.now() - started);
}

/**
 * Connects as an app's start does. On a loaded machine (CI's, with other suites running) the first `CLUSTER SLOTS`
 * can outlast ioredis's `slotsRefreshTimeout` (1 s): `connect()` then rejects, "None of startup nodes is available",
 * and ioredis connects again by itself (its `clusterRetryStrategy`), as an app's client would; this waits for that
 * rather than failing a test of what happens after it connected. Given up on, the client is disconnected (else
 * its retries keep Jest from exiting).
 */
export async function connectedIoredis(cluster: Cluster): Promise<void> {
  const ready = new Promise<void>((resolve) => cluster.once('ready', () => resolve()));
  await cluster.connect().catch(async (error: unknown) => {
    if (!(error instanceof Error && error.message === 'None of startup nodes is available')) throw error;
    const waited = await Promise.race([ready.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 20_000).unref())]);
    if (!waited) {
      cluster.disconnect();
      throw error;
    }
  });
}
