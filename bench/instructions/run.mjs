// Instructions per request, counted by valgrind (cachegrind), for Kura's own cost over NestJS on its hot path:
// Kura with the signed session cache and Kura strict, both on the in-process memory store (so no store client is
// counted), against the minimal NestJS app answering from memory (bench/sessions/systems/nest-memory.ts, bundled
// the same way); Kura on Redis against the minimal NestJS app doing one Redis GET (nest-getitem.ts); and
// express-session with KuraStore on Redis against express-session + connect-redis (both as `npm run bench` runs
// them) and against the bound any store has there (connect-redis doing one GET and no touch). The NestJS references
// also run answering exactly what Kura answers (`nest-answer`, `nest-redis-answer`: the session's view and Kura's
// headers), so that Kura minus them is what its session handling costs, its documented answer aside. Requests per
// second on this shared 2-core machine move by up to 40% between rounds; instruction counts move much less (see
// below): this is the figure to compare two versions of Kura's request path with. They count user space only: a
// system call costs one instruction here, so compare system calls apart (strace -c).
//
// Method: each target runs twice under `valgrind --tool=cachegrind --cache-sim=no`, with Node's --single-threaded
// (the JIT compiles and the GC runs on the main thread, where they are counted, and in a repeatable order). Each
// run starts the server, opens one session, serves WARMUP requests, then N requests, and stops; the two runs differ
// only in N, so (instructions of the long run - the short one) / (N2 - N1) is the cost of one request, with start,
// warm-up and shutdown cancelled out. The warm-up must be long enough for V8 to have finished optimising: after
// 3,000 requests the minimal NestJS app on Redis was still compiling, and four runs of it counted 93k, 231k, 258k
// and 395k per request; after 10,000, 314k and 318k (2026-12-01). Counts are not exact repeats: how many requests
// the server finds per turn of its event loop, and so how many commands its Redis client writes at once, depends on
// its speed against the load generator's. On a quiet machine Kura's own counts moved by 6% at most between runs, a
// reference's by up to 30% (the answering reference on Redis: 163.8k, 214.7k, 218.4k); other load moves them
// further (Kura on Redis: 303k with a build and another benchmark running, 208k-221k alone). Compare medians of
// several runs, on a quiet machine. With --connections 1 (one request at a time, so nothing to batch) the answering
// reference on Redis counted 219.9k and 203.9k, Kura 220.7k and 225.6k: steadier, not steady.
//
// Usage: npm run bench:instructions [-- --warmup 10000 --short 2000 --long 8000 --connections 4 --targets nest,kura-cache]
//                                    [--main path/to/another/build/main.mjs]   (to compare two versions of Kura)
// Needs valgrind (Debian: apt-get install valgrind). About 1.5 minutes per target on 2 cores.
import { spawn, spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import autocannon from 'autocannon';

const argv = process.argv.slice(2);
const option = (name, fallback) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : fallback);
const WARMUP = Number(option('warmup', 10000));
const SHORT = Number(option('short', 2000));
const LONG = Number(option('long', 8000));
const CONNECTIONS = Number(option('connections', 4));
const root = new URL('../../', import.meta.url).pathname;
const KURA_MAIN = option('main', join(root, '.build/server/main.mjs'));

if (spawnSync('valgrind', ['--version']).error) {
  console.error('valgrind is not installed (Debian: apt-get install valgrind)');
  process.exit(2);
}

