// Cold-start benchmark: spawn a fresh Node process that loads a handler and serves one authenticated
// request, many times, for Kura's bundle and two baselines run side by side in the same benchmark:
//   bare Node        — a process that prints and exits (the floor)
//   plain Fastify    — a minimal Fastify handler doing the same DynamoDB read, bundled the same way
//   minimal NestJS   — the smallest NestJS-on-Fastify handler doing the same read (what the framework costs)
//   Kura             — .build/lambda/index.mjs (npm run bundle): the entry, which turns on the compile cache
//                      made at build time, then loads app.mjs; the whole folder read-only, as on Lambda
//   Kura, no cache   — the same app.mjs loaded directly, with no compile cache
// Reports median and p90 spawn-to-response and the ratios to plain Fastify and to minimal NestJS.
// With --instructions [N], it then counts each target's instructions per cold start, N times each (default 3),
// under valgrind's cachegrind with Node's --single-threaded: a count that load on the machine does not move,
// where times on a shared host move by 10% or more between runs. V8 refuses a compile cache made under other
// flags, so Kura's counted copy carries a cache made by the same warm-up under --single-threaded.
// Usage: node bench/cold-start/run.mjs [--runs N] [--instructions [N]]
//        (npm run bench:cold-start; --quick for 5 runs; --instructions needs valgrind: apt-get install valgrind)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmod, cp, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { coldStartFiles, compileCacheFiles } from '../../scripts/lambda-bundle-files.mjs';
import dynalite from 'dynalite';
import { buildLambdaBundle, lambdaBundleOptions } from '../../scripts/lambda-bundle-options.mjs';

const argv = process.argv.slice(2);
const runs = argv.includes('--quick') ? 5 : Number(argv[argv.indexOf('--runs') + 1] || 30);
const countArg = argv.indexOf('--instructions');
const counts = countArg === -1 ? 0 : /^\d+$/.test(argv[countArg + 1] ?? '') ? Number(argv[countArg + 1]) : 3;
if (counts > 0 && spawnSync('valgrind', ['--version']).error) {
  console.error('--instructions needs valgrind (Debian: apt-get install valgrind)');
  process.exit(2);
}
const here = new URL('.', import.meta.url).pathname;
const root = new URL('../../', import.meta.url).pathname;

// One engine for all: dynalite in this process, in memory, with Kura's tables.
const server = dynalite({ createTableMs: 0 });
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const endpoint = `http://127.0.0.1:${server.address().port}`;
const env = {
  ...process.env,
  DYNAMODB_ENDPOINT: endpoint,
  AWS_REGION: 'us-east-1',
  KURA_SESSIONS_TABLE: 'bench-sessions',
  KURA_USERS_TABLE: 'bench-users',
  KURA_STORE: 'dynamodb',
  KURA_DOCS_UI: 'false',
  KURA_LOG_LEVEL: 'error',
  KURA_PASSWORD_HASH_COST: '12',
};
Object.assign(process.env, env);
const { createDynamoDbClients, ensureKuraTables } = await import(join(root, 'dist/libs/dynamodb/src/index.js'));
const { client } = createDynamoDbClients({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'kuralocal', secretAccessKey: 'kuralocal' } });
await ensureKuraTables(client, { sessions: env.KURA_SESSIONS_TABLE, users: env.KURA_USERS_TABLE });
client.destroy();

