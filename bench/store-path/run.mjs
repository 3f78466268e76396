// The store's own CPU on express-session's steady GET, in process: KuraStore (on its Redis adapter) against
// express-session + connect-redis and the bound any store has there (connect-redis doing one GET, no touch), each
// given a Redis client that answers at once (bench/store-path/system.mjs). The end-to-end figures of issue 15 are
// `npm run bench -- --group redis`; this one leaves out what the systems share (HTTP, Express, the socket to
// Redis, Redis itself), where a run moves by ±10%, and keeps what a store adds: reading and hashing the id,
// decoding what Redis holds, the touch rule and the merge rule's bookkeeping (KuraStore), or a JSON.parse and an
// EXPIRE (connect-redis). It is the figure to compare two versions of KuraStore with; it does not count what a
// store saves on the wire (connect-redis's EXPIRE round trip, which KuraStore does not make).
//
// Usage: npm run bench:store-path [-- --rounds 5 --requests 200000 --warmup 50000 --repeats 3]
// Each system runs `--repeats` times, in its own process, interleaved with the others (pinned to the last core
// with util-linux's taskset where there are two or more); a system's figure is the median of all its rounds.
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';

const argv = process.argv.slice(2);
const option = (name, fallback) => (argv.includes(`--${name}`) ? Number(argv[argv.indexOf(`--${name}`) + 1]) : fallback);
const env = { ...process.env, WARMUP: String(option('warmup', 50_000)), REQUESTS: String(option('requests', 200_000)), ROUNDS: String(option('rounds', 5)) };
const repeats = option('repeats', 3);
const systems = { kura: 'express-session + KuraStore', 'connect-redis': 'express-session + connect-redis', bound: 'express-session + one GET (connect-redis, disableTouch)' };
const script = new URL('./system.mjs', import.meta.url).pathname;
const pin = cpus().length >= 2 && spawnSync('taskset', ['--version']).status === 0 ? ['taskset', '--cpu-list', String(cpus().length - 1)] : [];

const rounds = Object.fromEntries(Object.keys(systems).map((system) => [system, []]));
for (let repeat = 0; repeat < repeats; repeat++) {
  for (const system of Object.keys(systems)) {
    const [command, ...args] = [...pin, process.execPath, script];
    const run = spawnSync(command, args, { env: { ...env, STORE: system }, encoding: 'utf8' });
    if (run.status !== 0) {
      console.error(run.stderr || run.stdout);
      process.exit(1);
    }
    rounds[system].push(...JSON.parse(run.stdout.trim().split('\n').pop()).nsPerRequest);
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const figure = Object.fromEntries(Object.entries(rounds).map(([system, values]) => [system, median(values)]));
console.log(`The store's own CPU on express-session's steady GET, in process (median of ${rounds.kura.length} rounds each; ${pin.length ? 'pinned' : 'not pinned'})`);
console.log('| system | ns per request (the store and express-session) | rounds (min-max) | vs KuraStore |');
console.log('| --- | ---: | --- | ---: |');
for (const [system, name] of Object.entries(systems)) {
  const values = rounds[system];
  console.log(`| ${name} | ${figure[system]} | ${Math.min(...values)}-${Math.max(...values)} | ${(figure[system] / figure.kura).toFixed(2)}x |`);
}
console.log(`KuraStore's own cost over the bound: ${figure.kura - figure.bound} ns per request; over connect-redis: ${figure.kura - figure['connect-redis']} ns.`);
