// Each replica's own view of this machine's files, as a pod has its image's: a mount namespace (Linux, util-linux's
// `unshare`) in which every top-level folder is an overlay of the real one, so a replica reads the machine as it is
// and what it writes outside its own folder (/tmp/sessions, PHP's /var/lib/php/sessions, ../../sessions.db) is its
// own, in memory, gone with it. What pods do share stays shared: the network (loopback servers), the Unix sockets
// servers listen on (a database's, php-fpm's), /proc, /sys, /dev, and the folders a scenario names in `shared` (a
// volume every pod mounts: NFS, EFS). No library does this for a command line; bubblewrap would, but Debian 12's
// has no overlays, and `unshare` and `mount` are on every Linux that has a shell.
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, lstat, mkdir, readdir, readFile, readlink, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Top-level folders passed through as they are: the kernel's views, and the devices (/dev/shm made private). */
const PASSED_THROUGH = new Set(['/proc', '/sys', '/dev']);
/** The folder, inside a replica's, where its view is built (a tmpfs, seen only in the replica's namespace). */
const VIEW = 'files';
/** The table of the view's mounts (fstab(5)), in the replica's folder, that one `mount --all` mounts. */
const FSTAB = 'files.fstab';
/** Where the script notes a folder it could not make private (the overlay refused it), in the replica's folder. */
const NOTE = 'shared-folders';

/** Where the view is built, `mount` and the rest are looked for first in the system's folders (whatever PATH `env` gives the app). */
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A field of an fstab(5) line: white space and backslashes as octal escapes, as libmount reads them. */
const fstabField = (text) => String(text).replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
const quote = (text) => `'${String(text).replaceAll("'", "'\\''")}'`;
const under = (path, folder) => path === folder || path.startsWith(folder === '/' ? '/' : `${folder}/`);
const isRoot = () => process.getuid?.() === 0;

/** Mount points as /proc/self/mountinfo names them (its octal escapes undone). */
async function mountPoints() {
  const text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ')[4].replace(/\\([0-7]{3})/g, (_, octal) => String.fromCharCode(parseInt(octal, 8))));
}

/** The Unix sockets servers listen on here (paths that exist and are sockets): they stay reachable, as services. */
async function listeningSockets() {
  const text = await readFile('/proc/net/unix', 'utf8').catch(() => '');
  const paths = new Set();
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    // Flags 00010000: accepting connections; the path is the rest of the line (it may hold spaces).
    const path = fields.slice(7).join(' ');
    if (fields[3] === '00010000' && path.startsWith('/')) paths.add(path);
  }
  const sockets = [];
  for (const path of paths) if (await stat(path).then((s) => s.isSocket(), () => false)) sockets.push(path);
  return sockets;
}

/**
 * The shell script that builds replica `dir`'s view and runs `start` in it, from `app` (see the top of this file).
 * Run as `unshare --mount /bin/sh -c <script>`, or in a user namespace of the user's own (`userNamespace`: `--user
 * --map-root-user`, and `start` then runs as the user again, in a second one that maps it back).
 */
