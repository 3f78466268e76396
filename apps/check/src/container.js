// One replica as a container, as a pod runs one: a fresh container from the scenario's image for every start
// and every replacement, published on the replica's own loopback address (host port -> the image's `port`).
// podman is preferred, docker used where podman is not installed. Images are never pulled: an image that is
// not on this machine is said in one line.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { listeningSockets, processTree } from './replica.js';
import { CannotJudge } from './scenario.js';

const run = promisify(execFile);

async function answers(command, args) {
  try {
    await run(command, args, { timeout: 30_000 });
    return true;
  } catch (error) {
    if (error.code === 'ENOENT') return undefined; // not installed
    return false;
  }
}

/**
 * The container engine for a scenario with `image`: podman, else docker. CannotJudge when neither is installed
 * (or docker's daemon does not answer) or when the image is not on this machine.
 */
export async function containerRuntime(scenario) {
  let name;
  if ((await answers('podman', ['--version'])) !== undefined) name = 'podman';
  else {
    const docker = await answers('docker', ['version', '--format', '{{.Server.Version}}']);
    if (docker === false) throw new CannotJudge(`"image" needs podman or docker: docker is installed, but its daemon does not answer (docker version), and podman is not installed`);
    if (docker === true) name = 'docker';
  }
  if (!name) throw new CannotJudge('"image" needs podman or docker, and neither is installed (apt-get install podman)');
  const exists = name === 'podman' ? ['image', 'exists', scenario.image] : ['image', 'inspect', scenario.image];
  if (!(await answers(name, exists))) {
    throw new CannotJudge(`image ${scenario.image} is not on this machine (${name} images), and kura-check never pulls: build or pull it first`);
  }
  if (scenario.network && !(await answers(name, name === 'podman' ? ['network', 'exists', scenario.network] : ['network', 'inspect', scenario.network]))) {
    throw new CannotJudge(`network ${scenario.network} does not exist (${name} network ls): create it (${name} network create ${scenario.network}) and start the store the replicas share on it`);
  }
  return { name, start: (options) => startContainer(name, options) };
}

/** Whether a listening address inside a container is one a published port reaches (not its own loopback). */
const publishable = (address) => !/^(127\.|\[::1\])/.test(address);

/** Where the app listens, when on one port only outside loopback: the "port" the scenario may mean. */
const portHint = (addresses) => {
  const ports = [...new Set(addresses.filter(publishable).map((address) => address.slice(address.lastIndexOf(':') + 1)))];
  return ports.length === 1 ? `: if the app serves there, say "port: ${ports[0]}" in the scenario` : '';
};

// Exit codes of `podman run`/`docker run` for a container ended by a signal: 128 + the signal's number.
const SIGNALS = { 137: 'SIGKILL', 143: 'SIGTERM', 130: 'SIGINT' };

/**
 * Starts replica `index` as a new container (`generation` counts its replacements) published on host:port.
 * Returns the same shape as a process replica: { address, logs, exited, stop(signal, graceMs), misplaced() }.
 */
function startContainer(engine, { scenario, index, generation, host, port }) {
  const name = `kura-check-${process.pid}-${index + 1}-${generation}`;
  // PORT is the image's port, as platforms that run images (Cloud Run, Heroku) set it; the scenario's env wins.
  const env = { PORT: String(scenario.port), ...Object.fromEntries(Object.entries(scenario.env ?? {}).map(([key, value]) => [key, String(value)])) };
  const args = [
    'run', '--rm', '--pull=never', '--name', name, '--label', `kura-check=${process.pid}`,
    '--publish', `${host}:${port}:${scenario.port}`,
    // The network the store they share is on; else the engine's default, which reaches no store of this machine's loopback.
    ...(scenario.network ? ['--network', scenario.network] : []),
    ...Object.entries(env).flatMap(([key, value]) => ['--env', `${key}=${value}`]),
    scenario.image,
  ];
  // Attached: `podman run` lives as long as the container, passes on its output, and removes it (--rm) once it
  // has exited; signals go through `kill`.
  // Its own process group: a Ctrl-C at the terminal reaches kura-check, which stops every container itself.
  const child = spawn(engine, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk) => {
      logs.push(...chunk.toString().split('\n').filter(Boolean));
      logs.splice(0, Math.max(0, logs.length - 20));
    });
  }
  const exited = new Promise((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => resolve({ code, signal: signal ?? SIGNALS[code] ?? null }));
  });
  const engineDo = (...command) => run(engine, command, { timeout: 30_000 }).then(() => true, () => false);
  let gone = false;
  exited.then(() => (gone = true));
  // Until it has exited: a container still being created is not there yet for `kill`.
  const killUntilGone = async () => {
    while (!gone) {
      await engineDo('kill', '--signal', 'KILL', name);
      let again;
      await Promise.race([exited, new Promise((resolve) => (again = setTimeout(resolve, 1000)))]);
      clearTimeout(again); // a pending timer would keep kura-check alive for up to a second after its report
    }
  };
  /**
   * SIGKILL: at once. SIGTERM: as Kubernetes does, then SIGKILL after `graceMs`. Resolves once the container has
   * exited; `--rm` has the engine remove it then.
   */
  const stop = async (signal = 'SIGTERM', graceMs = 10_000) => {
    replica.stopping = true;
    let timer;
    if (signal === 'SIGKILL') void killUntilGone();
    else if (await engineDo('kill', '--signal', 'TERM', name)) timer = setTimeout(killUntilGone, graceMs);
    else void killUntilGone();
    const result = await exited;
    clearTimeout(timer);
    return result;
  };
  let pid;
  /** The container's first process, as this machine numbers it (undefined until it runs). */
  const firstProcess = async () => (pid ??= await run(engine, ['inspect', '--format', '{{.State.Pid}}', name]).then(({ stdout }) => Number(stdout.trim()) || undefined, () => undefined));
  /** Its processes: the first and what descends from it (forked workers). */
  const processes = async () => ((await firstProcess()) ? processTree(pid) : []);
  /** Listening somewhere the published port does not reach (another port, or only 127.0.0.1 inside) for 3 s. */
  const misplaced = async () => {
    if (!(await firstProcess())) return undefined;
    const addresses = [...new Set((await listeningSockets(`/proc/${pid}`)).values())];
    const reachable = addresses.some((address) => address.endsWith(`:${scenario.port}`) && publishable(address));
    if (!addresses.length || reachable) return undefined;
    const onPort = addresses.some((address) => address.endsWith(`:${scenario.port}`));
    return onPort
      ? `the image listens only on ${addresses.join(', ')} inside its container: a published port cannot reach it (it must listen on 0.0.0.0:${scenario.port})`
      : `the image does not listen on its "port" ${scenario.port}: replica ${index + 1} (${host}:${port}, ${scenario.image}) listens on ${addresses.join(', ')} inside its container${portHint(addresses)}`;
  };
  const replica = { index, generation, host, port, address: `${host}:${port}`, child, logs, exited, stop, misplaced, processes, container: name, engine, stopping: false };
  return replica;
}
