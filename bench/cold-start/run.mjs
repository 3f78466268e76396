// Cold-start benchmark: spawn a fresh Node process that loads a handler and serves one authenticated
// request, many times, for Kura's bundle and two baselines run side by side in the same benchmark:
//   bare Node        — a process that prints and exits (the floor)
//   plain Fastify    — a minimal Fastify handler doing the same DynamoDB read, bundled the same way
//   minimal NestJS   — the smallest NestJS-on-Fastify handler doing the same read (what the framework costs)
//   Kura             — .build/lambda/index.mjs (npm run bundle): the entry, which turns on the compile cache
//                      made at build time, then loads app.mjs; the whole folder read-only, as on Lambda
//   Kura, no cache   — the same app.mjs loaded directly, with no compile cache
// Reports median and p90 spawn-to-response and the ratios to plain Fastify and to minimal NestJS.
// Usage: node bench/cold-start/run.mjs [--runs N]   (npm run bench:cold-start; --quick for 5 runs)
import { spawn } from 'node:child_process';
import { chmod, cp, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { coldStartFiles, compileCacheFiles } from '../../scripts/lambda-bundle-files.mjs';
import dynalite from 'dynalite';
import { lambdaBundleOptions } from '../../scripts/lambda-bundle-options.mjs';

const argv = process.argv.slice(2);
const runs = argv.includes('--quick') ? 5 : Number(argv[argv.indexOf('--runs') + 1] || 30);
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
const artifacts = async () => (await snapshot(kuraDir)) + (await snapshot(kuraNoCacheDir));
const before = await artifacts();
const { size: kuraLoaded } = await coldStartFiles(root);
const { size: cacheBytes } = await compileCacheFiles(root);
// The baseline, bundled with exactly the options of Kura's handler (scripts/lambda-bundle-options.mjs).
const plainBundle = join(outdir, 'plain.mjs');
await build({ ...lambdaBundleOptions, entryPoints: [join(here, 'plain-fastify-handler.mjs')], outfile: plainBundle });
const nestBundle = join(outdir, 'nest.mjs');
await build({ ...lambdaBundleOptions, entryPoints: [join(here, 'plain-nest-handler.ts')], outfile: nestBundle });

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
const unchanged = (await artifacts()) === before;
console.log(`\nartifact folders after the runs: ${unchanged ? 'unchanged (read-only, the build-time cache only)' : 'CHANGED: a run wrote into the code folder'}`);
await chmod(outdir, 0o755);
for (const dir of [kuraDir, kuraNoCacheDir]) {
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) if (entry.isDirectory()) await chmod(join(entry.parentPath, entry.name), 0o755);
  await chmod(dir, 0o755);
}
await rm(outdir, { recursive: true, force: true });
if (!unchanged) process.exitCode = 1;
server.close();
process.exit(process.exitCode ?? 0);