const cacheKeys = `bench:${randomBytes(32).toString('base64url')}`;
const TARGETS = {
  nest: { name: 'reference: minimal NestJS, no session, from memory', script: 'nest-memory', reference: 'nest' },
  'kura-cache': { name: 'Kura, signed session cache, memory store', session: true, env: { KURA_SESSION_CACHE_SECONDS: '300', KURA_SESSION_CACHE_KEYS: cacheKeys }, reference: 'nest' },
  'kura-strict': { name: 'Kura, strict, memory store', session: true, env: {}, reference: 'nest' },
  // The reference answering exactly what Kura answers (the session's view, Kura's headers): like with like.
  'nest-answer': { name: "reference: minimal NestJS from memory, Kura's answer", script: 'nest-memory', env: { BENCH_KURA_ANSWER: '1' }, reference: 'nest' },
  // On Redis (a redis-server started here; its own instructions are not counted, only the app's).
  'nest-redis': { name: 'reference: minimal NestJS doing one Redis GET', script: 'nest-getitem', redis: true, seeded: true, reference: 'nest-redis' },
  'nest-redis-answer': { name: "reference: minimal NestJS doing one Redis GET, Kura's answer", script: 'nest-getitem', redis: true, seeded: true, env: { BENCH_KURA_ANSWER: '1' }, reference: 'nest-redis' },
  'kura-redis': { name: 'Kura on Redis (KURA_STORE=redis), strict', session: true, redis: true, env: { KURA_STORE: 'redis' }, reference: 'nest-redis' },
  // express-session on Redis, as `npm run bench` runs it (unbundled): the connect-redis anchor and KuraStore.
  'express-redis': { name: 'reference: express-session + connect-redis', script: 'express-session.mjs', redis: true, cookie: 'connect-redis', reference: 'express-redis' },
  // The most any store can do under express-session: one GET and no touch (connect-redis with disableTouch).
  'express-redis-limit': { name: 'bound: express-session + one GET (connect-redis, disableTouch)', script: 'express-session.mjs', redis: true, cookie: 'connect-redis', env: { BENCH_DISABLE_TOUCH: '1' }, reference: 'express-redis' },
  'express-kura-redis': { name: 'express-session + KuraStore on Redis', script: 'express-kura-store.mjs', redis: true, cookie: 'kura', reference: 'express-redis' },
};
const chosen = option('targets', Object.keys(TARGETS).join(',')).split(',');
const redis = chosen.some((key) => TARGETS[key]?.redis) ? await startRedis() : undefined;

/** A redis-server in a temporary folder, and a client to seed the reference's session. */
async function startRedis() {
  const { mkdtemp } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { startRedis: startServer } = await import('../shared/redis.mjs');
  const server = await startServer({ dir: await mkdtemp(join(tmpdir(), 'kura-instructions-redis-')) });
  const { default: nodeRedis } = await import('redis');
  const client = nodeRedis.createClient({ url: server.url });
  await client.connect();
  return { ...server, client };
}

/**
 * The reference bundled exactly as `npm run bench` bundles it (the same esbuild options as Kura's server), once:
 * the two runs of a target start together, and two builds writing one file at once leave it half written.
 */
function referenceBundle(name) {
  bundles[name] ??= (async () => {
    const { buildServerBundle } = await import('../../scripts/server-bundle-options.mjs');
    const outdir = join(root, `bench/sessions/systems/.compiled/${name}`);
    await buildServerBundle({ entryPoints: { [name]: join(root, `bench/sessions/systems/${name}.ts`) }, outdir });
    return join(outdir, `${name}.mjs`);
  })();
  return bundles[name];
}
const bundles = {};

