import { ConsoleLogger } from '@nestjs/common';
import { ConfigError, loadConfig } from './config/app-config.js';
import { initTables } from './storage/tables.js';

/** `npm run db:init`: creates Kura's tables on the configured engine (DYNAMODB_ENDPOINT or AWS), idempotently. */
try {
  const config = loadConfig(process.env);
  if (config.store.kind !== 'dynamodb') {
    process.stderr.write('db:init needs a configured engine: set DYNAMODB_ENDPOINT, or AWS_REGION with AWS credentials\n');
    process.exit(2);
  }
  await initTables(config.store, new ConsoleLogger({ prefix: 'Kura' }));
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
  process.exit(1);
}