// A user and a bearer session, made through Kura's own bundle (app.mjs: this process must not use or write the cache).
const kuraBundle = join(root, '.build/lambda/app.mjs');
const { handler: kura } = await import(kuraBundle);
const call = (method, path, body) =>
  kura(
    {
      version: '2.0', routeKey: '$default', rawPath: path, rawQueryString: '',
      headers: { host: 'bench.local', 'content-type': 'application/json' },
      requestContext: { http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' }, requestId: 'seed', stage: '$default', timeEpoch: Date.now() },
      body: JSON.stringify(body), isBase64Encoded: false,
    },
    { awsRequestId: 'seed', getRemainingTimeInMillis: () => 10_000 },
  );
await call('POST', '/auth/register', { email: 'bench@example.com', password: 'benchmark password' });
const { token } = JSON.parse((await call('POST', '/auth/login', { email: 'bench@example.com', password: 'benchmark password', transport: 'bearer' })).body);

// Both handlers run from a folder with no node_modules, as on Lambda: an optional package that a bundle
// looks for at start-up and finds in the project's node_modules would otherwise be loaded and timed too.
const outdir = await mkdtemp(join(tmpdir(), 'kura-bench-'));
// The whole artifact folder: the entry, app.mjs, the chunks it imports (the bundle is split: Redis's client loads
// only with KURA_STORE=redis) and the compile cache. Read-only, as Lambda's code directory is, and checked
// unchanged after the runs: every sample reads the cache made at build time and none writes one.
const kuraDir = join(outdir, 'kura');
await cp(join(root, '.build/lambda'), kuraDir, { recursive: true });
const kuraArtifact = join(kuraDir, 'index.mjs');
const kuraNoCacheDir = join(outdir, 'kura-no-cache');
await cp(join(root, '.build/lambda'), kuraNoCacheDir, { recursive: true, filter: (source) => !source.includes('compile-cache') });
const kuraNoCache = join(kuraNoCacheDir, 'app.mjs');
const snapshot = async (dir) => {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
  return (await Promise.all(files.map(async (entry) => `${join(entry.parentPath, entry.name)} ${(await readFile(join(entry.parentPath, entry.name))).toString('base64')}`))).sort().join('\n');
};
const readOnly = async (dir) => {
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) await chmod(join(entry.parentPath, entry.name), entry.isDirectory() ? 0o555 : 0o444);
  await chmod(dir, 0o555);
};
await readOnly(kuraDir);
await readOnly(kuraNoCacheDir);
// For --instructions: the same artifact, its compile cache made again by the same warm-up under --single-threaded.
const kuraCountedDir = join(outdir, 'kura-single-threaded');
if (counts > 0) {
  await cp(join(root, '.build/lambda'), kuraCountedDir, { recursive: true, filter: (source) => !source.includes('compile-cache') });
  execFileSync(process.execPath, ['--single-threaded', join(root, 'scripts/lambda-compile-cache.mjs'), join(kuraCountedDir, 'index.mjs')], { env: { PATH: process.env.PATH ?? '' } });
  await readOnly(kuraCountedDir);
}
const artifactDirs = counts > 0 ? [kuraDir, kuraNoCacheDir, kuraCountedDir] : [kuraDir, kuraNoCacheDir];
const artifacts = async () => (await Promise.all(artifactDirs.map(snapshot))).join('\n');
const before = await artifacts();
const { size: kuraLoaded } = await coldStartFiles(root);
const { size: cacheBytes } = await compileCacheFiles(root);
// The baseline, bundled with exactly the options of Kura's handler (scripts/lambda-bundle-options.mjs).
const plainBundle = join(outdir, 'plain.mjs');
await buildLambdaBundle({ ...lambdaBundleOptions, entryPoints: [join(here, 'plain-fastify-handler.mjs')], outfile: plainBundle });
const nestBundle = join(outdir, 'nest.mjs');
await buildLambdaBundle({ ...lambdaBundleOptions, entryPoints: [join(here, 'plain-nest-handler.ts')], outfile: nestBundle });

/** Instructions (user space, every thread) of one cold start of `target`, in millions. */
function instructions(target) {
  return new Promise((resolve, reject) => {
    const args = ['--tool=cachegrind', '--cache-sim=no', '--cachegrind-out-file=/dev/null', process.execPath, '--single-threaded', join(here, 'invoke-once.mjs'), target, token];
    const child = spawn('valgrind', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.once('error', reject);
    child.on('exit', () => {
      const refs = /I\s+refs:\s+([\d,]+)/.exec(err);
      if (!refs || !/^200\b/m.test(out)) reject(new Error(`${target}: ${out}${err.slice(-2000)}`));
      else resolve(Number(refs[1].replaceAll(',', '')) / 1e6);
    });
  });
}

function sample(target) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, [join(here, 'invoke-once.mjs'), target, token], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      // The handler's own log lines (CloudWatch EMF) come first; the status line is what invoke-once prints.
      const line = out.split('\n').find((text) => /^\d{3}\b/.test(text));
      if (line) {
        const elapsed = performance.now() - start;
        const status = line.split(' ')[0];
        if (status !== '200') reject(new Error(`${target}: status ${out}`));
        else resolve(elapsed);
      }
    });
    child.once('error', reject);
    // A target that dies before answering (its error on stderr, above) ends the run, rather than leaving it waiting
    // for ever (seen with the machine's older Node on PATH: the bundle's import failed and the bench hung). After an
    // answer, its exit settles nothing.
    child.once('exit', (code, signal) => reject(new Error(`${target}: exited (${signal ?? code}) before it answered: ${out.slice(-2000)}`)));
  });
}

