import { redisCli, until } from './redis-cluster.js';
import { type ReplicationLink, startReplicationLink } from './replication-link.js';
import { type RedisFlavour, startRedisServer, type RedisServer } from './redis-server.js';

export interface RedisSentinelSetup {
  readonly masterName: string;
  /** The master at start: SIGKILL its `pid` to make the sentinels fail over. */
  readonly master: RedisServer;
  readonly replica: RedisServer;
  /** The replica's link to the master (see {@link ReplicationLink}). */
  readonly link: ReplicationLink;
  readonly sentinels: readonly RedisServer[];
  /** The sentinels' addresses, for the client. */
  readonly sentinelNodes: readonly { host: string; port: number }[];
  /** The port the sentinels name as master right now. */
  currentMasterPort(): Promise<number>;
  /** Stops every process and removes their dirs; calling it again is harmless. */
  stop(): Promise<void>;
}

/**
 * A master and one replica (both append-only, `appendfsync everysec`) and three `redis-sentinel`s watching the
 * master (quorum 2, down after `downAfterMs`), all on free loopback ports with their own dirs; resolves once the
 * replica is in sync and every sentinel knows the replica and the other two sentinels.
 */
export async function startRedisSentinels(
  options: {
    masterName?: string;
    downAfterMs?: number;
    /** Replicate through a {@link ReplicationLink} (the sentinels then refuse a manual SENTINEL FAILOVER: the replica names the relay as its master). @default true */
    relay?: boolean;
    /** Redis's servers and sentinels, or Valkey's. @default 'redis' */
    flavour?: RedisFlavour;
  } = {},
): Promise<RedisSentinelSetup> {
  const { flavour } = options;
  const masterName = options.masterName ?? 'mymaster';
  const downAfterMs = options.downAfterMs ?? 1000;
  const servers: { stop(): Promise<void> }[] = [];
  const stop = async () => {
    await Promise.all(servers.map((server) => server.stop()));
  };
  try {
    const durable = ['--appendonly', 'yes', '--appendfsync', 'everysec'];
    const master = await startRedisServer({ args: durable, flavour });
    servers.push(master);
    const link = await startReplicationLink(master.port);
    servers.push({ stop: () => link.close() });
    const replica = await startRedisServer({ flavour, args: [...durable, '--replicaof', '127.0.0.1', String(options.relay === false ? master.port : link.port)] });
    servers.push(replica);
    await until('the replica to sync', async () => (await redisCli(replica.port, 'INFO', 'replication')).includes('master_link_status:up'));
    const sentinels = await startSentinels({ masterName, masterPort: master.port, downAfterMs, flavour }, (sentinel) => servers.push(sentinel));
    return {
      masterName,
      master,
      replica,
      link,
      sentinels,
      sentinelNodes: sentinels.map((sentinel) => ({ host: '127.0.0.1', port: sentinel.port })),
      async currentMasterPort() {
        const reply = await redisCli(sentinels[0]!.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName);
        return Number(reply.trim().split('\n')[1]);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Three `redis-sentinel`s watching the master at `masterPort` (quorum 2, down after `downAfterMs`, 1000 by default),
 * and `config` lines of their own (TLS, credentials: `config(index)` for each); resolves once each knows one replica and the other two.
 * `started` gets each one as it starts, so that a caller can stop them all whatever happens after.
 */
export async function startSentinels(
  options: { masterName: string; masterPort: number; downAfterMs?: number; config?: (index: number) => Promise<string[]> | string[]; flavour?: RedisFlavour },
  started: (sentinel: RedisServer) => void,
): Promise<RedisServer[]> {
  const { masterName } = options;
  const sentinels: RedisServer[] = [];
  for (let index = 0; index < 3; index += 1) {
    const own = (await options.config?.(index)) ?? [];
    const sentinel = await startRedisServer({
      program: 'sentinel',
      flavour: options.flavour,
      config: () =>
        [
          `sentinel monitor ${masterName} 127.0.0.1 ${options.masterPort} 2`,
          `sentinel down-after-milliseconds ${masterName} ${options.downAfterMs ?? 1000}`,
          // Also how long the sentinels leave a replica that names another master (a relay) before pointing it at
          // the master directly (+fix-slave-config), which would take the relay out of the path: 30 s outlasts a test.
          `sentinel failover-timeout ${masterName} 30000`,
          `sentinel parallel-syncs ${masterName} 1`,
          // After the monitor line, which the master's own directives (auth-user, ...) refer to.
          ...own,
          '',
        ].join('\n'),
    });
    started(sentinel);
    sentinels.push(sentinel);
  }
  for (const sentinel of sentinels) {
    await until(`sentinel ${sentinel.port} to see the replica and two other sentinels`, async () => {
      const fields = (await redisCli(sentinel.port, 'SENTINEL', 'MASTER', masterName)).split('\n');
      const field = (name: string) => fields[fields.indexOf(name) + 1];
      return field('num-slaves') === '1' && field('num-other-sentinels') === '2';
    });
  }
  return sentinels;
}
