import { EmailTakenError, type UserRecord, type UserStore } from '@kura/common';
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailure } from './dynamodb-errors.js';
import { DynamoDbTableStore } from './dynamodb-table-store.js';

/** The key `ping` reads: no registration can store it (emails are validated, and have an @). */
const PING_EMAIL = '#ping';

/** Users in a DynamoDB table keyed by normalised email: uniqueness is a single conditional put. */
export class DynamoDbUserStore extends DynamoDbTableStore implements UserStore {
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
      return;
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw this.unavailable('user.insert', error);
    }
    // A retried put that met its own first attempt is not a taken email.
    if ((await this.findByEmail(user.email))?.id !== user.id) throw new EmailTakenError();
  }

  async findByEmail(email: string): Promise<UserRecord | undefined> {
    try {
      const result = await this.documents.send(
        new GetCommand({ TableName: this.tableName, Key: { email }, ConsistentRead: true, ReturnConsumedCapacity: 'TOTAL' }),
      );
      return result.Item as UserRecord | undefined;
    } catch (error) {
      throw this.unavailable('user.findByEmail', error);
    }
  }

  /** One eventually consistent read of an email no account can have: proves the table and the role's access to it. */
  async ping(): Promise<void> {
    try {
      await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { email: PING_EMAIL }, ReturnConsumedCapacity: 'TOTAL' }));
    } catch (error) {
      throw this.unavailable('user.ping', error);
    }
  }

  async replacePasswordHash(email: string, expectedHash: string, newHash: string): Promise<number | undefined> {
    try {
      const result = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { email },
          ConditionExpression: 'passwordHash = :expected',
          UpdateExpression: 'SET passwordHash = :hash ADD credentialVersion :one',
          ExpressionAttributeValues: { ':expected': expectedHash, ':hash': newHash, ':one': 1 },
          ReturnValues: 'UPDATED_NEW',
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      return result.Attributes?.credentialVersion as number;
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw this.unavailable('user.replacePasswordHash', error);
    }
    // A retried change that met its own first attempt: the new hash (salted, so unique) is already there.
    const user = await this.findByEmail(email);
    return user?.passwordHash === newHash ? (user.credentialVersion ?? 0) : undefined;
  }

  async rehashPassword(email: string, expectedHash: string, newHash: string): Promise<boolean> {
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
      if (!isConditionalCheckFailure(error)) throw this.unavailable('user.rehashPassword', error);
    }
    // A retry that met its own first attempt: the new hash (salted, so unique) is already there.
    return (await this.findByEmail(email))?.passwordHash === newHash;
  }

  async remove(email: string, expectedHash: string): Promise<boolean> {
    try {
      // Gone already is gone: a retry of this delete, or nothing there, succeeds alike. The low-level command (the
      // document client's DeleteCommand would add its code to every cold start for this one rare call).
      await this.documents.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: { email: { S: email } },
          ConditionExpression: 'attribute_not_exists(email) OR passwordHash = :expected',
          ExpressionAttributeValues: { ':expected': { S: expectedHash } },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw this.unavailable('user.remove', error);
    }
  }
}
