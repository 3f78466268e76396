import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { createDynamoDbClients, type DynamoDbConnectionOptions } from './dynamodb-client.js';

/**
 * Whether a DynamoDB-compatible engine answers at `options.endpoint`: one `ListTables`, one attempt, bounded by
 * `timeoutMs`. For telling a running engine from the stale address of one that is gone.
 */
export async function engineAnswers(options: DynamoDbConnectionOptions): Promise<boolean> {
  const { client } = createDynamoDbClients({ ...options, maxAttempts: 1 });
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }));
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}
