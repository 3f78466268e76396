import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';
import { installed } from './installed.ts';

/**
 * The servers Kura's Redis adapters are tested on: Redis 7 (Debian's `redis-server`, `redis-sentinel`) and Valkey 8
 * (Debian bookworm-backports' `valkey-server`, `valkey-sentinel`), which the docs say Kura runs on as well.
 */
export type RedisFlavour = 'redis' | 'valkey';

/** How tests name each flavour's servers. */
export const FLAVOUR_NAMES: Record<RedisFlavour, string> = { redis: 'Redis', valkey: 'Valkey' };

/** Why Redis tests cannot run here, or `undefined` when `redis-server` (or `valkey-server`) is installed. */
export function redisServerMissing(flavour: RedisFlavour = 'redis'): string | undefined {
  if (installed(`${flavour}-server`)) return undefined;
  return flavour === 'redis'
    ? 'redis-server is not installed (apt-get install redis-server)'
    : 'valkey-server is not installed (apt-get install -t bookworm-backports valkey-server valkey-sentinel, as .ci/run does)';
}

/**
 * Whether the Redis (or Valkey) runs of a test file can go ahead. Where the server is missing they are skipped the
 * way every missing tool's tests are: a skipped test named `what`, giving the reason, which the run's skip list reports.
 */
export function redisRunsPossible(what: string, flavour: RedisFlavour = 'redis'): boolean {
  const missing = redisServerMissing(flavour);
  if (!missing) return true;
  console.warn(`SKIPPING ${what}: ${missing}`);
  describe.skip(what, () => it(`needs ${missing}`, () => undefined));
  return false;
}

/**
 * The flavours whose servers are installed, each with its name, for `describe.each(...)('... $name', ...)`; each
 * missing one is skipped as `redisRunsPossible` skips, under `what(name)`.
 */
export function possibleFlavours(what: (name: string) => string): { flavour: RedisFlavour; name: string }[] {
  return (['redis', 'valkey'] as const).filter((flavour) => redisRunsPossible(what(FLAVOUR_NAMES[flavour]), flavour)).map((flavour) => ({ flavour, name: FLAVOUR_NAMES[flavour] }));
}

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** The server's process id (to pause it with SIGSTOP, say). */
  readonly pid: number;
  /** Stops the server and removes its dir; calling it again is harmless. */
  stop(): Promise<void>;
  /** Kills the server (SIGKILL: no shutdown, no final save), as a crash would. */
  kill(): Promise<void>;
}

/** Whether something on the port answers PING with PONG. */
export function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk) => done(chunk.toString().startsWith('+PONG')));
  });
}

export interface RedisServerOptions {
  /** More `redis-server` arguments, after the defaults (a later directive wins): `['--appendonly', 'yes']`, say. */
  args?: string[];
  /** A config file's text, written to the server's dir and given first (`redis-sentinel` needs one it can rewrite). */
  config?: (port: number) => string;
  /** The port (a restart on the same one, say). @default a free one */
  port?: number;
  /** The data folder, kept by `stop` (to restart on the same data). @default a temp folder `stop` removes */
  dir?: string;
  /** Append-only persistence (`appendfsync everysec`). @default false: nothing persisted */
  appendOnly?: boolean;
  /** The program: a data node or a sentinel. @default 'server' */
  program?: 'server' | 'sentinel';
  /** Whose: Redis's (`redis-server`) or Valkey's (`valkey-server`). @default 'redis' */
  flavour?: RedisFlavour;
}

/**
 * Its own `redis-server` (or `valkey-server`, or either's sentinel) on a free loopback port, persisting nothing (no
 * RDB, no AOF unless `options.args` says so) in a temp dir: started, awaited until it answers PING, and stopped (and
 * its dir removed) by `stop`.
 */
export async function startRedisServer(options: RedisServerOptions = {}, attempt = 1): Promise<RedisServer> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'kura-redis-')));
  const port = options.port ?? (await freePort());
  const role = options.program ?? 'server';
  const program = `${options.flavour ?? 'redis'}-${role}`;
  const configFile = join(dir, `${program}.conf`);
  if (options.config) await writeFile(configFile, options.config(port));
  const child: ChildProcess = spawn(
    program,
    [
      ...(options.config ? [configFile] : []),
      ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir],
      // A replica's first sync starts at once: Redis 7 and Valkey send the snapshot diskless and wait 5 s by
      // default (repl-diskless-sync-delay) for more replicas to share it, 5 s of every test that starts a replica.
      ...(role === 'server' ? ['--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--repl-diskless-sync-delay', '0'] : []),
      ...(options.appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : []),
      ...(options.args ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // Redis logs to stdout, and says there why it would not start (a port taken, a line of its config refused).
  let output = '';
  const keep = (chunk: Buffer) => {
    if (output.length < 4000) output += chunk.toString();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
    if (!options.dir) await rm(dir, { recursive: true, force: true });
  };
  const stop = () => end('SIGTERM');
  const giveUpAt = Date.now() + 10_000;
  while (!(await answers(port))) {
    if (child.exitCode !== null || Date.now() > giveUpAt) {
      await stop();
      // A port chosen here can be taken between the check and the bind, and a cluster node binds a second one, its
      // bus (port + 10000), which nothing checked (a rehearsal failed on it): another port, twice at most.
      if (options.port === undefined && attempt < 3 && /Address already in use/.test(output)) return startRedisServer(options, attempt + 1);
      throw new Error(`${program} did not start on port ${port}: ${output.trim() || 'no answer to PING'}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, port, pid: child.pid!, stop, kill: () => end('SIGKILL') };
}

/**
 * What `call` settles with (its value, or what it threw) while the server is paused with SIGSTOP, as a Redis
 * that stopped answering, and how long it took; the server runs again afterwards.
 */
export async function settledWhilePaused(server: RedisServer, call: () => Promise<unknown>): Promise<{ outcome: unknown; ms: number }> {
  process.kill(server.pid, 'SIGSTOP');
  const started = Date.now();
  try {
    const outcome = await call().catch((error: unknown) => error);
    return { outcome, ms: Date.now() - started };
  } finally {
    process.kill(server.pid, 'SIGCONT');
  }
}
