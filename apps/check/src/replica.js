// One replica of any app, isolated as a pod would be: its own loopback address and port, its own TMPDIR and
// HOME, its own copy of the app's folder (dependency folders are linked, not copied) and, where Linux allows it,
// its own view of the machine's files (private-files.js). A replacement starts from a fresh copy, as a new pod
// starts from its image.
import { execFile, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, readlink, realpath, stat, symlink } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { isolatedCommand, viewRoot, writesStayOwn } from './private-files.js';
import { CannotJudge } from './scenario.js';

/** Folders that are linked into a replica's copy rather than copied: installed dependencies, VCS data. */
const LINKED = new Set(['.venv', 'venv', 'vendor', '.git', 'target', '__pycache__']);

/**
 * node_modules, made a folder of the replica's own that links each package (not copied: hundreds of MB), and
 * with a copy of its `.cache`: packages write there at run time (find-cache-dir's `node_modules/.cache/<name>`,
 * a key made on first start), and linked whole, every replica shared it, and it landed in the user's folder.
 * `whole`: where the replica has a view of the files of its own in which `from` is overlaid (private-files.js),
 * what it writes there is its own already, and one link does: a link per package cost a replica's start about
 * 2,000 file operations (the link, and its removal) for a project with 800 packages.
 */
async function linkNodeModules(from, to, { whole = false } = {}) {
  if (whole) return symlink(from, to);
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    if (entry.name === '.cache' && entry.isDirectory()) await copyApp(join(from, entry.name), join(to, entry.name), undefined);
    else await symlink(join(from, entry.name), join(to, entry.name));
  }
}

/**
 * Copies the app's folder, all but `work` (kura-check's own, inside it when TMPDIR is): never into itself.
 * `shares`: folders of the app the scenario names in `shared` (a volume every pod mounts, as Laravel's storage),
 * by their path in the app to their real path: linked to it, not copied, so that every replica writes there (a
 * copy of each replica's own shared nothing, while the report said "shared, as the scenario says").
 * `ownWrites(path)`: resolves to whether what the replica writes at `path` stays its own (linkNodeModules `whole`).
 */
export async function copyApp(from, to, work, appRoot = from, shares = new Map(), ownWrites = async () => false) {
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const [source, target] = [join(from, entry.name), join(to, entry.name)];
    if (source === work) continue;
    if (shares.has(source)) await symlink(shares.get(source), target);
    else if (entry.isSymbolicLink()) {
      // A relative link that stays inside the app is copied as it is, so it points into this replica's copy (as
      // in a pod's image); others point where they pointed (re-made absolute, the copy lies elsewhere).
      const link = await readlink(source);
      const inside = !isAbsolute(link) && !relative(appRoot, resolve(from, link)).startsWith('..');
      await symlink(inside ? link : resolve(from, link), target);
    } else if (entry.name === 'node_modules' && entry.isDirectory()) await linkNodeModules(source, target, { whole: await ownWrites(source) });
    else if (LINKED.has(entry.name)) await symlink(source, target);
    else if (entry.isDirectory()) await copyApp(source, target, work, appRoot, shares, ownWrites);
    else if (entry.isFile()) await copyFile(source, target);
  }
}

/**
 * The scenario's `shared` folders inside its app's folder (they are real paths; `cwd` may not be), by their path
 * under `cwd` to their real path: what copyApp links rather than copies.
 */
export async function sharesInside({ cwd, shared = [] }) {
  const real = await realpath(cwd);
  const inside = shared.filter((path) => path !== real && path.startsWith(`${real}/`));
  return new Map(inside.map((path) => [join(cwd, relative(real, path)), path]));
}

/** The node_modules the app resolves from when it has none of its own: the nearest one above its folder. */
async function inheritedNodeModules(appDir) {
  if (await stat(join(appDir, 'node_modules')).then(() => true, () => false)) return undefined;
  for (let dir = dirname(appDir); dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules');
    if (await stat(candidate).then((s) => s.isDirectory(), () => false)) return candidate;
  }
  return undefined;
}

