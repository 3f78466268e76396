import { ConsoleLogger } from '@nestjs/common';
import { StoreUnavailableError } from '@kura/common';
import { TableMismatchError } from '@kura/dynamodb';
import { ConfigError, loadConfig } from './config/app-config.js';
import { initTables } from './storage/tables.js';

/**
 * `npm run db:init`: creates Kura's tables on the configured engine (DYNAMODB_ENDPOINT or AWS), idempotently. On
 * another store it says what it would do there (nothing) and why, in one line.
 */
try {
  const config = loadConfig(process.env);
  if (config.store.kind === 'redis' || config.store.kind === 'memory') {
    process.stdout.write(`db:init: nothing to create, KURA_STORE=${config.store.kind} keeps no tables (db:init is for DynamoDB)\n`);
    process.exit(0);
  }
  if (config.store.kind === 'embedded') {
    process.stderr.write(
      'db:init: no DynamoDB engine is configured, and the embedded one (the default) creates its tables when npm start starts it; for DynamoDB Local give DYNAMODB_ENDPOINT=http://127.0.0.1:8000, for AWS KURA_STORE=dynamodb and AWS_REGION\n',
    );
    process.exit(2);
  }
  await initTables(config.store, new ConsoleLogger({ prefix: 'Kura' }));
} catch (error) {
  if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
  else if (error instanceof StoreUnavailableError) process.stderr.write(`db:init: the store could not answer: ${error.reason}\n`);
  else if (error instanceof TableMismatchError) process.stderr.write(`db:init: ${error.message}\n`);
  else throw error;
  process.exit(1);
}
