import { ConsoleLogger } from '@nestjs/common';
import { ConfigError, loadConfig } from './config/app-config.js';
import { DataDirInUseError, DataDirUnusableError, startEmbeddedDynamoDb } from './embedded/embedded-dynamodb.js';
import { ListenRefusedError, listening } from './port-in-use.error.js';
import { initTables } from './storage/tables.js';

/**
 * `npm run db:serve`: the embedded engine (dynalite, data under KURA_DATA_DIR) as a server of its own on
 * 127.0.0.1:KURA_DB_PORT (default 8000), with Kura's tables created. For `npm run offline`, for several
 * Kura processes sharing one engine on a laptop, and for `npm run sessions` while no Kura runs.
 */
try {
  const config = loadConfig({ ...process.env, KURA_STORE: 'embedded', DYNAMODB_ENDPOINT: undefined });
  const logger = new ConsoleLogger({ prefix: 'Kura' });
  const { dataDir, servePort } = config.store;
  const engine = await listening('KURA_DB_PORT', servePort, () => startEmbeddedDynamoDb(dataDir, servePort));
  // Every signal taken, the first one closing: npm passes its group's signal on too (main.ts says why).
  let closing: Promise<void> | undefined;
  const stop = () => void (closing ??= engine.close().then(() => process.exit(0)));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await initTables({ ...config.store, endpoint: engine.endpoint }, logger);
  logger.log(`DynamoDB-compatible engine (dynalite) ready at ${engine.endpoint}, data in ${dataDir}`, 'Store');
} catch (error) {
  // What a newcomer can meet (bad configuration, the data folder or the port taken): one line, no stack.
  const known = error instanceof ConfigError || error instanceof DataDirInUseError || error instanceof DataDirUnusableError || error instanceof ListenRefusedError;
  process.stderr.write(`${known ? error.message : String(error)}\n`);
  process.exit(1);
}