/** A port free on `host` now (the kernel's choice), for a replica or the balancer. */
export function freePort(host) {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The line of a replica's last output that says why it ended: the last error line (`Error: …`, an exception,
 * a panic), else the last line that is not a stack frame or Node's closing `Node.js v24…` banner.
 */
export function whyItEnded(logs) {
  // Node's trailer of an unhandled 'error' event ("Emitted 'error' event on Server instance at:") is not the error.
  const lines = logs.filter((line) => line.trim() && !/^\s+at\s|^\s*\^+\s*$|^Node\.js v\d|^Emitted 'error' event /.test(line));
  return lines.findLast((line) => /\b\w*(Error|Exception)\b|\bpanic\b|\bFatal\b/i.test(line)) ?? lines.at(-1);
}

/**
 * The last `count` lines a replica printed (stdout and stderr as they came), trimmed, blank ones left out, each cut
 * to 200 characters, as the end of a one-line message: why a replica never became ready is most often there
 * ("waiting for the database"), as a crash's reason is in its last error line. Only what the app printed.
 */
export function lastOutput(logs, count = 10) {
  const lines = logs
    .map((line) => line.trim())
    .filter(Boolean)
    .slice(-count)
    .map((line) => (line.length > 200 ? `${line.slice(0, 199)}…` : line));
  return lines.length ? `; its last output: ${lines.join(' | ')}` : '; it printed nothing';
}

/**
 * When a replica could not listen on a port of its own choosing (not its PORT) because another replica holds it:
 * what to do, as a sentence to append, else ''. Each pod has its own address, so a fixed second port (metrics, an
 * admin page) clashes only here, where the replicas share the machine, unless it is bound to the replica's HOST.
 */
