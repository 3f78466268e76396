import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { effectiveExpiry, type SessionRecord, type SessionStore } from '@kura/session';
import { isConditionalCheckFailure, storeUnavailable } from './dynamodb-errors.js';

export interface DynamoDbSessionStoreOptions {
  /** The sessions table (see `kuraTableDefinitions`). */
  tableName: string;
  /**
   * Strongly consistent reads, so a logout or revocation is effective on every replica at once. With
   * `false`, reads cost half as much but may return a session for up to about a second after it was
   * deleted (DynamoDB's eventual-consistency window).
   * @default true
   */
  consistentRead?: boolean;
}

/** A session item: the record flattened (userId on top for the index) plus the TTL attribute. */
interface SessionItem {
  id: string;
  userId: string;
  email: string;
  name?: string;
  createdAt: number;
  lastSeenAt: number;
  idleExpiresAt: number;
  absoluteExpiresAt: number;
  /** Epoch seconds, rounded up so DynamoDB's TTL never deletes a session before it expires. */
  expiresAt: number;
  userAgent?: string;
  ip?: string;
}

const ttlOf = (record: Pick<SessionRecord, 'idleExpiresAt' | 'absoluteExpiresAt'>) => Math.ceil(effectiveExpiry(record) / 1000);

function toItem(record: SessionRecord): SessionItem {
  const { user, ...rest } = record;
  return {
    ...rest,
    userId: user.id,
    email: user.email,
    ...(user.name !== null ? { name: user.name } : {}),
    expiresAt: ttlOf(record),
  };
}

function toRecord(item: SessionItem): SessionRecord {
  return {
    id: item.id,
    user: { id: item.userId, email: item.email, name: item.name ?? null },
    createdAt: item.createdAt,
    lastSeenAt: item.lastSeenAt,
    idleExpiresAt: item.idleExpiresAt,
    absoluteExpiresAt: item.absoluteExpiresAt,
    ...(item.userAgent !== undefined ? { userAgent: item.userAgent } : {}),
    ...(item.ip !== undefined ? { ip: item.ip } : {}),
  };
}

/** Sessions in a DynamoDB table: one item per session, keyed by the token's hash, deleted by TTL. */
export class DynamoDbSessionStore implements SessionStore {
  private readonly table: string;
  private readonly consistentRead: boolean;

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    options: DynamoDbSessionStoreOptions,
  ) {
    this.table = options.tableName;
    this.consistentRead = options.consistentRead ?? true;
  }

  async insert(record: SessionRecord): Promise<void> {
    try {
      await this.documents.send(
        new PutCommand({ TableName: this.table, Item: toItem(record), ConditionExpression: 'attribute_not_exists(id)' }),
      );
    } catch (error) {
      // Two 256-bit random tokens hashing alike means a broken random source: fail loudly, never overwrite.
      if (isConditionalCheckFailure(error)) throw new Error(`Session id collision on ${record.id}`, { cause: error });
      throw storeUnavailable('session.insert', error);
    }
  }

  async find(id: string, now: number): Promise<SessionRecord | undefined> {
    let item: SessionItem | undefined;
    try {
      const result = await this.documents.send(
        new GetCommand({ TableName: this.table, Key: { id }, ConsistentRead: this.consistentRead }),
      );
      item = result.Item as SessionItem | undefined;
    } catch (error) {
      throw storeUnavailable('session.find', error);
    }
    // DynamoDB deletes expired items only "within a few days": an expired item that is still there is absent.
    if (!item || item.expiresAt * 1000 <= now) return undefined;
    return toRecord(item);
  }

  async extend(id: string, change: Pick<SessionRecord, 'lastSeenAt' | 'idleExpiresAt' | 'absoluteExpiresAt'>): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id },
          // UpdateItem creates missing items: the condition keeps a revoked session from coming back.
          ConditionExpression: 'attribute_exists(id)',
          UpdateExpression: 'SET lastSeenAt = :seen, idleExpiresAt = :idle, expiresAt = :ttl',
          ExpressionAttributeValues: { ':seen': change.lastSeenAt, ':idle': change.idleExpiresAt, ':ttl': ttlOf(change) },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw storeUnavailable('session.extend', error);
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await this.documents.send(new DeleteCommand({ TableName: this.table, Key: { id } }));
    } catch (error) {
      throw storeUnavailable('session.remove', error);
    }
  }

  /** One eventually consistent read of a key that never exists: the cheapest call that proves table and permissions. */
  async ping(): Promise<void> {
    try {
      await this.documents.send(new GetCommand({ TableName: this.table, Key: { id: 'kura:ping' } }));
    } catch (error) {
      throw storeUnavailable('session.ping', error);
    }
  }
}
