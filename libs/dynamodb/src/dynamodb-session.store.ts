import {
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { type AttributeValue, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { effectiveExpiry, type SessionExtension, type SessionRecord, type SessionStore } from '@kura/session';
import { isConditionalCheckFailure, storeUnavailable } from './dynamodb-errors.js';
import { itemKeys, type StateTableItem } from './state-table-keys.js';
import { SESSIONS_BY_USER_INDEX } from './kura-tables.js';

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
  authenticatedAt?: number;
  /** Epoch seconds, rounded up so DynamoDB's TTL never deletes a session before it expires. */
  expiresAt: number;
  userAgent?: string;
  ip?: string;
}

const ttlOf = (record: Pick<SessionRecord, 'idleExpiresAt' | 'absoluteExpiresAt'>) => Math.ceil(effectiveExpiry(record) / 1000);
const CAPACITY = { ReturnConsumedCapacity: 'TOTAL' } as const;
/** BatchWriteItem takes at most 25 requests; each session takes two (the session and its data). */
const SESSIONS_PER_BATCH = 12;
/** In the user's register, each session is an attribute `s:<id>` holding its absolute expiry (epoch ms). */
const REGISTER_PREFIX = 's:';

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

/** A session item from DynamoDB's attribute values; `userId` is absent on the other kinds of item. */
function fromAttributes(raw: Record<string, AttributeValue>): SessionItem {
  const text = (name: string) => raw[name]?.S;
  const number = (name: string) => (raw[name]?.N === undefined ? undefined : Number(raw[name].N));
  return {
    id: text('id')!,
    userId: text('userId')!,
    email: text('email')!,
    createdAt: number('createdAt')!,
    lastSeenAt: number('lastSeenAt')!,
    idleExpiresAt: number('idleExpiresAt')!,
    absoluteExpiresAt: number('absoluteExpiresAt')!,
    expiresAt: number('expiresAt')!,
    ...(text('name') !== undefined ? { name: text('name')! } : {}),
    ...(number('authenticatedAt') !== undefined ? { authenticatedAt: number('authenticatedAt')! } : {}),
    ...(text('userAgent') !== undefined ? { userAgent: text('userAgent')! } : {}),
    ...(text('ip') !== undefined ? { ip: text('ip')! } : {}),
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
    ...(item.authenticatedAt !== undefined ? { authenticatedAt: item.authenticatedAt } : {}),
    ...(item.userAgent !== undefined ? { userAgent: item.userAgent } : {}),
    ...(item.ip !== undefined ? { ip: item.ip } : {}),
  };
}

/**
 * Sessions in a DynamoDB table: one item per session, keyed by the token's hash, deleted by TTL, indexed by
 * user for listing. Each user also has a register item naming their sessions, read strongly consistent
 * when every session of a user must go (logout everywhere, password change): revocation never depends on
 * the eventually consistent index.
 */
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
    // Register first: a `removeAllOfUser` that starts after this line finds the session even if its item
    // is written a moment later.
    await this.register(record);
    try {
      await this.documents.send(
        new PutCommand({ TableName: this.table, Item: toItem(record), ConditionExpression: 'attribute_not_exists(id)', ...CAPACITY }),
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
      // The hot path of every request: the low-level command and a direct reading of the item's few known
      // attributes, without the document client's generic marshalling (measured in npm run bench).
      const result = await this.documents.send(
        new GetItemCommand({ TableName: this.table, Key: { id: { S: id } }, ConsistentRead: this.consistentRead, ...CAPACITY }),
      );
      item = result.Item && fromAttributes(result.Item);
    } catch (error) {
      throw storeUnavailable('session.find', error);
    }
    // DynamoDB deletes expired items only "within a few days": an expired item that is still there is absent.
    if (!item || item.userId === undefined || item.expiresAt * 1000 <= now) return undefined;
    return toRecord(item);
  }

  async extend(id: string, change: SessionExtension): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id },
          // UpdateItem creates missing items: the condition keeps a revoked session from coming back.
          ConditionExpression: 'attribute_exists(userId)',
          UpdateExpression: `SET lastSeenAt = :seen, idleExpiresAt = :idle, expiresAt = :ttl${change.authenticatedAt === undefined ? '' : ', authenticatedAt = :auth'}`,
          ExpressionAttributeValues: {
            ':seen': change.lastSeenAt,
            ':idle': change.idleExpiresAt,
            ':ttl': ttlOf(change),
            ...(change.authenticatedAt === undefined ? {} : { ':auth': change.authenticatedAt }),
          },
          ...CAPACITY,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw storeUnavailable('session.extend', error);
    }
  }

  async remove(id: string): Promise<void> {
    await this.deleteSessions([id], 'session.remove');
  }

  async removeOwned(id: string, userId: string): Promise<boolean> {
    try {
      await this.documents.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { id },
          ConditionExpression: 'userId = :user',
          ExpressionAttributeValues: { ':user': userId },
          ...CAPACITY,
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw storeUnavailable('session.removeOwned', error);
    }
    await this.deleteItems([itemKeys.data(id)], 'session.removeOwned');
    return true;
  }

  async removeAllOfUser(userId: string, keep?: string): Promise<number> {
    const registerKey = itemKeys.userRegister(userId);
    let register: StateTableItem | undefined;
    try {
      const result = await this.documents.send(
        new GetCommand({ TableName: this.table, Key: { id: registerKey }, ConsistentRead: true, ...CAPACITY }),
      );
      register = result.Item;
    } catch (error) {
      throw storeUnavailable('session.removeAllOfUser', error);
    }
    const ids = Object.keys(register ?? {})
      .filter((name) => name.startsWith(REGISTER_PREFIX))
      .map((name) => name.slice(REGISTER_PREFIX.length))
      .filter((id) => id !== keep);
    if (ids.length === 0) return 0;
    await this.deleteSessions(ids, 'session.removeAllOfUser');
    await this.unregister(userId, ids);
    return ids.length;
  }

  async listOfUser(userId: string, now: number): Promise<SessionRecord[]> {
    const records: SessionRecord[] = [];
    let start: Record<string, unknown> | undefined;
    try {
      do {
        const page = await this.documents.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: SESSIONS_BY_USER_INDEX,
            KeyConditionExpression: 'userId = :user',
            FilterExpression: 'expiresAt > :now',
            ExpressionAttributeValues: { ':user': userId, ':now': Math.floor(now / 1000) },
            ScanIndexForward: false,
            ExclusiveStartKey: start,
            ...CAPACITY,
          }),
        );
        for (const item of (page.Items ?? []) as SessionItem[]) {
          const record = toRecord(item);
          if (effectiveExpiry(record) > now) records.push(record);
        }
        start = page.LastEvaluatedKey;
      } while (start);
    } catch (error) {
      throw storeUnavailable('session.listOfUser', error);
    }
    return records;
  }

  /** One eventually consistent read of a key that never exists: the cheapest call that proves table and permissions. */
  async ping(): Promise<void> {
    try {
      await this.documents.send(new GetCommand({ TableName: this.table, Key: { id: itemKeys.ping }, ...CAPACITY }));
    } catch (error) {
      throw storeUnavailable('session.ping', error);
    }
  }

  /** Adds the session to its user's register, dropping entries whose absolute expiry has passed. */
  private async register(record: SessionRecord): Promise<void> {
    let attributes: Record<string, unknown> | undefined;
    try {
      const result = await this.documents.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id: itemKeys.userRegister(record.user.id) },
          UpdateExpression: 'SET #session = :expires, expiresAt = :ttl',
          ExpressionAttributeNames: { '#session': `${REGISTER_PREFIX}${record.id}` },
          ExpressionAttributeValues: { ':expires': record.absoluteExpiresAt, ':ttl': Math.ceil(record.absoluteExpiresAt / 1000) },
          ReturnValues: 'ALL_NEW',
          ...CAPACITY,
        }),
      );
      attributes = result.Attributes;
    } catch (error) {
      throw storeUnavailable('session.insert', error);
    }
    const ended = Object.entries(attributes ?? {})
      .filter(([name, expires]) => name.startsWith(REGISTER_PREFIX) && typeof expires === 'number' && expires <= record.createdAt)
      .map(([name]) => name.slice(REGISTER_PREFIX.length));
    if (ended.length > 0) await this.unregister(record.user.id, ended);
  }

  private async unregister(userId: string, ids: string[]): Promise<void> {
    const names = Object.fromEntries(ids.map((id, index) => [`#s${index}`, `${REGISTER_PREFIX}${id}`]));
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id: itemKeys.userRegister(userId) },
          ConditionExpression: 'attribute_exists(id)',
          UpdateExpression: `REMOVE ${Object.keys(names).join(', ')}`,
          ExpressionAttributeNames: names,
          ...CAPACITY,
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailure(error)) return;
      throw storeUnavailable('session.unregister', error);
    }
  }

  /**
   * The one Scan in Kura, for the operator's "end every session": pages through the keys only (a projection),
   * deleting sessions, their data and the users' registers in batches; failed-login counters stay.
   */
  async removeAll(): Promise<number> {
    let sessions = 0;
    let start: Record<string, unknown> | undefined;
    do {
      let page;
      try {
        page = await this.documents.send(
          new ScanCommand({ TableName: this.table, ProjectionExpression: 'id', ConsistentRead: true, ExclusiveStartKey: start, ...CAPACITY }),
        );
      } catch (error) {
        throw storeUnavailable('session.removeAll', error);
      }
      const ids = (page.Items ?? []).map((item) => String(item.id));
      const doomed = ids.filter((id) => !id.startsWith('fail#') && !id.startsWith('kura#'));
      sessions += doomed.filter((id) => !id.includes('#')).length;
      for (let index = 0; index < doomed.length; index += 25) await this.deleteItems(doomed.slice(index, index + 25), 'session.removeAll');
      start = page.LastEvaluatedKey;
    } while (start);
    return sessions;
  }

  /** Deletes sessions and their data, by primary key. */
  private async deleteSessions(ids: string[], operation: string): Promise<void> {
    for (let index = 0; index < ids.length; index += SESSIONS_PER_BATCH) {
      const batch = ids.slice(index, index + SESSIONS_PER_BATCH);
      await this.deleteItems(batch.flatMap((id) => [id, itemKeys.data(id)]), operation);
    }
  }

  /** Deletes up to 25 items in one call, retrying what DynamoDB leaves unprocessed under load. */
  private async deleteItems(keys: string[], operation: string): Promise<void> {
    let requests = keys.map((id) => ({ DeleteRequest: { Key: { id } } }));
    try {
      for (let attempt = 0; requests.length > 0; attempt += 1) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt));
        if (attempt === 5) throw new Error(`${requests.length} deletes left unprocessed after ${attempt} attempts`);
        const result = await this.documents.send(new BatchWriteCommand({ RequestItems: { [this.table]: requests }, ...CAPACITY }));
        requests = (result.UnprocessedItems?.[this.table] ?? []) as typeof requests;
      }
    } catch (error) {
      throw storeUnavailable(operation, error);
    }
  }
}
