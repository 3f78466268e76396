import type { LoggerService } from '@nestjs/common';
import { createDynamoDbClients, ensureKuraTables, KURA_SERVICE_WORDING } from '@kura/dynamodb';
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
    for (const step of await ensureKuraTables(client, config.tables, { wording: KURA_SERVICE_WORDING })) {
      const ttl = step.ttl === 'unsupported' ? 'TTL not supported by this engine (expiry is enforced on read)' : `TTL ${step.ttl}`;
      const where = step.global ? `, a global table in ${step.global.regions.join(', ')} (multi-Region ${step.global.consistency} consistency)` : '';
      logger.log(`table ${step.table}: ${step.created ? 'created' : 'exists'}, ${ttl}${where}`, 'Tables');
      if (step.global?.consistency === 'eventual') {
        logger.warn(
          `table ${step.table} is a global table in multi-Region eventual consistency: two Regions writing one item settle it by last writer wins, ` +
            `so a logout in one Region can be undone by a write in another; use multi-Region strong consistency, or keep each user's requests ` +
            `in one Region (docs/concurrency.md, "Across AWS Regions")`,
          'Tables',
        );
      }
    }
  } finally {
    client.destroy();
  }
}