/** Total instructions of one run that serves `requests` measured requests after the warm-up. */
async function instructions(target, requests) {
  const script = target.cookie ? join(root, 'bench/sessions/systems', target.script) : target.script ? await referenceBundle(target.script) : KURA_MAIN;
  const env = {
    PATH: process.env.PATH, HOST: '127.0.0.61', PORT: '0', KURA_STORE: 'memory', KURA_COOKIE_SECURE: 'false', KURA_PASSWORD_HASH_COST: '10', KURA_REGISTRATION_MAX_PER_CLIENT: '10000',
    KURA_DOCS_UI: 'false', KURA_ACCESS_LOG: 'false', KURA_SHUTDOWN_DRAIN_SECONDS: '0', ...(target.redis ? { REDIS_URL: redis.url } : {}), ...target.env,
  };
  const args = ['--tool=cachegrind', '--cache-sim=no', '--cachegrind-out-file=/dev/null', process.execPath, '--single-threaded', script];
  const child = spawn('valgrind', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (chunk) => (err += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const url = await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening (?:on http:\/\/)?(\d+\.\d+\.\d+\.\d+:\d+)/.exec(out);
      if (match) resolve(`http://${match[1]}`);
    });
    exited.then(() => reject(new Error(`${target.name} did not start:\n${out}\n${err}`)));
  });
  let headers = { authorization: 'Bearer anything' };
  if (target.seeded) {
    // The session the one-GET reference reads: its user, under the hash of a random token (as run.mjs seeds it).
    const token = randomBytes(32).toString('base64url');
    const { seedReference } = await import('../sessions/systems/common.mjs');
    await seedReference(redis.client, token, { id: 'seeded', email: 'seeded@example.com' }, Boolean(target.env?.BENCH_KURA_ANSWER));
    headers = { authorization: `Bearer ${token}` };
  }
  if (target.cookie) headers = { cookie: await seedCookieSession(target.cookie) };
  if (target.session) {
    const post = (path, body) => fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await post('/auth/register', { email: 'bench@example.com', password: 'a benchmark password' });
    const { token } = await (await post('/auth/login', { email: 'bench@example.com', password: 'a benchmark password', transport: 'bearer' })).json();
    headers = { authorization: `Bearer ${token}` };
    const cache = (await fetch(`${url}/auth/me`, { headers })).headers.get('kura-session-cache');
    if (cache) headers['kura-session-cache'] = cache;
  }
  await autocannon({ url: `${url}/auth/me`, headers, connections: CONNECTIONS, amount: WARMUP });
  const measured = await autocannon({ url: `${url}/auth/me`, headers, connections: CONNECTIONS, amount: requests });
  if (measured.non2xx > 0) throw new Error(`${target.name}: ${measured.non2xx} answers were not 2xx`);
  child.kill('SIGINT');
  await exited;
  const total = /I\s+refs:\s+([\d,]+)/.exec(err)?.[1];
  if (!total) throw new Error(`${target.name}: no instruction count from valgrind:\n${err.slice(-2000)}`);
  return Number(total.replace(/,/g, ''));
}

/**
 * A logged-in express-session session, written by the store the target uses (connect-redis or KuraStore), and the
 * `sid` cookie that carries it, signed as express-session signs it (cookie-signature: HMAC-SHA256, base64 unpadded).
 */
async function seedCookieSession(store) {
  const { settings } = await import('../sessions/systems/common.mjs');
  const id = randomBytes(24).toString('base64url');
  const maxAge = 30 * 60 * 1000;
  const session = {
    cookie: { originalMaxAge: maxAge, expires: new Date(Date.now() + maxAge).toISOString(), secure: false, httpOnly: true, path: '/', sameSite: 'lax' },
    user: { id: 'seeded', email: 'seeded@example.com' },
  };
  if (store === 'connect-redis') {
    const { RedisStore } = await import('connect-redis');
    await new RedisStore({ client: redis.client }).set(id, session);
  } else {
    const { KuraStore } = await import('../../dist/libs/connect/src/index.js');
    const { connectRedis, RedisConnectSessionStore } = await import('../../dist/libs/redis/src/index.js');
    const connection = connectRedis({ url: redis.url });
    await connection.open();
    await new KuraStore({ adapter: new RedisConnectSessionStore(connection) }).set(id, session);
    await connection.close();
  }
  const signature = createHmac('sha256', settings.secret).update(id).digest('base64').replace(/=+$/, '');
  return `sid=${encodeURIComponent(`s:${id}.${signature}`)}`;
}

const results = [];
for (const key of chosen) {
  const target = TARGETS[key];
  if (!target) throw new Error(`unknown target ${key} (known: ${Object.keys(TARGETS).join(', ')})`);
  // The two runs of a target side by side: they count instructions, so sharing the two cores changes nothing.
  const [short, long] = await Promise.all([instructions(target, SHORT), instructions(target, LONG)]);
  const perRequest = (long - short) / (LONG - SHORT);
  results.push({ key, name: target.name, perRequest });
  console.log(`${target.name}: ${(perRequest / 1000).toFixed(1)}k instructions per GET /auth/me`);
}
if (redis) {
  await redis.client.quit();
  await redis.stop();
}
console.log('');
console.log(`| target (GET /auth/me, ${LONG - SHORT} requests after ${WARMUP} warm-up) | instructions/request | vs its reference |`);
console.log('| --- | ---: | ---: |');
for (const result of results) {
  const reference = results.find((candidate) => candidate.key === TARGETS[result.key].reference);
  console.log(`| ${result.name} | ${(result.perRequest / 1000).toFixed(1)}k | ${reference ? `${(result.perRequest / reference.perRequest).toFixed(2)}x` : '—'} |`);
}