async function viewScript({ dir, app, start, shared, userNamespace, unshare, hostname }) {
  const view = join(dir, VIEW);
  const root = join(view, 'root');
  const layers = join(view, 'layers');
  // Every folder and file the view needs is made by one `mkdir` and one `touch`, and every mount by one `mount
  // --all` of a table of them (FSTAB), where a command each, about 90 a view, cost more of the processor than the
  // rest of a replica's start (2026-12-06: 0.33 s a view, a view per replica and one to try, on machines where
  // kura-check's runs were half of what a test suite spent). Where that fails as a whole (a mount the kernel
  // refuses), the view is undone and built again a command at a time, each with its way out (`mounts`).
  const folders = [root, layers];
  const files = [];
  const links = [];
  /** Each mount: its line of the table ([source, target, type, options]) and its command, with what to do if it fails. */
  const mounts = [];
  const mount = (entry, command) => mounts.push({ entry, command });
  const bind = (path, at, { recursive = false, tolerant = false } = {}) =>
    mount([path, at, 'none', recursive ? 'rbind' : 'bind'], `mount --${recursive ? 'rbind' : 'bind'} ${quote(path)} ${quote(at)}${tolerant ? ' 2>/dev/null || true' : ''}`);
  // Folder `path` overlaid at its place in the view, its changes in layer `layer`. Where the kernel refuses an
  // overlay (a user namespace over a folder with mounts inside, an old kernel, a file system overlayfs cannot lie
  // on), the folder is shared as it is, and noted: kura-check says so, and the PHP caution looks there. `tolerant`:
  // a mount inside an overlaid folder that cannot even be bound is left out, as before, rather than failing the start.
  const overlay = (path, layer, tolerant = false) => {
    const [upper, work, at] = [join(layers, layer), join(layers, `${layer}.work`), join(root, path)];
    folders.push(upper, work);
    const options = `lowerdir=${path},upperdir=${upper},workdir=${work}`;
    mount(
      ['kura-check-replica', at, 'overlay', options],
      `mount -t overlay kura-check-replica -o ${quote(options)} ${quote(at)} 2>/dev/null || { echo ${quote(path)} >> ${quote(join(dir, NOTE))}; mount --rbind ${quote(path)} ${quote(at)}${tolerant ? ' 2>/dev/null || true' : ''}; }`,
    );
  };
  const overlaid = [];
  for (const name of (await readdir('/')).sort()) {
    const path = `/${name}`;
    const at = join(root, name);
    const entry = await lstat(path).catch(() => undefined);
    if (!entry) continue;
    if (entry.isSymbolicLink()) links.push(`ln -s ${quote(await readlink(path))} ${quote(at)}`);
    else if (entry.isDirectory() && PASSED_THROUGH.has(path)) folders.push(at), bind(path, at, { recursive: true });
    else if (entry.isDirectory()) {
      overlaid.push(path);
      folders.push(at);
      overlay(path, name);
    } else if (entry.isFile()) files.push(at), bind(path, at);
  }
  // POSIX shared memory is each pod's own too.
  const shm = join(root, 'dev/shm');
  mount(['kura-check-shm', shm, 'tmpfs', 'mode=1777'], `mount -t tmpfs -o mode=1777 kura-check-shm ${quote(shm)} 2>/dev/null || true`);
  // Mounts inside an overlaid folder (an overlay shows only its lower folder's own file system, so each is mounted
  // again in the view), parents first: a folder on a file system of its own (/var/tmp or /srv on a partition, a
  // tmpfs) is overlaid as the top-level ones are, so what a replica writes there is its own too; where the kernel
  // refuses, it is shared as it is, and noted. They were all passed through as they are until 2026-12-05, so an app
  // keeping sessions in such a folder was judged stateless on one machine's shared files. A file mounted on its own
  // (a container's /etc/hosts) is bound as it is.
  const inside = [...new Set(await mountPoints())].filter((path) => path !== '/' && overlaid.some((folder) => under(path, folder)) && !overlaid.includes(path)).sort();
  for (const [index, path] of inside.entries()) {
    const entry = await stat(path).catch(() => undefined);
    if (entry?.isDirectory()) overlay(path, `mount-${index}`, true);
    else if (entry) bind(path, root + path, { tolerant: true });
  }
  // (Sockets in folders passed through are there already; those in overlaid folders, mounts inside them included, are not.)
  const reached = [...PASSED_THROUGH, ...shared];
  for (const path of await listeningSockets()) {
    if (!reached.some((folder) => under(path, folder))) bind(path, root + path, { tolerant: true });
  }
  for (const path of shared) bind(path, root + path, { recursive: true });
  // The replica's own folder is the real one: its copy of the app, its TMPDIR and HOME, as before.
  bind(dir, root + dir);
  const made = [
    `mount -t tmpfs -o mode=0755 kura-check-replica ${quote(view)}`,
    `mkdir ${folders.map(quote).join(' ')}`,
    ...(files.length ? [`touch ${files.map(quote).join(' ')}`] : []),
    ...links,
  ];
  const lines = [
    'set -e',
    // The app's PATH back before `start` (a shell variable, not exported: the app does not see it).
    `kura_check_path=$PATH; PATH=${SYSTEM_PATH}:$PATH`,
    `if ! { ${[...made, `mount --all --fstab ${quote(join(dir, FSTAB))}`].join(' && ')}; } 2>/dev/null; then`,
    `umount --recursive --lazy ${quote(view)} 2>/dev/null || true`,
    ...made,
    ...mounts.map(({ command }) => command),
    'fi',
    'cd /',
  ];
  const user = userNamespace ? `--user --map-user=${process.getuid()} --map-group=${process.getgid()} ` : '';
  // Each pod has a host name of its own (its name): in a UTS namespace of its own, so is each replica. With one name
  // for all, an app keeping its state apart per host (files on a shared volume under its host name) was stateless.
  if (hostname) lines.push(`printf %s ${quote(hostname)} > /proc/sys/kernel/hostname`);
  lines.push('PATH=$kura_check_path', `exec ${quote(unshare)} ${user}--root=${quote(root)} --wd=${quote(app)} /bin/sh -c ${quote(start)}`);
  const fstab = mounts.map(({ entry }) => `${entry.map(fstabField).join(' ')} 0 0\n`).join('');
  return { script: lines.join('\n'), fstab };
}

