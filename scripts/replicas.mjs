// npm run replicas — the same Kura you ran with `npm start`, now as three replicas behind a load balancer:
// the embedded engine serves the data `npm start` wrote (.data/), replicas listen on 127.0.0.11-13, and nginx
// (Debian's) takes over http://127.0.0.1:3000 with round robin and no affinity. A browser that logged in before
// is still logged in. Stop `npm start` first (the data folder has one owner at a time). Ctrl-C stops everything.
// Options: --replicas N (default 3), --port P (default 3000, or PORT).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNginx } from 'kura-check/nginx';
import { startReplica, waitReady } from '../bench/prove/replica.mjs';

const argv = process.argv.slice(2);
const option = (name, fallback) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : fallback);
const REPLICAS = Number(option('replicas', 3));
const PORT = Number(option('port', process.env.PORT ?? 3000));
const ROOT = new URL('..', import.meta.url).pathname;
const dist = (path) => join(ROOT, 'dist', path);

const { ConfigError, loadConfig } = await import(dist('apps/api/src/config/app-config.js'));
const { DataDirInUseError, startEmbeddedDynamoDb } = await import(dist('apps/api/src/embedded/embedded-dynamodb.js'));
const { initTables } = await import(dist('apps/api/src/storage/tables.js'));
const { ConsoleLogger } = await import('@nestjs/common');

const logger = new ConsoleLogger({ prefix: 'Kura' });
// Bad configuration, or the data folder taken by a running `npm start`: one line, no stack.
const oneLine = (error) => {
  if (!(error instanceof ConfigError || error instanceof DataDirInUseError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
};
let config;
try {
  config = loadConfig({ ...process.env, KURA_STORE: 'embedded', DYNAMODB_ENDPOINT: undefined });
} catch (error) {
  oneLine(error);
}
// The engine writes its address to the data folder, so `npm run sessions` reaches it as it reaches `npm start`'s.
const engine = await startEmbeddedDynamoDb(config.store.dataDir).catch(oneLine);
await initTables({ ...config.store, endpoint: engine.endpoint }, logger);

const children = [];
const work = await mkdtemp(join(tmpdir(), 'kura-replicas-'));
let nginx;
let stopping = false;
async function stopAll(code = 0) {
  if (stopping) return;
  stopping = true;
  await nginx?.stop();
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined)));
  await engine.close();
  await rm(work, { recursive: true, force: true });
  process.exit(code);
}
process.once('SIGINT', () => void stopAll());
process.once('SIGTERM', () => void stopAll());

const addresses = [];
for (let index = 0; index < REPLICAS; index += 1) {
  const { host, address, child } = startReplica({
    index,
    port: PORT,
    stdout: 'inherit',
    env: {
      ...process.env,
      KURA_STORE: 'dynamodb',
      DYNAMODB_ENDPOINT: engine.endpoint,
      KURA_TRUST_PROXY: '127.0.0.1',
      KURA_SHUTDOWN_DRAIN_SECONDS: '1',
      KURA_LOG_LEVEL: process.env.KURA_LOG_LEVEL ?? 'warn',
    },
  });
  child.once('exit', (code) => !stopping && logger.warn(`replica ${host} exited (${code})`, 'Replicas'));
  children.push(child);
  addresses.push(address);
}
try {
  await Promise.all(addresses.map(waitReady));
} catch (error) {
  logger.error(error.message, 'Replicas');
  await stopAll(1);
}
try {
  nginx = await startNginx({ dir: work, listen: `127.0.0.1:${PORT}`, upstreams: addresses, mode: 'round-robin' });
} catch (error) {
  logger.error(`nginx could not start (is it installed? apt-get install nginx-light): ${error.message}`, 'Replicas');
  await stopAll(1);
}
logger.log(`${REPLICAS} replicas (${addresses.join(', ')}) behind nginx at http://127.0.0.1:${PORT} — explorer at /docs. Ctrl-C stops all.`, 'Replicas');
