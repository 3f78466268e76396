import { ReplicaAckError } from './redis-errors.js';

/** A connection that sends `args`, then `then`, pipelined on itself, and gives both replies. */
export type PipelinedPair = (args: string[], then: string[]) => Promise<[unknown, unknown]>;

/**
 * Durable writes over `lanes`: each write is followed by `WAIT replicas waitMs` on the same connection (WAIT
 * counts only that connection's writes, and blocks it meanwhile), on the lane with the fewest writes in flight.
 * Fewer acknowledgements than `replicas` fail the write with {@link ReplicaAckError}: it was made, but might not
 * survive a failover, and retrying it is safe.
 */
export function durableWrites(lanes: readonly PipelinedPair[], replicas: number, waitMs: number): (args: string[]) => Promise<unknown> {
  const busy = lanes.map(() => 0);
  const wait = ['WAIT', String(replicas), String(waitMs)];
  return async (args) => {
    let lane = 0;
    for (let other = 1; other < lanes.length; other += 1) if (busy[other]! < busy[lane]!) lane = other;
    busy[lane]! += 1;
    try {
      const [reply, acknowledged] = await lanes[lane]!(args, wait);
      if (Number(acknowledged) < replicas) throw new ReplicaAckError(Number(acknowledged), replicas, waitMs);
      return reply;
    } finally {
      busy[lane]! -= 1;
    }
  };
}

/** How a Redis Cluster client sends a durable write and its WAIT. */
export interface ClusterPairs {
  /** The pair on the master the client's slot map names for the write's key. */
  routed: PipelinedPair;
  /**
   * `ASKING`, then the pair, pipelined on the client's connection to the master at `address` (`host:port`, as the
   * cluster announces it); `undefined` while the client does not know that master.
   */
  asking(address: string): PipelinedPair | undefined;
  /** Has the client learn the current owner of the write's slot: a read of its key, routed and redirected by the client. */
  relearn(args: string[]): Promise<unknown>;
}

/** A pair that fails: the cluster redirected a write to a master the client could not learn of. */
function unknown(address: string): PipelinedPair {
  throw new Error(`Redis Cluster redirected a write to ${address}, a master this client does not know`);
}

/** As many redirections as a command of `connectRedis` follows (its `maxCommandRedirections`). */
const MAX_REDIRECTIONS = 4;

/**
 * The pair on a Redis Cluster, following the redirections itself: node-redis follows none in a pipeline, and each
 * pair is sent on one node's connection (ioredis 6.1's `Cluster` pipeline would send a redirected write again on its
 * own, away from its WAIT: see fromIoredis's laneOf). Else every durable write of a moving slot fails while it moves (`ASK`), and
 * after, until the client learns the new owner from another command (`MOVED`), which a lane of durable writes
 * alone never sends. A redirected write was not run, so sending it again is safe. It is sent whole again, the
 * write with its WAIT on one connection, so the WAIT always runs where the write was made: a WAIT on the old owner
 * would count none of the write's replicas (trivially all of its own).
 */
export function followingRedirections({ routed, asking, relearn }: ClusterPairs): PipelinedPair {
  return async (args, then) => {
    let send = routed;
    for (let redirections = 0; ; redirections += 1) {
      try {
        return await send(args, then);
      } catch (error) {
        const redirection = error instanceof Error ? /^(MOVED|ASK) \d+ (\S+)/.exec(error.message) : null;
        if (!redirection || redirections === MAX_REDIRECTIONS) throw error;
        // ASK: the key is moving to that node, which serves it only to a command right after ASKING. MOVED: the
        // slot is that node's now; once the client has learned so, its own routing sends the next writes there.
        // A master the client does not know yet (one just added, getting its first slots) is met the client's own
        // way: a read of the key through its routing follows the ASK there too. ioredis forgets a master serving no
        // slot at its next refresh, so one met and forgotten meanwhile is asked for again, as a redirection.
        if (redirection[1] === 'ASK') {
          const address = redirection[2]!;
          send = asking(address) ?? (await relearn(args), asking(address)) ?? (redirections < MAX_REDIRECTIONS - 1 ? routed : unknown(address));
        } else {
          await relearn(args);
          send = routed;
        }
      }
    }
  };
}
