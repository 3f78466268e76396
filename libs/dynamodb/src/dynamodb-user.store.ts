import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { EmailTakenError, type UserRecord, type UserStore } from '@kura/accounts';
import { isConditionalCheckFailure, storeUnavailable } from './dynamodb-errors.js';

/** Users in a DynamoDB table keyed by normalised email: uniqueness is a single conditional put. */
export class DynamoDbUserStore implements UserStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async insert(user: UserRecord): Promise<void> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: user,
          ConditionExpression: 'attribute_not_exists(email)',
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailure(error)) throw new EmailTakenError();
      throw storeUnavailable('user.insert', error);
    }
  }

  async findByEmail(email: string): Promise<UserRecord | undefined> {
    try {
      const result = await this.documents.send(
        new GetCommand({ TableName: this.tableName, Key: { email }, ConsistentRead: true, ReturnConsumedCapacity: 'TOTAL' }),
      );
      return result.Item as UserRecord | undefined;
    } catch (error) {
      throw storeUnavailable('user.findByEmail', error);
    }
  }

  async replacePasswordHash(email: string, expectedHash: string, newHash: string): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { email },
          ConditionExpression: 'passwordHash = :expected',
          UpdateExpression: 'SET passwordHash = :hash',
          ExpressionAttributeValues: { ':expected': expectedHash, ':hash': newHash },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw storeUnavailable('user.replacePasswordHash', error);
    }
  }
}
