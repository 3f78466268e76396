import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type StoreErrorWording, storeUnavailable } from './dynamodb-errors.js';

/** BatchWriteItem takes at most 25 requests. */
const BATCH = 25;
const ATTEMPTS = 5;

/**
 * Sends a batch with `send`, which answers what DynamoDB left unprocessed (under load it answers part of a batch and
 * names the rest: `UnprocessedItems`, `UnprocessedKeys`), and sends that again, pausing a little longer each time,
 * until nothing is left. After `attempts` sends with some still left it throws, for the caller to make a
 * `StoreUnavailableError`: nothing asked for is dropped, or taken for absent, without a word. The one loop every
 * batch call of the adapters goes through.
 */
export async function sendUntilProcessed<T>(pending: readonly T[], send: (pending: readonly T[]) => Promise<readonly T[]>, attempts: number): Promise<void> {
  for (let attempt = 0; pending.length > 0; attempt += 1) {
    if (attempt === attempts) throw new Error(`DynamoDB left ${pending.length} of a batch unprocessed after ${attempts} attempts`);
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt)));
    pending = await send(pending);
  }
}

/**
 * Deletes items by key (`id`), 25 to a call, sending again what DynamoDB leaves unprocessed under load until
 * nothing is left: a delete that was asked for is never silently dropped. Deleting is idempotent, so a retry
 * of a call whose answer was lost does no harm.
 */
export async function deleteItems(documents: DynamoDBDocumentClient, table: string, keys: readonly string[], operation: string, wording?: StoreErrorWording): Promise<void> {
  for (let start = 0; start < keys.length; start += BATCH) {
    const requests = keys.slice(start, start + BATCH).map((id) => ({ DeleteRequest: { Key: { id } } }));
    try {
      await sendUntilProcessed(
        requests,
        async (pending) => {
          const result = await documents.send(new BatchWriteCommand({ RequestItems: { [table]: [...pending] }, ReturnConsumedCapacity: 'TOTAL' }));
          return (result.UnprocessedItems?.[table] ?? []) as typeof requests;
        },
        ATTEMPTS,
      );
    } catch (error) {
      throw storeUnavailable(operation, error, undefined, wording);
    }
  }
}