const targets = [
  ['bare Node', 'bare'],
  ['plain Fastify + GetItem', plainBundle],
  ['minimal NestJS on Fastify + GetItem', nestBundle],
  ['Kura, no compile cache', kuraNoCache],
  ['Kura (bundle)', kuraArtifact],
];
const samples = Object.fromEntries(targets.map(([name]) => [name, []]));
for (let i = 0; i < runs; i += 1) {
  // Interleaved, so that machine noise spreads over every target alike.
  for (const [name, target] of targets) samples[name].push(await sample(target));
}
const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const plainMedian = quantile(samples['plain Fastify + GetItem'], 0.5);
console.log(`\ncold start, spawn to first authenticated response, ${runs} runs each, Node ${process.version}\n`);
const nestMedian = quantile(samples['minimal NestJS on Fastify + GetItem'], 0.5);
console.log('| target | median ms | p90 ms | median vs plain Fastify | vs minimal NestJS | bundle |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const [name, target] of targets) {
  const median = quantile(samples[name], 0.5);
  const bytes = target === kuraArtifact || target === kuraNoCache ? kuraLoaded : target === 'bare' ? undefined : (await stat(target)).size;
  const cache = target === kuraArtifact ? ` + ${(cacheBytes / 1024).toFixed(0)} KiB cache` : '';
  const size = bytes === undefined ? '—' : `${(bytes / 1024).toFixed(0)} KiB${cache}`;
  console.log(`| ${name} | ${median.toFixed(0)} | ${quantile(samples[name], 0.9).toFixed(0)} | ${(median / plainMedian).toFixed(2)}x | ${(median / nestMedian).toFixed(2)}x | ${size} |`);
}
if (counts > 0) {
  const counted = [
    ['plain Fastify + GetItem', plainBundle],
    ['minimal NestJS on Fastify + GetItem', nestBundle],
    ['Kura, no compile cache', kuraNoCache],
    ['Kura (bundle, its cache made under --single-threaded)', join(kuraCountedDir, 'index.mjs')],
  ];
  const found = Object.fromEntries(counted.map(([name]) => [name, []]));
  for (let i = 0; i < counts; i += 1) for (const [name, target] of counted) found[name].push(await instructions(target));
  const nestCount = quantile(found['minimal NestJS on Fastify + GetItem'], 0.5);
  console.log(`\ninstructions per cold start (valgrind cachegrind, node --single-threaded), ${counts} runs each\n`);
  console.log('| target | median M instructions | runs | vs minimal NestJS |');
  console.log('| --- | ---: | --- | ---: |');
  for (const [name] of counted) {
    const median = quantile(found[name], 0.5);
    console.log(`| ${name} | ${median.toFixed(1)} | ${found[name].map((count) => count.toFixed(1)).join(', ')} | ${(median / nestCount).toFixed(2)}x |`);
  }
}
const unchanged = (await artifacts()) === before;
console.log(`\nartifact folders after the runs: ${unchanged ? 'unchanged (read-only, the build-time cache only)' : 'CHANGED: a run wrote into the code folder'}`);
await chmod(outdir, 0o755);
for (const dir of artifactDirs) {
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) if (entry.isDirectory()) await chmod(join(entry.parentPath, entry.name), 0o755);
  await chmod(dir, 0o755);
}
await rm(outdir, { recursive: true, force: true });
if (!unchanged) process.exitCode = 1;
server.close();
process.exit(process.exitCode ?? 0);
