import { BatchGetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { LoginAttemptStore } from '@kura/common';
import { deleteItems, sendUntilProcessed } from './batch-delete.js';
import { isConditionalCheckFailure } from './dynamodb-errors.js';
import { DynamoDbTableStore } from './dynamodb-table-store.js';
import { itemKeys } from './state-table-keys.js';

/** Reads of a batch of counters, the first and those of what DynamoDB left unread (UnprocessedKeys), before a login is answered 503. */
const UNREAD_ROUNDS = 4;

/**
 * Failed-login counters as items in the sessions table (`fail#<counter>`), each a string set of attempt ids
 * (its size is the count) dropped by TTL after its window: every replica and Lambda invocation shares them.
 * A reservation is one conditional `ADD` to the set — admitted only while the set is below the limit — so
 * concurrent attempts cannot overshoot it, and a set makes a retried `ADD` or `DELETE` change nothing.
 */
export class DynamoDbLoginAttemptStore extends DynamoDbTableStore implements LoginAttemptStore {
  async counts(keys: readonly string[]): Promise<number[]> {
    const ids = keys.map(itemKeys.loginFailures);
    const found = new Map<string, number>();
    try {
      // DynamoDB may leave some keys of a batch unread (UnprocessedKeys) when it throttles part of it: those are
      // asked for again, a few times with a short pause, before the login is answered 503 (the review of
      // 2026-12-05: one partial answer failed the login at once).
      const keys: Record<string, unknown>[] = ids.map((id) => ({ id }));
      await sendUntilProcessed(
        keys,
        async (pending) => {
          const result = await this.documents.send(
            new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: [...pending], ConsistentRead: true } }, ReturnConsumedCapacity: 'TOTAL' }),
          );
          for (const item of result.Responses?.[this.tableName] ?? []) found.set(item.id as string, (item.attempts as Set<string> | undefined)?.size ?? 0);
          return (result.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as typeof keys;
        },
        UNREAD_ROUNDS,
      );
      return ids.map((id) => found.get(id) ?? 0);
    } catch (error) {
      throw this.unavailable('loginAttempts.counts', error);
    }
  }

  async reserve(key: string, attempt: string, below: number, expiresAt: number): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: itemKeys.loginFailures(key) },
          ConditionExpression: 'attribute_not_exists(attempts) OR size(attempts) < :below OR contains(attempts, :attempt)',
          UpdateExpression: 'ADD attempts :attempts SET expiresAt = :ttl',
          ExpressionAttributeValues: { ':attempts': new Set([attempt]), ':attempt': attempt, ':below': below, ':ttl': Math.ceil(expiresAt / 1000) },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw this.unavailable('loginAttempts.reserve', error);
    }
  }

  async release(key: string, attempt: string): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: itemKeys.loginFailures(key) },
          ConditionExpression: 'attribute_exists(id)',
          UpdateExpression: 'DELETE attempts :attempts',
          ExpressionAttributeValues: { ':attempts': new Set([attempt]) },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailure(error)) return;
      throw this.unavailable('loginAttempts.release', error);
    }
  }

  async clear(keys: readonly string[]): Promise<void> {
    await deleteItems(this.documents, this.tableName, keys.map(itemKeys.loginFailures), 'loginAttempts.clear', this.options.wording);
  }
}
