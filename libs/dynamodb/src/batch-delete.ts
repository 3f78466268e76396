import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type StoreErrorWording, storeUnavailable } from './dynamodb-errors.js';

/** BatchWriteItem takes at most 25 requests. */
const BATCH = 25;
const ATTEMPTS = 5;

/**
 * Deletes items by key (`id`), 25 to a call, sending again what DynamoDB leaves unprocessed under load until
 * nothing is left: a delete that was asked for is never silently dropped. Deleting is idempotent, so a retry
 * of a call whose answer was lost does no harm.
 */
export async function deleteItems(documents: DynamoDBDocumentClient, table: string, keys: readonly string[], operation: string, wording?: StoreErrorWording): Promise<void> {
  for (let start = 0; start < keys.length; start += BATCH) {
    let requests = keys.slice(start, start + BATCH).map((id) => ({ DeleteRequest: { Key: { id } } }));
    try {
      for (let attempt = 0; requests.length > 0; attempt += 1) {
        if (attempt === ATTEMPTS) throw new Error(`${requests.length} deletes left unprocessed after ${attempt} attempts`);
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt));
        const result = await documents.send(new BatchWriteCommand({ RequestItems: { [table]: requests }, ReturnConsumedCapacity: 'TOTAL' }));
        requests = (result.UnprocessedItems?.[table] ?? []) as typeof requests;
      }
    } catch (error) {
      throw storeUnavailable(operation, error, undefined, wording);
    }
  }
}
