import { createClient } from 'redis';

/** Commands a Redis server ran over some stretch, counted at the server. */
export interface RedisCommandCounts {
  /**
   * Every command but the connection's and the operator's own (INFO, COMMAND, CLIENT, HELLO, PING, ...). Redis
   * counts the commands a script runs as well as the script (an EVALSHA running HMGET and HSET is 3): exact
   * where no script runs (every steady read), an upper bound where one does.
   */
  readonly commands: number;
  /** Commands that may write: flagged `write` by Redis (SET, EXPIRE, UNLINK, ...) and every script (EVALSHA, ...). */
  readonly writes: number;
  /** The counted commands by name (`hgetall`, `evalsha`, ...). */
  readonly byCommand: Readonly<Record<string, number>>;
}

/** Not part of what a store costs: the client's handshake and what this counter itself sends. */
const NOT_COUNTED = /^(info|command|client|hello|ping|select|auth|config)(\||$)/;
const SCRIPTS = /^(eval|evalsha|eval_ro|evalsha_ro|fcall|fcall_ro)$/;

/**
 * Counts commands at a Redis server (`INFO commandstats` deltas), so a test or the bench can say what a request
 * costs in Redis whatever client sent it. `take()` gives the counts since the previous `take()` (or since start).
 */
export async function redisCommandCounter(url: string): Promise<{ take(): Promise<RedisCommandCounts>; close(): Promise<void> }> {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  const writeFlag = new Map<string, boolean>();
  const snapshot = async () => {
    const info = String(await client.sendCommand(['INFO', 'commandstats']));
    return new Map([...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map(([, name, calls]) => [name!, Number(calls)]));
  };
  const isWrite = async (name: string) => {
    if (SCRIPTS.test(name)) return true;
    if (!writeFlag.has(name)) {
      const [info] = (await client.sendCommand(['COMMAND', 'INFO', name.replace('|', ' ').split(' ')[0]!])) as [[string, number, string[]] | null];
      writeFlag.set(name, info?.[2]?.includes('write') ?? false);
    }
    return writeFlag.get(name)!;
  };
  let last = await snapshot();
  return {
    take: async () => {
      const now = await snapshot();
      const byCommand: Record<string, number> = {};
      let commands = 0;
      let writes = 0;
      for (const [name, calls] of now) {
        const delta = calls - (last.get(name) ?? 0);
        if (delta === 0 || NOT_COUNTED.test(name)) continue;
        byCommand[name] = delta;
        commands += delta;
        if (await isWrite(name)) writes += delta;
      }
      last = now;
      return { commands, writes, byCommand };
    },
    close: async () => {
      client.destroy();
    },
  };
}
