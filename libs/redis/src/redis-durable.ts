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
