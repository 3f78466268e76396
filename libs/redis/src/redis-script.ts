import { createHash } from 'node:crypto';

/** What the adapters need of a node-redis client: one raw command at a time (RESP2 replies). */
export interface RedisCommander {
  sendCommand(args: string[]): Promise<unknown>;
}

/**
 * A Lua script run by its SHA1 (EVALSHA), loaded on first use and after a restart or SCRIPT FLUSH (NOSCRIPT):
 * the script body crosses the wire once, not on every call. Each script touches exactly the keys it is given.
 */
export class RedisScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: RedisCommander, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    try {
      return await client.sendCommand(['EVALSHA', this.sha, ...tail]);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.sendCommand(['EVAL', this.source, ...tail]);
    }
  }
}