export function portClashOf(logs, port) {
  for (const line of logs) {
    if (!/EADDRINUSE|address already in use/i.test(line)) continue;
    // host:port as Node (0.0.0.0:9100, :::9100), PHP ([::]:9100) and Go (tcp :9100:) print it; the last one.
    const taken = [...line.matchAll(/(?:^|[\s([])(?:(?:\d{1,3}\.){3}\d{1,3}|\[[\da-f:.]*\]|::|localhost)?:(\d{1,5})\b/gi)].at(-1)?.[1];
    if (taken && Number(taken) === port) return '';
    const which = taken ? `port ${taken} (not its PORT, ${port}) was taken, by another replica or another program here` : 'a port it asked for was taken, by another replica or another program here';
    return `; ${which}: replicas here share one machine, where pods have an address each, so listen on HOST:PORT and bind any fixed extra port (metrics, admin) to $HOST in start`;
  }
  return '';
}

/**
 * What PHP runs in this replica, read from /proc once it is ready (php, php-fpm, php-cgi, frankenphp, started
 * directly or through a script): `{ savePath, sessionName, replicaDir }`, or undefined when no PHP process runs
 * there (or it is a container). For PHP's CLI (`php -S`, the built-in server) the values are asked of that same
 * binary with its own configuration: its `-c`/`-n`/`-d` arguments, working folder and `PHPRC`/`PHP_INI_SCAN_DIR`;
 * for the others, its `-d` arguments (undefined when not given: then this machine's php.ini is read).
 */
export async function phpOf(replica) {
  if (replica.container) return undefined; // a container: its own file system
  for (const pid of await markedProcesses(replica.dir, { view: replica.view })) {
    const exePath = replica.outside(await readlink(`/proc/${pid}/exe`).catch(() => ''));
    const exe = exePath.split('/').at(-1);
    if (!/^(php|frankenphp)/.test(exe)) continue;
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    const setting = (name) => {
      let value;
      argv.forEach((arg, i) => {
        const given = arg === '-d' ? argv[i + 1] : arg.startsWith('-d') ? arg.slice(2) : undefined;
        if (given?.startsWith(`${name}=`)) value = given.slice(name.length + 1);
      });
      return value;
    };
    const given = { savePath: setting('session.save_path'), sessionName: setting('session.name'), replicaDir: replica.dir };
    if (!/^php[\d.]*$/.test(exe)) return given;
    return { ...given, ...(await askPhpCli(pid, exePath, argv, replica.outside)) };
  }
  return undefined;
}

/**
 * The most processes of a replica that share one command line, as `{ count, command }` (forked workers: gunicorn's,
 * a Node cluster's, a php-fpm pool's), or undefined when no two do. A balancer's affinity pins a user to a replica,
 * not to one of its processes: what one of them keeps in memory, the others lack. A container's are its first
 * process and what descends from it, as this machine sees them.
 */
export async function workersOf(replica) {
  const counts = new Map();
  const pids = replica.container ? await replica.processes() : await markedProcesses(replica.dir, { view: replica.view });
  for (const pid of pids) {
    // Paths into the replica's copy said as the app's own (cluster.js, not /tmp/kura-check-…/replica-1.1/app/cluster.js).
    const line = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').filter(Boolean).join(' ');
    const command = replica.dir ? line.replaceAll(`${join(replica.dir, 'app')}/`, '') : line;
    if (command) counts.set(command, (counts.get(command) ?? 0) + 1);
  }
  const [command, count] = [...counts].sort((a, b) => b[1] - a[1])[0] ?? [];
  return count > 1 ? { count, command: command.length > 120 ? `${command.slice(0, 119)}…` : command } : undefined;
}

/** Options of PHP's CLI that take a value as the next argument: those that choose its configuration, and the rest. */
const PHP_CONFIG_OPTIONS = new Set(['-c', '--php-ini', '-d', '--define']);
const PHP_VALUE_OPTIONS = new Set(['-S', '--server', '-t', '--docroot', '-f', '--file', '-r', '--run', '-B', '--process-begin', '-R', '--process-code', '-F', '--process-file', '-E', '--process-end', '-z', '--zend-extension', '--rf', '--rc', '--re', '--rz', '--ri']);

/** The arguments of PHP's CLI that choose its configuration (`-c`, `-n`, `-d`, with their values), up to its script. */
export function phpConfigArguments(argv) {
  const kept = [];
  for (let i = 1; i < argv.length; i += 1) {
    const arg = argv[i];
    if (PHP_CONFIG_OPTIONS.has(arg)) kept.push(arg, argv[++i] ?? '');
    else if (/^-[cd]./.test(arg) || arg === '-n' || arg === '--no-php-ini') kept.push(arg);
    else if (PHP_VALUE_OPTIONS.has(arg)) i += 1;
    else if (arg === '--' || !arg.startsWith('-')) break; // the script: what follows is its own
  }
  return kept;
}

/**
 * session.save_path and session.name as PHP process `pid` has them, asked of its own binary with its own
 * configuration (arguments, working folder, environment); {} when that cannot be told.
 */
async function askPhpCli(pid, exePath, argv, outside) {
  // Its whole environment: PHPRC and PHP_INI_SCAN_DIR find the files, and php.ini may name any variable (${SESSIONS}).
  const environ = (await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '')).split('\0').filter(Boolean);
  const env = Object.fromEntries(environ.map((entry) => entry.split(/=(.*)/s)));
  const cwd = outside(await readlink(`/proc/${pid}/cwd`).catch(() => ''));
  const code = 'echo ini_get("session.save_path"), "\\n", ini_get("session.name");';
  return new Promise((done) => {
    execFile(exePath, [...phpConfigArguments(argv), '-r', code], { cwd: cwd || undefined, env, timeout: 5000, encoding: 'utf8' }, (error, stdout) => {
      if (error) return done({});
      const [savePath, sessionName] = stdout.split('\n');
      done({ savePath, sessionName: sessionName || undefined });
    });
  });
}

/** Fields of /proc/PID/stat after the command's name (which may hold spaces): `{ ppid, group }`, or undefined once gone. */
export async function procStat(pid) {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  if (!text) return undefined;
  const [, ppid, group] = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(ppid), group: Number(group) };
}

/** The variable that marks a replica's processes (its value: the replica's folder, unique to it). */
const MARK = 'KURA_CHECK_REPLICA';

/**
 * The processes whose environment carries `MARK=mark`, or that run in the replica's view of the files `view` (their
 * root is it, wherever their working folder: private-files.js), or, without a view, whose working folder lies in
 * the replica's folder `mark` (read from /proc; those of other users cannot be read), all, or those outside process
 * group `outsideGroup`.
 */