/**
 * The command that runs `start` for replica `dir` in its own view of the files: [file, args] for spawn.
 * `shared`: absolute paths every replica shares as it is (the scenario's `shared`); `userNamespace`: as
 * `privateFiles` found it must be; `hostname`: the replica's own, as a pod's is its name (in a UTS namespace).
 */
export async function isolatedCommand({ dir, app, start, shared = [], userNamespace = false, unshare, hostname }) {
  await mkdir(join(dir, VIEW), { recursive: true });
  const { script, fstab } = await viewScript({ dir, app, start, shared, userNamespace, unshare, hostname });
  await writeFile(join(dir, FSTAB), fstab);
  // And System V IPC of its own, as a pod has (an IPC namespace: shared memory, semaphores, message queues): with one
  // for all, an app keeping its sessions in a SysV shared memory segment was judged stateless (a review, 2026-12-06).
  return [unshare, [...(userNamespace ? ['--user', '--map-root-user'] : []), '--mount', '--uts', '--ipc', '/bin/sh', '-c', script]];
}

/** util-linux's `unshare` as kura-check's own PATH finds it (an app's `env` may give it another PATH), or undefined. */
async function findUnshare() {
  for (const folder of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    const path = join(folder, 'unshare');
    if (await access(path, constants.X_OK).then(() => true, () => false)) return path;
  }
  return undefined;
}

/**
 * Whether what a replica writes at `path` stays its own in its view of the files (`files`: as `privateFiles` found
 * them): there is a view, and neither a folder the kernel would not overlay (shared as it is) nor one the scenario
 * names in `shared` holds `path`.
 */
export async function writesStayOwn(files, shared = [], path) {
  if (!files?.private) return false;
  const real = await realpath(path);
  return ![...(files.sharedHere ?? []), ...shared].some((folder) => under(real, folder));
}

/** The view's folder inside a replica's: what its processes' paths (/proc/PID/exe, cwd) start with, seen from here. */
export const viewRoot = (dir) => join(dir, VIEW, 'root');

/**
 * Whether replicas can have their own view of the files here: tried once, in `work`, with a command that checks
 * its view (a file written to /tmp in it must not appear here): as root with a mount namespace alone, else (a
 * container without CAP_SYS_ADMIN, or not root) in a user namespace. Resolves to `{ private: true, sharedHere,
 * userNamespace }` (`sharedHere`: the folders the kernel would not overlay, shared as they are) or `{ private:
 * false, why }` (the last attempt's error).
 */
export async function privateFiles(work, { shared = [] } = {}) {
  if (process.platform !== 'linux') return { private: false, why: 'not Linux (a mount namespace is needed)' };
  const unshare = await findUnshare();
  if (!unshare) return { private: false, why: 'unshare is not installed (util-linux)' };
  let tried;
  for (const userNamespace of isRoot() ? [false, true] : [true]) {
    tried = await tryView(work, shared, userNamespace, unshare);
    if (tried.private) return { ...tried, userNamespace, unshare };
  }
  return tried;
}

async function tryView(work, shared, userNamespace, unshare) {
  const dir = join(work, `files-probe${userNamespace ? '-user' : ''}`);
  const app = join(dir, 'app');
  await mkdir(app, { recursive: true });
  const probe = `/tmp/kura-check-probe-${process.pid}-${Date.now()}`;
  try {
    const [file, args] = await isolatedCommand({ dir, app, start: `echo private > ${probe} && test "$(pwd)" = ${quote(app)} && test "$(cat /proc/sys/kernel/hostname)" = kura-check-try`, shared, userNamespace, unshare, hostname: 'kura-check-try' });
    const failure = await new Promise((resolve) => {
      execFile(file, args, { timeout: 10_000, encoding: 'utf8' }, (error, _stdout, stderr) => {
        resolve(error ? stderr.trim().split('\n').at(-1) || error.message.split('\n')[0] : undefined);
      });
    });
    if (failure) return { private: false, why: failure };
    if (await stat(probe).then(() => true, () => false)) return { private: false, why: `a file written to ${probe} in a replica's view appeared outside it` };
    const noted = await readFile(join(dir, NOTE), 'utf8').catch(() => '');
    return { private: true, sharedHere: noted.split('\n').filter(Boolean) };
  } finally {
    await rm(probe, { force: true });
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}
