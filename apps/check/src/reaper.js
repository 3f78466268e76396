// kura-check's reaper: a process of its own (its own session) that outlives kura-check. kura-check tells it, one
// JSON line at a time on its standard input, what it starts (a replica's process group and mark, an nginx, the
// label of its containers) and, once it has stopped all of it itself, "done". If the input ends without "done",
// kura-check was ended without a chance to clean up (SIGKILL, the OOM killer, a CI runner's hard kill): the reaper
// ends what it was told of, as Ctrl-C would have, and removes the run's folder.
import { execFile } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import { markedProcesses, procStat } from './replica.js';

const [work] = process.argv.slice(2);
const replicas = [];
const nginx = [];
let containers;
let done = false;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const kill = (pid, signal) => {
  try {
    process.kill(pid, signal);
  } catch {
    // gone already
  }
};

/** The processes whose parent is `pid` (nginx's workers). */
async function childrenOf(pid) {
  const children = [];
  for (const entry of await readdir('/proc').catch(() => [])) {
    if (/^\d+$/.test(entry) && (await procStat(entry))?.ppid === pid) children.push(Number(entry));
  }
  return children;
}

const isNginx = async (pid) => (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).startsWith('nginx');

async function reap() {
  // nginx first (SIGTERM: its master stops its workers), so that nothing is sent on to replicas that are going;
  // only if it is still an nginx (its number may be another's by now).
  const masters = [];
  for (const pid of nginx) if (await isNginx(pid)) masters.push(pid);
  const workers = (await Promise.all(masters.map(childrenOf))).flat();
  for (const pid of masters) kill(pid, 'SIGTERM');
  // A replica's group, if it is still the replica's (a process in it carries the mark): its number may be another's now.
  for (const { group, mark, view } of replicas) {
    const groups = await Promise.all((await markedProcesses(mark, { view })).map(async (pid) => (await procStat(pid))?.group));
    if (groups.includes(group)) kill(-group, 'SIGKILL');
  }
  // What left a replica's group (setsid, a daemon): by its mark, until none is left (one may fork meanwhile).
  for (let round = 0; round < 5; round += 1) {
    const left = (await Promise.all(replicas.map(({ mark, view }) => markedProcesses(mark, { view })))).flat();
    if (!left.length) break;
    for (const pid of left) kill(pid, 'SIGKILL');
    await sleep(100);
  }
  if (containers) {
    await new Promise((resolve) => execFile(containers.engine, ['rm', '--force', ...(containers.engine === 'podman' ? ['--time', '0'] : []), '--filter', `label=${containers.label}`], { timeout: 60_000 }, resolve));
  }
  await sleep(1000);
  for (const pid of [...masters, ...workers]) if (await isNginx(pid)) kill(pid, 'SIGKILL');
  if (work) await rm(work, { recursive: true, force: true }).catch(() => {});
}

let buffer = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffer += chunk;
  const lines = buffer.split('\n');
  buffer = lines.pop();
  for (const line of lines) {
    const message = JSON.parse(line);
    if (message === 'done') done = true;
    else if (message.replica) replicas.push(message.replica);
    else if (message.nginx) nginx.push(message.nginx);
    else if (message.containers) containers = message.containers;
  }
});
// Ended, or broken (kura-check gone): the same.
let ending;
const ended = () => void (ending ??= (done ? Promise.resolve() : reap()).finally(() => process.exit(0)));
process.stdin.once('end', ended);
process.stdin.once('error', ended);
// Signals meant for kura-check's terminal or job (Ctrl-C, a hang-up) are not for the reaper: it goes when its input does.
for (const signal of ['SIGINT', 'SIGHUP', 'SIGTERM']) process.on(signal, () => {});