export async function markedProcesses(mark, { outsideGroup, view } = {}) {
  const needle = Buffer.from(`${MARK}=${mark}\0`);
  const found = [];
  for (const pid of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const environ = await readFile(`/proc/${pid}/environ`).catch(() => undefined);
    if (!environ) continue;
    const at = environ.indexOf(needle);
    // Or, for a helper started with a clean environment and a session of its own: the root it sees (then a process
    // of yours working in the replica's folder is not taken for one of its), else its working folder.
    const inside =
      at === 0 ||
      (at > 0 && environ[at - 1] === 0) ||
      (view ? (await readlink(`/proc/${pid}/root`).catch(() => '')) === view : `${await readlink(`/proc/${pid}/cwd`).catch(() => '')}/`.startsWith(`${mark}/`));
    if (!inside) continue;
    if (outsideGroup !== undefined && (await procStat(pid))?.group === outsideGroup) continue;
    found.push(Number(pid));
  }
  return found;
}

const substitute = (text, values) => text.replace(/\{(host|port)\}/g, (_, key) => values[key]);

/**
 * Starts replica `index` (`generation` counts its replacements) at host:port from a fresh copy of
 * `scenario.cwd` under `work`, or, for a scenario with `image`, as a container of `runtime` (container.js); in a
 * view of the files of its own when `files.private` (private-files.js `privateFiles`).
 * Returns { index, host, port, address, child, logs, exited, stop(signal, graceMs), misplaced() }.
 */
