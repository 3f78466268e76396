import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SessionData, SessionDataStore } from '@kura/session';
import { isConditionalCheckFailure, storeUnavailable } from './dynamodb-errors.js';
import { itemKeys } from './state-table-keys.js';

/**
 * Session data as its own item next to the session (`data#<session id>`), so authenticating a request never
 * pays to read it. The document is kept as a JSON string: exactly what was written comes back, and its size
 * is what the limit counts. Writes are conditional on the version read: a concurrent write makes them fail.
 */
export class DynamoDbSessionDataStore implements SessionDataStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async read(sessionId: string): Promise<SessionData> {
    try {
      const result = await this.documents.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { id: itemKeys.data(sessionId) },
          ConsistentRead: true,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      const item = result.Item as { document: string; version: number } | undefined;
      return item ? { data: JSON.parse(item.document) as Record<string, unknown>, version: item.version } : { data: {}, version: 0 };
    } catch (error) {
      throw storeUnavailable('sessionData.read', error);
    }
  }

  async write(sessionId: string, data: Record<string, unknown>, expectedVersion: number, expiresAt: number): Promise<boolean> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            id: itemKeys.data(sessionId),
            document: JSON.stringify(data),
            version: expectedVersion + 1,
            expiresAt: Math.ceil(expiresAt / 1000),
          },
          ...(expectedVersion === 0
            ? { ConditionExpression: 'attribute_not_exists(id)' }
            : { ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': expectedVersion } }),
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw storeUnavailable('sessionData.write', error);
    }
  }
}
