import { ConsoleLogger } from '@nestjs/common';
import { ConfigError, loadConfig } from './config/app-config.js';
import { startEmbeddedDynamoDb } from './embedded/embedded-dynamodb.js';
import { initTables } from './storage/tables.js';

/**
 * `npm run db:serve`: the embedded engine (dynalite, data under KURA_DATA_DIR) as a server of its own on
 * 127.0.0.1:KURA_DB_PORT (default 8000), with Kura's tables created. For `npm run offline` and for several
 * Kura processes sharing one engine on a laptop.
 */
try {
  const config = loadConfig({ ...process.env, KURA_STORE: 'embedded', DYNAMODB_ENDPOINT: undefined });
  const logger = new ConsoleLogger({ prefix: 'Kura' });
  const engine = await startEmbeddedDynamoDb(config.store.dataDir, Number(process.env.KURA_DB_PORT ?? 8000));
  await initTables({ ...config.store, endpoint: engine.endpoint }, logger);
  logger.log(`DynamoDB-compatible engine (dynalite) ready at ${engine.endpoint}, data in ${config.store.dataDir}`, 'Store');
  const stop = () => void engine.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
  process.exit(1);
}