export async function startReplica({ scenario, runtime, work, index, generation, host, port, files }) {
  if (scenario.image) return runtime.start({ scenario, work, index, generation, host, port });
  const dir = join(work, `replica-${index + 1}.${generation}`);
  const [app, tmp, home] = ['app', 'tmp', 'home'].map((name) => join(dir, name));
  await copyApp(scenario.cwd, app, work, scenario.cwd, await sharesInside(scenario), (path) => writesStayOwn(files, scenario.shared, path));
  const inherited = await inheritedNodeModules(scenario.cwd);
  if (inherited) await linkNodeModules(inherited, join(app, 'node_modules'), { whole: await writesStayOwn(files, scenario.shared, inherited) });
  await mkdir(tmp, { recursive: true });
  await mkdir(home, { recursive: true });
  const passed = Object.fromEntries(['PATH', 'LANG', 'LC_ALL', 'TZ'].filter((key) => process.env[key]).map((key) => [key, process.env[key]]));
  const extra = Object.fromEntries(Object.entries(scenario.env ?? {}).map(([key, value]) => [key, String(value)]));
  // The mark: every process of this replica inherits it, also one that leaves its process group (setsid, a
  // daemon), and stop() ends them all by it, as a pod's end ends every process in it.
  const mark = dir;
  // A JVM takes neither TMPDIR nor HOME from the environment (java.io.tmpdir stays /tmp, which every replica here
  // shares; user.home comes from the password file): told through JAVA_TOOL_OPTIONS, which every JVM reads, after
  // the scenario's own options so that these win.
  const java = `${extra.JAVA_TOOL_OPTIONS ? `${extra.JAVA_TOOL_OPTIONS} ` : ''}-Djava.io.tmpdir=${tmp} -Duser.home=${home}`;
  // A host name of its own, as each pod has (its name, which Kubernetes puts in HOSTNAME too); a replacement gets a
  // new one, as a new pod does. The kernel's is set only in the replica's own view (a UTS namespace with it).
  const hostname = `replica-${index + 1}-${generation}`;
  const env = { ...passed, HOSTNAME: hostname, ...extra, HOST: host, PORT: String(port), TMPDIR: tmp, TMP: tmp, TEMP: tmp, HOME: home, JAVA_TOOL_OPTIONS: java, [MARK]: mark };
  // Its own process group, so that a signal reaches the app and not only the shell that started it.
  const start = substitute(scenario.start, { host, port });
  /** Its own view of the files, where its processes' root is (undefined without one). */
  const view = files?.private ? viewRoot(dir) : undefined;
  const [file, args] = files?.private ? await isolatedCommand({ dir, app, start, shared: scenario.shared, userNamespace: files.userNamespace, unshare: files.unshare, hostname }) : ['/bin/sh', ['-c', start]];
  const child = spawn(file, args, { cwd: app, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(join(dir, 'output.log'));
  const logs = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk) => {
      log.write(chunk);
      logs.push(...chunk.toString().split('\n').filter(Boolean));
      logs.splice(0, Math.max(0, logs.length - 20));
    });
  }
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => (log.end(), resolve({ code, signal }))));
  const signalGroup = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  /** Its group, and what left it (setsid, a daemon's double fork): every process that carries its mark. */
  const signalAll = async (signal) => {
    signalGroup(signal);
    // Only those outside the group: a second SIGTERM ends at once an app that drains on the first.
    for (const pid of await markedProcesses(mark, { outsideGroup: child.pid, view })) {
      try {
        process.kill(pid, signal);
      } catch {
        // gone meanwhile
      }
    }
  };
  /**
   * SIGKILL: at once. SIGTERM: as Kubernetes does, then SIGKILL after `graceMs` to whatever of it still runs.
   * Done once the start command and every process of the replica have gone (a pod ends with all its
   * processes); the pipes are closed then, so that nothing the app left behind keeps kura-check waiting.
   */
  const stop = async (signal = 'SIGTERM', graceMs = 10_000) => {
    replica.stopping = true;
    await signalAll(signal);
    const deadline = Date.now() + (signal === 'SIGKILL' ? 0 : graceMs);
    let killed = false;
    for (;;) {
      const done = (await Promise.race([exited.then(() => true), sleep(100).then(() => false)])) && (await markedProcesses(mark, { view })).length === 0;
      if (done) break;
      if (Date.now() >= deadline) {
        killed ||= signal !== 'SIGKILL';
        await signalAll('SIGKILL');
        if (Date.now() >= deadline + 5000) break; // a process in uninterruptible sleep: not waited for forever
      }
    }
    const result = await exited;
    signalGroup('SIGKILL'); // anything the app left behind in its group
    for (const stream of [child.stdout, child.stderr]) stream.destroy();
    return killed ? { ...result, signal: 'SIGKILL' } : result;
  };
  /** Processes of this replica still running after its start command has returned (a start that daemonizes). */
  const leftBehind = async () => (await markedProcesses(mark, { view })).length > 0;
  /** Where it listens instead of HOST:PORT, after a while (undefined while that is fine or cannot be told). */
  const misplaced = async () => {
    const addresses = await listensOn(replica);
    if (!addresses.length || addresses.some((address) => [replica.address, `0.0.0.0:${port}`, `[::]:${port}`].includes(address))) return undefined;
    const what = addresses.some((address) => address.endsWith(`:${port}`)) ? 'HOST' : 'PORT';
    return `the app ignored ${what}: replica ${index + 1} (${replica.address}) was told HOST=${host} PORT=${port} but listens on ${addresses.join(', ')}`;
  };
  /** A path one of its processes names (/proc/PID/exe, cwd), as it is seen from here. */
  const outside = (path) => (view && path.startsWith(`${view}/`) ? path.slice(view.length) : path);
  const replica = { index, generation, host, port, address: `${host}:${port}`, child, logs, exited, stop, misplaced, leftBehind, outside, dir, view, stopping: false };
  return replica;
}

// ------------------------------------------------------------- what the app really listens on (Linux /proc)
const hexIPv4 = (hex) => hex.match(/../g).reverse().map((byte) => parseInt(byte, 16)).join('.');
function decodeAddress(hex) {
  const [address, port] = hex.split(':');
  const p = parseInt(port, 16);
  if (address.length === 8) return `${hexIPv4(address)}:${p}`;
  if (/^0+$/.test(address)) return `[::]:${p}`;
  if (address.startsWith('0000000000000000FFFF0000')) return `${hexIPv4(address.slice(24))}:${p}`;
  if (address === '00000000000000000000000001000000') return `[::1]:${p}`;
  return `[${address}]:${p}`;
}

