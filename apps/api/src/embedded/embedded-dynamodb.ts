import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import dynalite from 'dynalite';
import { engineAnswers } from '@kura/dynamodb';
import { DataDirInUseError } from './data-dir-in-use.error.js';
import { DataDirUnusableError } from './data-dir-unusable.error.js';

/** A DynamoDB-compatible engine inside this process, for `npm start` with no setup. */
export interface EmbeddedDynamoDb {
  readonly endpoint: string;
  close(): Promise<void>;
}

export { DataDirInUseError } from './data-dir-in-use.error.js';
export { DataDirUnusableError } from './data-dir-unusable.error.js';

/**
 * The file in the data folder where the process that owns the engine writes its address (`http://127.0.0.1:PORT`),
 * so that other commands on the same data (`npm run sessions`) reach the running engine. Removed on a clean stop;
 * a file left by a crash names an address where nothing answers, which {@link runningEngine} tells apart.
 */
export const ENDPOINT_FILE = 'endpoint';
const LOOPBACK_ENDPOINT = /^http:\/\/127\.0\.0\.1:\d{1,5}$/;
const LOCAL_CREDENTIALS = { accessKeyId: 'kuralocal', secretAccessKey: 'kuralocal' };

/**
 * Starts dynalite (DynamoDB's API on LevelDB) on loopback, keeping data under `dataDir` so users and
 * sessions survive a restart. Only for local use: it has no TTL deletion and no transactions, which Kura does
 * not need (expired sessions are treated as absent on every read). Refuses with {@link DataDirInUseError} when
 * another process owns `dataDir`, with {@link DataDirUnusableError} when no folder can be made there; rejects with the listen error (`EADDRINUSE`) when `port` is taken.
 */
export async function startEmbeddedDynamoDb(dataDir: string, port = 0): Promise<EmbeddedDynamoDb> {
  await mkdir(dataDir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    throw new DataDirUnusableError(dataDir, error.code ?? String(error));
  });
  if (await isLocked(dataDir)) throw new DataDirInUseError(dataDir, await runningEngine(dataDir));
  const server = dynalite({ path: dataDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await writeEndpoint(dataDir, endpoint);
  return {
    endpoint,
    close: async () => {
      await forgetEndpoint(dataDir, endpoint);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The address of the engine serving `dataDir` (`npm start`, `npm run replicas` or `npm run db:serve`), or
 * `undefined` when none is running: no endpoint file, or one left by a process that is gone (nothing answers).
 */
export async function runningEngine(dataDir: string): Promise<string | undefined> {
  const endpoint = (await readFile(join(dataDir, ENDPOINT_FILE), 'utf8').catch(() => '')).trim();
  if (!LOOPBACK_ENDPOINT.test(endpoint)) return undefined;
  // The embedded engine's own timeout (5 s, docs/configuration.md): it shares Kura's event loop, so a burst makes it
  // slow, not gone, and 1 s took a busy one for none (an outside review: `npm run sessions` said nothing was serving,
  // and `npm run db:serve`, as told, found the folder in use). A process that is gone refuses at once.
  const answers = await engineAnswers({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS, timeoutMs: 5000 });
  return answers ? endpoint : undefined;
}

/** Whether another process holds the LevelDB lock on `dataDir` (the operating system releases it when that process dies). */
async function isLocked(dataDir: string): Promise<boolean> {
  const probe = new ClassicLevel(dataDir);
  try {
    await probe.open();
    return false;
  } catch (error) {
    if ((error as { cause?: { code?: unknown } }).cause?.code === 'LEVEL_LOCKED') return true;
    throw error;
  } finally {
    await probe.close();
  }
}

async function writeEndpoint(dataDir: string, endpoint: string): Promise<void> {
  const file = join(dataDir, ENDPOINT_FILE);
  await writeFile(`${file}.${process.pid}`, `${endpoint}\n`);
  await rename(`${file}.${process.pid}`, file);
}

/** Removes the endpoint file if it still names this engine. */
async function forgetEndpoint(dataDir: string, endpoint: string): Promise<void> {
  const file = join(dataDir, ENDPOINT_FILE);
  const named = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (named === endpoint) await rm(file, { force: true });
}
