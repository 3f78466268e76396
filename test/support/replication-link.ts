import { connect, createServer, type Socket } from 'node:net';
import { redisCli, until } from './redis-cluster.js';
import { type RedisFlavour, type RedisServer, startRedisServer } from './redis-server.js';

/**
 * A replica's link to its master, through a relay on loopback: `lag()` stops passing the master's stream to the
 * replica (the replica still looks connected, as on a congested or partitioned network), so writes the master
 * acknowledges from then on exist on the master only. Only replication connections lag (those that sent `PSYNC`):
 * where the relay's port is the address a cluster master announces, clients that learn it pass as before.
 */
export interface ReplicationLink {
  readonly port: number;
  lag(): void;
  close(): Promise<void>;
}

export async function startReplicationLink(masterPort: number): Promise<ReplicationLink> {
  let lagging = false;
  const sockets = new Set<Socket>();
  const server = createServer((replica) => {
    const master = connect(masterPort, '127.0.0.1');
    let replication = false;
    for (const socket of [replica, master]) {
      sockets.add(socket);
      // Without it, Nagle's algorithm and delayed ACKs would add ~40 ms to every WAIT the replica answers.
      socket.setNoDelay(true);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        replica.destroy();
        master.destroy();
      });
    }
    replica.on('data', (chunk: Buffer) => {
      // A replica's handshake (PING, REPLCONF, then PSYNC) comes in small writes of its own.
      if (!replication && chunk.includes('PSYNC')) replication = true;
      master.write(chunk);
    });
    master.on('data', (chunk) => {
      if (!(lagging && replication)) replica.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    lag: () => {
      lagging = true;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * A master and a replica of it whose link can lag (`link.lag()`), started and in sync; each is pushed onto
 * `cleanups` (run in reverse to stop them).
 */
export async function masterWithLaggingReplica(flavour: RedisFlavour, cleanups: (() => Promise<unknown>)[]): Promise<{ master: RedisServer; replica: RedisServer; link: ReplicationLink }> {
  const master = await startRedisServer({ flavour });
  cleanups.push(() => master.stop());
  const link = await startReplicationLink(master.port);
  cleanups.push(() => link.close());
  const replica = await startRedisServer({ flavour, args: ['--replicaof', '127.0.0.1', String(link.port)] });
  cleanups.push(() => replica.stop());
  await until('the replica to sync', async () => (await redisCli(replica.port, 'INFO', 'replication')).includes('master_link_status:up'));
  // And the master to count it: the replica's link is up once it has loaded the master's snapshot, and the master
  // puts it online only when it acknowledges that (Valkey: diskless sync), so a WAIT sent between counts none. Seen
  // once: the first durable write of a test on Valkey refused, "only 0 of 1 replica(s) confirmed the write".
  await until('the master to count its replica', async () => /^slave0:.*state=online/m.test(await redisCli(master.port, 'INFO', 'replication')));
  return { master, replica, link };
}
