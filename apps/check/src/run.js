// The run: replicas on their own loopback addresses, nginx in front, virtual users; under round robin, then
// under cookie affinity: steady traffic, a SIGKILL and a replacement, a rolling restart (SIGTERM, wait, replace).
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNginx } from './nginx.js';
import { freePort, startReplica, waitReady } from './replica.js';
import { CannotJudge } from './scenario.js';
import { Recorder, VirtualUser } from './users.js';
import { verdictOf } from './verdict.js';

export const MODES = ['round-robin', 'cookie-affinity'];

/** How long each part lasts (ms), and how many users: the default run and --quick. */
export const PACE = {
  default: { users: 8, steady: 6000, afterKill: 4000, betweenRestarts: 1000, afterRestarts: 2500 },
  quick: { users: 4, steady: 1500, afterKill: 1200, betweenRestarts: 200, afterRestarts: 800 },
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function nginxInstalled() {
  try {
    execFileSync('nginx', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs the scenario and returns { verdict, modes, events, replicas, users, seconds }. Throws CannotJudge when it
 * cannot judge (the app never became ready, ignored PORT/HOST, no user could ever log in, nginx missing).
 * `progress(line)` is told what happens; `hostBase` is the last octet of the first address (127.0.0.x).
 */
export async function runCheck(scenario, { quick = false, users, replicas = scenario.replicas, hostBase = 11, progress = () => {} } = {}) {
  if (scenario.image) throw new CannotJudge('"image" is not supported yet by this version of kura-check: give "start"');
  if (!nginxInstalled()) throw new CannotJudge('nginx is not installed (apt-get install nginx-light): kura-check uses it as the balancer');
  const pace = { ...(quick ? PACE.quick : PACE.default), ...(users ? { users } : {}) };
  const started = Date.now();
  const work = await mkdtemp(join(tmpdir(), 'kura-check-'));
  const running = new Set();
  const events = [];
  const at = () => Number(((Date.now() - started) / 1000).toFixed(1));
  const event = (what) => (events.push({ atSeconds: at(), what }), progress(what));
  let nginx;
  // Interrupted (Ctrl-C, or a CI job's timeout sending SIGTERM): the replicas and nginx go too, never orphaned.
  const onInterrupt = (signal) => void cleanup().then(() => process.exit(signal === 'SIGTERM' ? 143 : 130));
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onInterrupt);
  async function cleanup() {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
    await nginx?.stop().catch(() => {});
    await Promise.all([...running].map((replica) => replica.stop('SIGKILL')));
    await rm(work, { recursive: true, force: true });
  }

  try {
    const slots = [];
    for (let index = 0; index < replicas; index += 1) {
      const host = `127.0.0.${hostBase + index}`;
      slots.push({ index, host, port: await freePort(host), generation: 0 });
    }
    const lbHost = `127.0.0.${hostBase - 1}`;
    const listen = `${lbHost}:${await freePort(lbHost)}`;
    const byAddress = new Map(slots.map((slot) => [`${slot.host}:${slot.port}`, slot.index + 1]));
    // $upstream_addr lists every replica tried (", " retries, " : " internal redirects): the last one served.
    const replicaOf = (header) => byAddress.get((header ?? '').split(/\s*[,:]\s+/).filter(Boolean).at(-1)) ?? null;

    const current = [];
    const launch = async (slot) => {
      const replica = await startReplica({ scenario, work, ...slot });
      running.add(replica);
      replica.exited.then(({ code, signal }) => {
        running.delete(replica);
        // A crash is part of what the users saw: the timeline says when, and the app's last line.
        if (!replica.stopping) event(`replica ${slot.index + 1} exited by itself (${signal ?? `code ${code}`})${replica.logs.length ? `: ${replica.logs.at(-1).slice(0, 160)}` : ''}`);
      });
      current[slot.index] = replica;
      await waitReady(replica, scenario);
      slot.generation += 1;
      return replica;
    };
    progress(`starting ${replicas} replicas of ${scenario.name}: ${slots.map((s) => `${s.host}:${s.port}`).join(', ')}`);
    await Promise.all(slots.map(launch));
    event(`${replicas} replicas ready`);

    const names = Array.from({ length: pace.users }, (_, id) => `vu${id + 1}-${Math.random().toString(36).slice(2, 8)}`);
    const modes = {};
    const addressOf = (slot) => `${slot.host}:${slot.port}`;
    // The balancer sends only to ready replicas, as a Service does: out before a stop, back in once ready.
    const endpoints = new Set(slots.map(addressOf));
    const reroute = () => nginx.route(slots.map(addressOf).filter((address) => endpoints.has(address)));
    const leave = (slot) => (endpoints.delete(addressOf(slot)), reroute());
    const enter = (slot) => (endpoints.add(addressOf(slot)), reroute());
    for (const mode of MODES) {
      const recorder = new Recorder(mode);
      nginx = await startNginx({ dir: join(work, mode), listen, upstreams: slots.map(addressOf), mode });
      event(`${mode}: ${pace.users} users log in and use the app`);
      const people = names.map((name, id) => new VirtualUser({ id: id + 1, name, scenario, base: `http://${listen}`, recorder, replicaOf }));
      const journeys = people.map((user) => user.run());
      await sleep(pace.steady);

      recorder.phase = 'kill';
      const victim = slots[1 % replicas];
      event(`${mode}: SIGKILL replica ${victim.index + 1}, then a replacement`);
      recorder.disruptions += 1;
      await current[victim.index].stop('SIGKILL');
      await leave(victim); // Kubernetes notices the dead pod and takes it out of the endpoints
      await launch(victim);
      await enter(victim);
      await sleep(pace.afterKill);

      recorder.phase = 'rolling';
      event(`${mode}: rolling restart (SIGTERM, wait, replace) of replicas 1-${replicas}`);
      for (const slot of slots) {
        const stopping = Date.now();
        recorder.disruptions += 1;
        await leave(slot);
        const { signal } = await current[slot.index].stop('SIGTERM', scenario.terminationGracePeriodSeconds * 1000);
        const took = ((Date.now() - stopping) / 1000).toFixed(1);
        event(`${mode}: replica ${slot.index + 1} stopped ${took} s after SIGTERM${signal === 'SIGKILL' ? `, killed at the end of its ${scenario.terminationGracePeriodSeconds} s grace period` : ''}`);
        await launch(slot);
        await enter(slot);
        await sleep(pace.betweenRestarts);
      }
      await sleep(pace.afterRestarts);
      for (const user of people) user.stopped = true;
      await Promise.all(journeys);
      await nginx.stop();
      nginx = undefined;
      modes[mode] = recorder;
      const lost = Object.values(recorder.phases).reduce((sum, phase) => sum + phase.failures, 0);
      event(`${mode}: ${lost} failed requests, ${recorder.usersAffected.size} of ${pace.users} users affected`);
    }
    if (Object.values(modes).every((mode) => mode.logins === 0)) {
      const first = modes['cookie-affinity'].evidence.login ?? modes['round-robin'].evidence.login;
      throw new CannotJudge(`no virtual user could log in${first ? `: ${first.request} answered ${first.status} ${first.body.slice(0, 80)}` : ''}`);
    }
    return { verdict: verdictOf(modes), modes, events, replicas, users: pace.users, seconds: at() };
  } finally {
    await cleanup();
  }
}