/** Every TCP socket in the network namespace of `proc` (`/proc/PID` for a container's), by inode: its state ('0A' listening, '01' connected) and addresses. */
async function tcpSockets(proc = '/proc') {
  const byInode = new Map();
  for (const file of [`${proc}/net/tcp`, `${proc}/net/tcp6`]) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[9] && fields[9] !== '0') byInode.set(fields[9], { state: fields[3], local: decodeAddress(fields[1]), remote: decodeAddress(fields[2]) });
    }
  }
  return byInode;
}

/** Listening TCP sockets by inode (their addresses), in the network namespace of `proc`. */
export async function listeningSockets(proc = '/proc') {
  return new Map([...(await tcpSockets(proc))].filter(([, socket]) => socket.state === '0A').map(([inode, socket]) => [inode, socket.local]));
}

export async function processTree(root) {
  const parents = new Map();
  for (const pid of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(pid)) continue;
    const ppid = (await procStat(pid))?.ppid;
    if (ppid !== undefined) parents.set(Number(pid), ppid);
  }
  const tree = new Set([root]);
  for (let grown = true; grown; ) {
    grown = false;
    for (const [pid, ppid] of parents) if (tree.has(ppid) && !tree.has(pid)) (tree.add(pid), (grown = true));
  }
  return [...tree];
}

/** The socket inodes each process of `replica` holds (any process with its mark: a daemon that left its group too). */
async function socketsOf(replica) {
  return socketsHeldBy(await markedProcesses(replica.dir, { view: replica.view }));
}

/** The socket inodes processes `pids` hold (their open files that are sockets), each with its holder. */
async function socketsHeldBy(pids) {
  const held = [];
  for (const pid of pids) {
    for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [])) {
      const inode = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''))?.[1];
      if (inode) held.push({ inode, pid });
    }
  }
  return held;
}

/**
 * The Unix sockets bound to an abstract name (`@name`: no file, so no view of the files hides it), by inode: those
 * listening (`listening`: inode → name), and the accepted ends of connections to them (`accepted`: inode → { name,
 * peer }, the peer being the connecting end's inode). Read with iproute2's `ss`, the one reader of a Unix socket's
 * peer (the kernel's sock_diag; /proc/net/unix does not say); empty without it.
 */
export function abstractSockets(run = (file, args) => new Promise((done) => execFile(file, args, { encoding: 'utf8', timeout: 5000 }, (error, out) => done(error ? '' : out)))) {
  return run('ss', ['-xanH']).then((text) => {
    const listening = new Map();
    const accepted = new Map();
    for (const line of text.split('\n')) {
      // u_str ESTAB 0 0 @name 250785 * 250784: the name may hold spaces, so the last three fields are read from the end
      const fields = line.trim().split(/\s+/);
      const name = fields.slice(4, -3).join(' ');
      if (!name.startsWith('@')) continue;
      if (fields[1] === 'LISTEN') listening.set(fields.at(-3), name);
      else if (fields[1] === 'ESTAB') accepted.set(fields.at(-3), { name, peer: fields.at(-1) });
    }
    return { listening, accepted };
  });
}

const portOf = (address) => address.slice(address.lastIndexOf(':') + 1);
const anyAddress = (address) => address.startsWith('0.0.0.0:') || address.startsWith('[::]:');

/**
 * Servers that a process of one replica started on a fixed address of this machine (127.0.0.1:6379, every address)
 * rather than its own HOST, and that a process of another replica was connected to when asked: a sidecar (a Redis,
 * a memcached) started by `start`, which in a pod would be the pod's own, on its own localhost. Here the first
 * replica's holds the port, a later one's cannot open it, and every replica uses the first one's: they share state
 * that pods would not. The app's own port is left out. [{ server, owner, user, command }] (replicas by number),
 * empty where /proc cannot tell or for containers (each in a network of its own).
 */
