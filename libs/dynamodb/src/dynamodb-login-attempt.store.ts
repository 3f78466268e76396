import { BatchGetCommand, BatchWriteCommand, type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { LoginAttemptStore } from '@kura/accounts';
import { storeUnavailable } from './dynamodb-errors.js';
import { itemKeys } from './state-table-keys.js';

/**
 * Failed-login counters as items in the sessions table (`fail#<counter>`), incremented with atomic `ADD`
 * and dropped by TTL after their window: every replica and Lambda invocation shares them.
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
      const found = new Map((result.Responses?.[this.tableName] ?? []).map((item) => [item.id as string, item.count as number]));
      return ids.map((id) => found.get(id) ?? 0);
    } catch (error) {
      throw storeUnavailable('loginAttempts.counts', error);
    }
  }

  async increment(keys: readonly string[], expiresAt: number): Promise<void> {
    try {
      await Promise.all(
        keys.map((key) =>
          this.documents.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { id: itemKeys.loginFailures(key) },
              UpdateExpression: 'ADD #count :one SET expiresAt = :ttl',
              ExpressionAttributeNames: { '#count': 'count' },
              ExpressionAttributeValues: { ':one': 1, ':ttl': Math.ceil(expiresAt / 1000) },
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        ),
      );
    } catch (error) {
      throw storeUnavailable('loginAttempts.increment', error);
    }
  }

  async clear(keys: readonly string[]): Promise<void> {
    try {
      await this.documents.send(
        new BatchWriteCommand({
          RequestItems: { [this.tableName]: keys.map((key) => ({ DeleteRequest: { Key: { id: itemKeys.loginFailures(key) } } })) },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
    } catch (error) {
      throw storeUnavailable('loginAttempts.clear', error);
    }
  }
}
