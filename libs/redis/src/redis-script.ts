import { createHash } from 'node:crypto';
import { requestDeadline } from '@kura/common';
import { withConnectFailure } from './redis-errors.js';

/**
 * What the adapters need of a Redis client (node-redis's, or ioredis's through `fromIoredis`): one raw command at
 * a time. Replies may come in RESP2 (what Kura's own clients speak) or RESP3 (the default of node-redis v6 and
 * ioredis v6 for a client of your own): the adapters read both.
 */
export interface RedisCommander {
  sendCommand(args: string[]): Promise<unknown>;
  /**
   * A write that must survive a failover (a login, a logout or revocation, a password change): sent, then
   * confirmed by the replicas the connection is configured to wait for (`WAIT` on the same connection), else it
   * fails. Without it (or with no replicas to wait for) such writes go through `sendCommand`.
   */
  sendDurable?(args: string[]): Promise<unknown>;
  /**
   * How many replicas `sendDurable` waits for (its `WAIT`), with it: a Redis with fewer connected refuses every such
   * write, which `RedisSessionStore.ping` reports. Absent without replicas to wait for.
   */
  readonly replicasToWait?: number;
  /** A commander per master, on a Redis Cluster (for the one SCAN, `removeAll`); absent on a single node. */
  masters?(): RedisCommander[];
}

/**
 * Lua that writes `field, value` (a field of KEYS[1] and the value it already holds) again, for a durable script
 * that finds its write already made (a retry of a write whose answer or WAIT failed). Without a write, nothing
 * is propagated, and the `WAIT` that follows counts only this connection's own writes on Valkey 8 and Redis 7.2+:
 * it would confirm at once, though the first attempt may still be on the master alone. A replica that acknowledges
 * this write has every write before it, the first attempt's included (replication keeps their order).
 */
export const REASSERT = (fieldAndValue: string) => `redis.call('HSET', KEYS[1], ${fieldAndValue})`;

/**
 * A Lua script run by its SHA1 (EVALSHA), loaded on first use and after a restart or SCRIPT FLUSH (NOSCRIPT):
 * the script body crosses the wire once, not on every call. Each script touches exactly the keys it is given.
 * A durable run (`sendDurable`) sends the body itself (EVAL; Redis caches it by its SHA1 all the same): its WAIT is
 * pipelined behind it, so an EVALSHA refused with NOSCRIPT (a master just promoted has no scripts) would have its
 * WAIT wait out the timeout while replicas lag, then the EVAL its own: twice the time, past the command deadline.
 */
export class RedisScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Runs the script; `durable` sends it through `sendDurable` (see {@link RedisCommander}) when there is one. */
  async run(client: RedisCommander, keys: readonly string[], args: readonly (string | number)[], durable = false): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    let reply: unknown;
    if (durable && client.sendDurable) reply = await client.sendDurable(['EVAL', this.source, ...tail]);
    else {
      try {
        reply = await client.sendCommand(['EVALSHA', this.sha, ...tail]);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        reply = await client.sendCommand(['EVAL', this.source, ...tail]);
      }
    }
    // A script's `return false` is nil in RESP2. Redis 7.0 sends nil to a RESP3 client too (measured), but a
    // server that sent RESP3's false would have a refusal (a stale register) read as success: nil either way.
    return reply === false ? null : reply;
  }
}

/** A command that got no answer in time. */
export class CommandDeadlineError extends Error {
  constructor(ms: number) {
    super(`Redis command timeout: no answer within ${ms} ms`);
  }
}

/**
 * Every command answered or failed within `ms`. node-redis's own command timeout only covers commands still
 * waiting to be written: one already sent to a Redis that stopped answering (paused, overloaded, a network
 * partition) would wait for the socket to close. The deadline fails the caller instead; the reply, if it ever
 * comes, is dropped. So does the deadline of the request the command serves, where one is set
 * (`withRequestDeadline`, Kura's Lambda handler): a command is not sent after it, and one under way fails at it.
 */
export function withDeadline(redis: RedisCommander, ms: number): RedisCommander {
  const bounded =
    (send: (args: string[]) => Promise<unknown>) =>
    (args: string[]): Promise<unknown> =>
      new Promise((resolve, reject) => {
        const request = requestDeadline();
        if (request?.aborted) return reject(request.reason);
        const settle = (finish: () => void) => {
          clearTimeout(timer);
          request?.removeEventListener('abort', cut);
          finish();
        };
        const cut = () => settle(() => reject(request!.reason));
        // Unreferenced: a deadline alone never keeps a process (or a test worker) alive.
        const timer = setTimeout(() => settle(() => reject(new CommandDeadlineError(ms))), ms).unref();
        request?.addEventListener('abort', cut, { once: true });
        send(args).then(
          (reply) => settle(() => resolve(reply)),
          (error: unknown) => settle(() => reject(withConnectFailure(redis, error))),
        );
      });
  const sendDurable = redis.sendDurable?.bind(redis);
  const masters = redis.masters?.bind(redis);
  return {
    sendCommand: bounded((args) => redis.sendCommand(args)),
    ...(sendDurable ? { sendDurable: bounded(sendDurable), ...(redis.replicasToWait ? { replicasToWait: redis.replicasToWait } : {}) } : {}),
    ...(masters ? { masters: () => masters().map((master) => withDeadline(master, ms)) } : {}),
  };
}