export async function sharedServers(replicas) {
  const live = replicas.filter((replica) => replica && !replica.container);
  if (live.length < 2) return [];
  const [sockets, held, abstract] = await Promise.all([tcpSockets(), Promise.all(live.map(socketsOf)), abstractSockets()]);
  const servers = [];
  live.forEach((replica, at) => {
    for (const { inode, pid } of held[at]) {
      const socket = sockets.get(inode);
      if (socket?.state === '0A' && socket.local !== replica.address && portOf(socket.local) !== String(replica.port)) servers.push({ replica, pid, address: socket.local });
    }
  });
  // A server on an abstract Unix socket (`\0name`) is the network namespace's, which every replica here shares and
  // each pod has its own of: the first replica's binds the name, and the others connect to it (an outside review's
  // app judged "loses state on restart", where pods would need affinity). Seen as a connection from another replica
  // to it (its accepted ends, and their peers), or else as a name only one replica listens on while another, running
  // the same code, listens on none: the name was taken when it tried (a connection per request is rarely open to see).
  const owners = new Map(live.flatMap((replica, at) => held[at].map(({ inode, pid }) => [inode, { replica, pid }])));
  const names = live.map((_, at) => new Set(held[at].map(({ inode }) => abstract.listening.get(inode)).filter(Boolean)));
  const claim = (replica, pid, address, user, lone = false) => {
    if (!servers.some((s) => s.replica === replica && s.address === address)) servers.push({ replica, pid, address, user, lone });
  };
  live.forEach((replica, at) => {
    for (const { inode, pid } of held[at]) {
      const accepted = abstract.accepted.get(inode);
      const peer = accepted && owners.get(accepted.peer);
      if (peer && peer.replica !== replica) claim(replica, pid, accepted.name, peer.replica);
      const name = abstract.listening.get(inode);
      const without = name && !names.some((others, j) => j !== at && others.has(name)) && live.find((_, j) => j !== at && names[j].size === 0);
      if (without) claim(replica, pid, name, without, true);
    }
  });
  const found = [];
  for (const server of servers) {
    const reaches = (remote) => remote === server.address || (anyAddress(server.address) && portOf(remote) === portOf(server.address));
    const user = server.user ?? live.find((other, at) => other !== server.replica && held[at].some(({ inode }) => sockets.get(inode)?.state === '01' && reaches(sockets.get(inode).remote)));
    if (!user) continue;
    const command = (await readFile(`/proc/${server.pid}/cmdline`, 'utf8').catch(() => '')).split('\0').filter(Boolean).join(' ').replaceAll(`${join(server.replica.dir, 'app')}/`, '');
    found.push({ server: server.address, owner: server.replica.index + 1, user: user.index + 1, command: command.length > 80 ? `${command.slice(0, 79)}…` : command, ...(server.lone ? { lone: true } : {}) });
  }
  return found;
}

/**
 * The servers every replica was connected to when asked, as addresses (`127.0.0.1:6379`): a store they share, most
 * likely (a Redis, a database, DynamoDB's endpoint). Connections out of each replica's processes, not into them
 * (the balancer's), nor to another replica or to a balancer (`balancers`, their listening addresses). Told so that
 * the advice for a session cookie that cannot say whether the app has a store (express-session's) can say which
 * cause is likely. Empty for containers (each in a network of its own, where the address a process dials is not the
 * one this machine sees), or where /proc cannot tell.
 */
export async function sharedPeers(replicas, balancers = []) {
  const live = replicas.filter((replica) => replica && !replica.container);
  if (live.length < 2) return [];
  const [sockets, held] = await Promise.all([tcpSockets(), Promise.all(live.map(socketsOf))]);
  // Neither the replicas themselves nor kura-check's balancers (an app that calls its own public URL) are a store.
  const replicaAddresses = new Set([...live.map((replica) => replica.address), ...balancers]);
  const reached = live.map((replica, at) => {
    const remotes = held[at].map(({ inode }) => sockets.get(inode)).filter((socket) => socket?.state === '01' && socket.local !== replica.address && !replicaAddresses.has(socket.remote));
    return new Set(remotes.map((socket) => socket.remote));
  });
  return [...reached[0]].filter((remote) => reached.every((remotes) => remotes.has(remote))).sort();
}

/** The addresses the replica's processes listen on (empty where /proc cannot tell). */
export async function listensOn(replica) {
  const sockets = await listeningSockets();
  const held = await socketsHeldBy(await processTree(replica.child.pid));
  return [...new Set(held.filter(({ inode }) => sockets.has(inode)).map(({ inode }) => sockets.get(inode)))];
}

