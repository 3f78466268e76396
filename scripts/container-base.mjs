// Makes a local Node 24 base image without pulling anything: a minimal Debian (debootstrap, from Debian's own
// mirror) with this project's Node 24 binary and the machine's npm, imported into podman. Kura's Dockerfile takes
// the base as a build argument, so the image test (and anyone without registry access) builds on this one.
// Usage: node scripts/container-base.mjs [--tag localhost/kura-node-base:24]   (needs root for debootstrap)
import { execFile } from 'node:child_process';
import { cp, mkdir, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
export const BASE_TAG = 'localhost/kura-node-base:24';
export const CONTAINERS_CONF = join(root, 'infra/podman/containers.conf');
export const podmanEnv = { ...process.env, CONTAINERS_CONF: process.env.CONTAINERS_CONF ?? CONTAINERS_CONF };
const MIRROR = process.env.DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';

export const podman = (args, options = {}) =>
  run('podman', args, { env: podmanEnv, maxBuffer: 64 * 1024 * 1024, ...options });

async function exists(path) {
  return stat(path).then(() => true, () => false);
}

/** Builds the base image unless it exists already; returns its tag. */
export async function ensureBaseImage(tag = BASE_TAG) {
  const found = await podman(['image', 'exists', tag]).then(() => true, () => false);
  if (found) return tag;
  const work = join(root, '.data/container-base');
  const rootfs = join(work, 'rootfs');
  if (!(await exists(join(rootfs, 'etc/debian_version')))) {
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { recursive: true });
    await run('debootstrap', ['--variant=minbase', 'bookworm', rootfs, MIRROR], { maxBuffer: 64 * 1024 * 1024 });
  }
  // Node 24 is the project's own (the `node` package), npm the machine's: what `npm ci` installs here.
  const node = join(root, 'node_modules/node/bin/node');
  await mkdir(join(rootfs, 'usr/local/lib/node_modules'), { recursive: true });
  await cp(node, join(rootfs, 'usr/local/bin/node'));
  await run('strip', [join(rootfs, 'usr/local/bin/node')]).catch(() => undefined); // debug symbols: 18 MB
  // The npm on PATH, found by its file (bin/npm-cli.js in its package): `npm root -g` answers for the node that
  // runs it, and with the project's Node 24 first on PATH (jest run directly) that is node_modules/node's.
  const { stdout: npmOnPath } = await run('sh', ['-c', 'command -v npm']);
  const npmPackage = dirname(dirname(await realpath(npmOnPath.trim())));
  await rm(join(rootfs, 'usr/local/lib/node_modules/npm'), { recursive: true, force: true });
  await cp(npmPackage, join(rootfs, 'usr/local/lib/node_modules/npm'), { recursive: true });
  for (const bin of ['npm', 'npx']) {
    await rm(join(rootfs, 'usr/local/bin', bin), { force: true });
    await symlink(`../lib/node_modules/npm/bin/${bin}-cli.js`, join(rootfs, 'usr/local/bin', bin));
  }
  for (const dir of ['var/cache/apt', 'var/lib/apt/lists', 'usr/share/doc', 'usr/share/man']) {
    await rm(join(rootfs, dir), { recursive: true, force: true });
  }
  const archive = join(work, 'rootfs.tar');
  await run('tar', ['-C', rootfs, '-cf', archive, '.'], { maxBuffer: 64 * 1024 * 1024 });
  await podman(['import', '--change', 'CMD ["node"]', archive, tag]);
  await rm(archive, { force: true });
  await writeFile(join(work, 'TAG'), `${tag}\n`);
  return tag;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const tag = process.argv.includes('--tag') ? process.argv[process.argv.indexOf('--tag') + 1] : BASE_TAG;
  console.log(`base image: ${await ensureBaseImage(tag)}`);
}
