import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

/** A DynamoDB-compatible engine inside this process, for `npm start` with no setup. */
export interface EmbeddedDynamoDb {
  readonly endpoint: string;
  close(): Promise<void>;
}

/**
 * Starts dynalite (DynamoDB's API on LevelDB) on loopback, keeping data under `dataDir` so users and
 * sessions survive a restart. Only for local use: it has no TTL deletion and no transactions, which Kura does
 * not need (expired sessions are treated as absent on every read).
 */
export async function startEmbeddedDynamoDb(dataDir: string, port = 0): Promise<EmbeddedDynamoDb> {
  await mkdir(dataDir, { recursive: true });
  const server = dynalite({ path: dataDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${bound}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