// ------------------------------------------------------------- readiness
const accepts = (host, port) =>
  new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1000 });
    const done = (ok) => (socket.destroy(), resolve(ok));
    socket.once('connect', () => done(true)).once('error', () => done(false)).once('timeout', () => done(false));
  });

/** The status `url` answers within 2 s (redirects not followed), or undefined when it answers nothing. */
async function statusOf(url) {
  try {
    const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return undefined;
  }
}

const IGNORED_FOR_MS = 3000;
const POLL_MS = 25;
const WHERE_EVERY_MS = 500; // reading /proc for every process costs more than a connection attempt

/**
 * What `podman run` and `docker run` exit with when the engine, not the container's command, failed: said as the
 * engine's failure (a runtime refusing the machine's limits read as "the app exited (code 126)").
 */
const ENGINE_FAILURES = {
  125: 'the engine itself failed',
  126: 'the container runtime refused to start it, or its command cannot be run',
  127: "the image's command was not found",
};

/**
 * Resolves once the replica is ready (`scenario.ready` answers 2xx/3xx, or the port accepts connections and `/`
 * answers anything but 503).
 * CannotJudge if it exits first (its error line quoted), never becomes ready in `startTimeout` (its last lines of
 * output quoted), or listens elsewhere than HOST:PORT for 3 s (it ignored PORT or HOST).
 */
export async function waitReady(replica, scenario) {
  const deadline = Date.now() + scenario.startTimeout * 1000;
  const name = `replica ${replica.index + 1} (${replica.address})`;
  let elsewhereSince;
  let lookedAt = Date.now();
  let exit;
  replica.exited.then((result) => (exit = result));
  for (;;) {
    if (exit) {
      // A start command that returns and leaves the app running (`node server.js &`, a daemon): a container whose
      // command returns has ended, whatever it left, and so has this replica.
      if (exit.code === 0 && (await replica.leftBehind?.())) {
        throw new CannotJudge(
          `${name}: the start command returned (code 0) and left the app running in the background; start it in the foreground, as a container's command must run (no "&", no daemon mode; "exec" it)`,
        );
      }
      const last = whyItEnded(replica.logs);
      const engineFailed = replica.engine && ENGINE_FAILURES[exit.code];
      if (engineFailed) throw new CannotJudge(`${name}: ${replica.engine} could not run the container (exit ${exit.code}: ${engineFailed}), before the app ran${last ? `: ${last.slice(0, 200)}` : ''}`);
      throw new CannotJudge(`${name} exited (${exit.signal ?? `code ${exit.code}`}) before it was ready${last ? `: ${last.slice(0, 200)}` : ''}${portClashOf(replica.logs, replica.port)}`);
    }
    // Without `ready`: once the port accepts and `/` has stopped answering 503 ("warming up"), as a readiness
    // probe reads 503; any other answer, or none within 2 s, and the port decides.
    const ready = scenario.ready
      ? (await statusOf(`http://${replica.address}${scenario.ready}`).then((status) => status >= 200 && status < 400))
      : (await accepts(replica.host, replica.port)) && (await statusOf(`http://${replica.address}/`)) !== 503;
    if (ready) return;
    if (Date.now() - lookedAt >= WHERE_EVERY_MS) {
      lookedAt = Date.now();
      const elsewhere = await replica.misplaced();
      if (elsewhere) {
        elsewhereSince ??= Date.now();
        if (Date.now() - elsewhereSince >= IGNORED_FOR_MS) throw new CannotJudge(elsewhere);
      } else elsewhereSince = undefined;
    }
    if (Date.now() > deadline) {
      // What happened, not what was asked: a `ready` path on a port that never accepted a connection sent the user
      // looking for a bug in the path (an outside review: an app that listened only after 8 s, startTimeout 5).
      const accepted = await accepts(replica.host, replica.port);
      const why = !accepted ? `its port accepted no connection` : scenario.ready ? `GET ${scenario.ready} did not answer 2xx/3xx` : 'GET / answered 503';
      throw new CannotJudge(`${name} never became ready in ${scenario.startTimeout} s (${why})${lastOutput(replica.logs)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
