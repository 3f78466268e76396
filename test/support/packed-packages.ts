import { execFile } from 'node:child_process';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * The workspace libraries as someone outside this repository gets them: built (`npm run build:packages`) and
 * packed with `npm pack`. Shared by the tests that install them outside the repository (`test/packages`,
 * `test/examples`).
 */
export const PACKAGES = ['common', 'session', 'accounts', 'dynamodb', 'connect', 'redis'] as const;

const ROOT = new URL('../..', import.meta.url).pathname;
const run = promisify(execFile);

/** Runs npm in `cwd`, quietly (no update notice), with room for its output. */
export const npm = (args: string[], cwd: string) =>
  run('npm', args, { cwd, maxBuffer: 32 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: 'false' } });

export interface PackedPackages {
  /** Absolute paths of the tarballs, one per package. */
  readonly tarballs: string[];
  /** The files each tarball holds, by package folder name (`session`, ...). */
  readonly files: ReadonlyMap<string, string[]>;
}

/**
 * Two test files may pack at once (Jest runs files in parallel): one builds at a time, or `tsc -b` in one would
 * rewrite the files the other is packing. A folder is the lock (mkdir is atomic); a stale one is taken after 3 min.
 */
async function oneBuildAtATime<T>(work: () => Promise<T>): Promise<T> {
  const lock = join(tmpdir(), 'kura-build-packages.lock');
  const giveUpAt = Date.now() + 180_000;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch {
      if (Date.now() > giveUpAt) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/** Builds the libraries and packs each into `destination` (created if missing). */
export async function packPackages(destination: string): Promise<PackedPackages> {
  await mkdir(destination, { recursive: true });
  return oneBuildAtATime(() => buildAndPack(destination));
}

async function buildAndPack(destination: string): Promise<PackedPackages> {
  await npm(['run', '-s', 'build:packages'], ROOT);
  const files = new Map<string, string[]>();
  for (const name of PACKAGES) {
    const { stdout } = await npm(['pack', '--json', '--pack-destination', destination], join(ROOT, 'libs', name));
    files.set(name, (JSON.parse(stdout) as [{ files: { path: string }[] }])[0].files.map((file) => file.path));
  }
  const tarballs = (await readdir(destination)).filter((file) => file.endsWith('.tgz')).map((file) => join(destination, file));
  return { tarballs, files };
}

/**
 * Installs the tarballs into the app in `cwd` (and so into its package.json), with `others` from the
 * registry, and whatever its package.json already lists, from npm's cache where it can.
 */
export async function installPacked(cwd: string, packed: PackedPackages, others: string[] = []): Promise<void> {
  const { stderr } = await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', ...packed.tarballs, ...others], cwd);
  // npm installs over a peer range it cannot meet with a warning only: the user would be left with a version the
  // package was never tested with (as `npm install @kura/redis redis` did once node-redis 6 came out).
  const conflict = /Could not resolve dependency:[\s\S]*?(peer \S+ from \S+)/.exec(stderr);
  if (conflict || /ERESOLVE/.test(stderr)) throw new Error(`npm install in ${cwd} met a peer dependency it could not satisfy (${conflict?.[1] ?? 'ERESOLVE'}):\n${stderr}`);
}

/**
 * Installs Node `major` as npm has it (the `node` package, whose install fetches the binary from the npm registry)
 * into `folder`, and answers the folder that holds its `node`, to put first on a PATH.
 */
export async function installNode(major: number, folder: string): Promise<string> {
  await mkdir(folder, { recursive: true });
  await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-save', `node@${major}`], folder);
  return join(folder, 'node_modules/.bin');
}
