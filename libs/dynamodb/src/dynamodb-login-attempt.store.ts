import { BatchGetCommand, type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { LoginAttemptStore } from '@kura/common';
import { deleteItems } from './batch-delete.js';
import { isConditionalCheckFailure, storeUnavailable } from './dynamodb-errors.js';
import { itemKeys } from './state-table-keys.js';

/**
 * Failed-login counters as items in the sessions table (`fail#<counter>`), each a string set of attempt ids
 * (its size is the count) dropped by TTL after its window: every replica and Lambda invocation shares them.
 * A reservation is one conditional `ADD` to the set — admitted only while the set is below the limit — so
 * concurrent attempts cannot overshoot it, and a set makes a retried `ADD` or `DELETE` change nothing.
 */
export class DynamoDbLoginAttemptStore implements LoginAttemptStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async counts(keys: readonly string[]): Promise<number[]> {
    const ids = keys.map(itemKeys.loginFailures);
    try {
      const result = await this.documents.send(
        new BatchGetCommand({
          RequestItems: { [this.tableName]: { Keys: ids.map((id) => ({ id })), ConsistentRead: true } },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      if (Object.keys(result.UnprocessedKeys ?? {}).length > 0) throw new Error('DynamoDB left failed-login counters unread');
      const found = new Map((result.Responses?.[this.tableName] ?? []).map((item) => [item.id as string, (item.attempts as Set<string> | undefined)?.size ?? 0]));
      return ids.map((id) => found.get(id) ?? 0);
    } catch (error) {
      throw storeUnavailable('loginAttempts.counts', error);
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
      throw storeUnavailable('loginAttempts.reserve', error);
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
      throw storeUnavailable('loginAttempts.release', error);
    }
  }

  async clear(keys: readonly string[]): Promise<void> {
    await deleteItems(this.documents, this.tableName, keys.map(itemKeys.loginFailures), 'loginAttempts.clear');
  }
}
