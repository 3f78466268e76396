import type { LoggerService } from '@nestjs/common';
import { createDynamoDbClients, ensureKuraTables } from '@kura/dynamodb';
import type { AppConfig } from '../config/app-config.js';

/** Creates Kura's tables, index and TTL setting on the configured engine where missing (idempotent). */
export async function initTables(config: AppConfig['store'], logger: LoggerService): Promise<void> {
  const { client } = createDynamoDbClients({
    region: config.region,
    endpoint: config.endpoint,
    credentials: config.credentials,
    timeoutMs: Math.max(config.timeoutMs, 5000),
    maxAttempts: config.maxAttempts,
  });
  try {
    for (const step of await ensureKuraTables(client, config.tables)) {
      const ttl = step.ttl === 'unsupported' ? 'TTL not supported by this engine (expiry is enforced on read)' : `TTL ${step.ttl}`;
      logger.log(`table ${step.table}: ${step.created ? 'created' : 'exists'}, ${ttl}`, 'Tables');
    }
  } finally {
    client.destroy();
  }
}
