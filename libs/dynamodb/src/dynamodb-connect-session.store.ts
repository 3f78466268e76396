import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  type ConnectSessionChange,
  type ConnectSessionItem,
  type ConnectSessionStore,
  DELETED_SESSION_MARK_MS,
  type UserIndexEntry,
  userIndexEntryOf,
  SessionItemTooLargeError,
  type StoreUnavailableError,
  UserIndexFullError,
  userIndexMember,
} from '@kura/common';
import { CONNECT_SESSION_TTL_ATTRIBUTE } from './connect-session-table.js';
import { isConditionalCheckFailure, isItemTooLarge, type StoreErrorWording, storeUnavailable } from './dynamodb-errors.js';

export type { ConnectSessionChange, ConnectSessionItem } from '@kura/common';

export interface DynamoDbConnectSessionStoreOptions {
  /** The table (see `connectSessionTableDefinition`). */
  tableName: string;
  /**
   * Strongly consistent reads, so a destroyed session is gone on every replica at once.
   * @default true
   */
  consistentRead?: boolean;
  /** How failure reasons name their remedies. @default the Kura service's wording */
  wording?: StoreErrorWording;
}

/**
 * Keys and values changed in one UpdateItem: keeps the expression far below DynamoDB's 4 KB limit (a
 * `#d.#k99 = :v99` clause is under 20 bytes).
 */
const CHANGES_PER_CALL = 100;
const CAPACITY = { ReturnConsumedCapacity: 'TOTAL' } as const;
/** Attribute names, all through placeholders (`data` is a DynamoDB reserved word); DynamoDB refuses unused ones. */
const NAMES = {
  '#data': 'data',
  '#cookie': 'cookie',
  '#exp': CONNECT_SESSION_TTL_ATTRIBUTE,
  '#expMs': 'expiresAtMs',
  '#gen': 'generation',
  '#absMs': 'absoluteExpiresAtMs',
  '#ix': 'indexed',
  '#mv': 'movedAtMs',
  '#cs': 'cookieSettings',
} as const;

/**
 * A user index's item key: `user:` and the key KuraStore gives, which no session's item key (base64url, no colon)
 * can equal. Its members are a string set, `sessions`.
 */
const userIndexKey = (user: string) => ({ id: { S: `user:${user}` } });
const INDEX_NAMES = { '#s': 'sessions', '#exp': CONNECT_SESSION_TTL_ATTRIBUTE } as const;

/**
 * DynamoDB refuses an empty attribute name, and a session may have a key `""`. Keys that are empty or start
 * with NUL get one NUL in front; every other key is stored as it is, so a table dump stays readable.
 */
export const encodeDataKey = (key: string): string => (key === '' || key.startsWith('\u0000') ? `\u0000${key}` : key);
export const decodeDataKey = (name: string): string => (name.startsWith('\u0000') ? name.slice(1) : name);

/**
 * express-session and @fastify/session sessions in DynamoDB, one item per session: its key is the SHA-256 of
 * the session id (computed by the caller), each top-level session key a string in the map `data`, so one save
 * writes only the keys it changed. Expired items are absent on read, whether or not TTL deleted them yet.
 * Changes never re-create a session that was destroyed, has expired, or was written whole since it was read.
 */
export class DynamoDbConnectSessionStore implements ConnectSessionStore {
  private readonly table: string;
  private readonly consistentRead: boolean;
  private readonly wording: StoreErrorWording | undefined;

  constructor(
    private readonly client: DynamoDBClient,
    options: DynamoDbConnectSessionStoreOptions,
  ) {
    this.table = options.tableName;
    this.consistentRead = options.consistentRead ?? true;
    this.wording = options.wording;
  }

  /** The live session under `id`; `undefined` when there is none or it expired by `now` (epoch ms). */
  async read(id: string, now: number): Promise<ConnectSessionItem | undefined> {
    const found = await this.readOrMark(id, now);
    return found === 'deleted' ? undefined : found;
  }

  /**
   * As `read`, but `'deleted'` where `delete` left its mark (an item with its key and TTL alone): until DynamoDB
   * frees it, past its TTL too, the mark refuses every write, as `replace`'s and `update`'s conditions say.
   */
  async readOrMark(id: string, now: number): Promise<ConnectSessionItem | 'deleted' | undefined> {
    const result = await this.send('connect.get', () =>
      this.client.send(new GetItemCommand({ TableName: this.table, Key: { id: { S: id } }, ConsistentRead: this.consistentRead, ...CAPACITY })),
    );
    const item = result.Item;
    if (item && item.generation === undefined && item.expiresAtMs === undefined) return 'deleted';
    const expiresAtMs = Number(item?.expiresAtMs?.N);
    if (!item || !(expiresAtMs > now)) return undefined;
    const absoluteExpiresAtMs = item.absoluteExpiresAtMs?.N === undefined ? undefined : Number(item.absoluteExpiresAtMs.N);
    if (absoluteExpiresAtMs !== undefined && !(absoluteExpiresAtMs > now)) return undefined;
    return {
      data: new Map(Object.entries(item.data?.M ?? {}).map(([name, value]) => [decodeDataKey(name), value.S ?? 'null'])),
      cookie: item.cookie?.S,
      expiresAtMs,
      ...(absoluteExpiresAtMs === undefined ? {} : { absoluteExpiresAtMs }),
      ...(item.indexed?.S === undefined ? {} : { indexed: item.indexed.S }),
      ...(item.movedAtMs?.N === undefined ? {} : { movedAtMs: Number(item.movedAtMs.N) }),
      ...(item.cookieSettings?.S === undefined ? {} : { cookieSettings: item.cookieSettings.S }),
      generation: item.generation?.S ?? '',
    };
  }

  /**
   * Writes the session whole, whatever was there, but never over a deleted session's mark (it has no generation)
   * nor over an item of the same generation (this write, retried by the SDK or delivered late): both fail the
   * condition, and that is success.
   */
  async replace(id: string, session: ConnectSessionItem): Promise<void> {
    const item: Record<string, AttributeValue> = {
      id: { S: id },
      data: { M: Object.fromEntries([...session.data].map(([key, json]) => [encodeDataKey(key), { S: json }])) },
      [CONNECT_SESSION_TTL_ATTRIBUTE]: { N: String(Math.ceil(session.expiresAtMs / 1000)) },
      expiresAtMs: { N: String(session.expiresAtMs) },
      ...(session.absoluteExpiresAtMs !== undefined ? { absoluteExpiresAtMs: { N: String(session.absoluteExpiresAtMs) } } : {}),
      generation: { S: session.generation },
      ...(session.cookie !== undefined ? { cookie: { S: session.cookie } } : {}),
      ...(session.indexed !== undefined ? { indexed: { S: session.indexed } } : {}),
      ...(session.movedAtMs !== undefined ? { movedAtMs: { N: String(session.movedAtMs) } } : {}),
      ...(session.cookie !== undefined && session.cookieSettings !== undefined ? { cookieSettings: { S: session.cookieSettings } } : {}),
    };
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(id) OR (attribute_exists(#gen) AND #gen <> :gen)',
          ExpressionAttributeNames: { '#gen': NAMES['#gen'] },
          ExpressionAttributeValues: { ':gen': { S: session.generation } },
          ...CAPACITY,
        }),
      );
    } catch (error) {
      if (isItemTooLarge(error)) throw new SessionItemTooLargeError('the session is more than one DynamoDB item holds (400 KB)', { cause: error });
      if (!isConditionalCheckFailure(error)) throw this.unavailable('connect.set', error);
    }
  }

  /**
   * Applies `change` to the live session `id` of `generation` (any generation when `undefined`). False when
   * there is no such session any more (destroyed, expired by `now`, or written whole since): nothing was
   * written. More than {@link CHANGES_PER_CALL} keys take several calls, each conditional on the same.
   */
  async update(id: string, generation: string | undefined, change: ConnectSessionChange, now: number): Promise<boolean> {
    const keys: { key: string; json: string | undefined }[] = [
      ...[...change.set].map(([key, json]) => ({ key, json })),
      ...change.remove.map((key) => ({ key, json: undefined })),
    ];
    for (let start = 0; start === 0 || start < keys.length; start += CHANGES_PER_CALL) {
      const chunk = keys.slice(start, start + CHANGES_PER_CALL);
      if (!(await this.updateOnce(id, generation, chunk, start === 0 ? change : undefined, now))) return false;
    }
    return true;
  }

  /**
   * Deletes the session: its item becomes a mark with nothing but the key and a TTL (`DELETED_SESSION_MARK_MS`
   * from now), which reads as absent and which no `replace` or `update` writes over. One write, as a DeleteItem is.
   */
  async delete(id: string, now: number): Promise<void> {
    await this.send('connect.destroy', () =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { id: { S: id } },
          UpdateExpression: 'SET #exp = :exp REMOVE #data, #cookie, #expMs, #gen, #absMs, #ix, #mv, #cs',
          ExpressionAttributeNames: NAMES,
          ExpressionAttributeValues: { ':exp': { N: String(Math.ceil((now + DELETED_SESSION_MARK_MS) / 1000)) } },
          ...CAPACITY,
        }),
      ),
    );
  }

  /**
   * One UpdateItem adding the member to the set. With an expiry, the item's TTL is raised to it when the item is
   * new or its TTL is not later (one call; a refused condition means a later expiry stays: the member is added again without it);
   * without one, the TTL goes, and an item that holds members and no TTL never gets one back.
   */
  async addToUserIndex(user: string, entry: UserIndexEntry, untilMs: number | undefined): Promise<number> {
    const member = { ':m': { SS: [userIndexMember(entry)] } };
    const add = (expression: string, values: Record<string, AttributeValue>, condition?: string) => this.updateIndex(user, expression, values, condition);
    try {
      let result;
      if (untilMs === undefined) result = await add('ADD #s :m REMOVE #exp', member);
      else {
        try {
          result = await add('ADD #s :m SET #exp = :exp', { ...member, ':exp': { N: String(Math.ceil(untilMs / 1000)) } }, 'attribute_not_exists(#s) OR #exp <= :exp');
        } catch (error) {
          if (!isConditionalCheckFailure(error)) throw error;
          result = await add('ADD #s :m', member);
        }
      }
      return result.Attributes?.sessions?.SS?.length ?? 1;
    } catch (error) {
      if (isItemTooLarge(error)) {
        throw new UserIndexFullError(`the user index ${user} holds as much as one DynamoDB item can (400 KB)`, { cause: error });
      }
      throw this.unavailable('connect.index', error);
    }
  }

  async noteIndexed(id: string, generation: string, note: string, now: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { id: { S: id } },
          UpdateExpression: 'SET #ix = :ix',
          ConditionExpression: '#gen = :gen AND #expMs > :now',
          ExpressionAttributeNames: { '#ix': NAMES['#ix'], '#gen': NAMES['#gen'], '#expMs': NAMES['#expMs'] },
          ExpressionAttributeValues: { ':ix': { S: note }, ':gen': { S: generation }, ':now': { N: String(now) } },
          ...CAPACITY,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw this.unavailable('connect.index', error);
    }
  }

  async userIndex(user: string): Promise<UserIndexEntry[]> {
    const result = await this.send('connect.index', () =>
      this.client.send(new GetItemCommand({ TableName: this.table, Key: userIndexKey(user), ConsistentRead: true, ProjectionExpression: '#s', ExpressionAttributeNames: { '#s': INDEX_NAMES['#s'] }, ...CAPACITY })),
    );
    return (result.Item?.sessions?.SS ?? []).map(userIndexEntryOf).filter((entry) => entry !== undefined);
  }

  /**
   * One UpdateItem deleting the members from the set (DynamoDB drops the attribute when it empties). An index left
   * empty is given a TTL of now, so DynamoDB deletes it (an index that had no expiry would otherwise stay for
   * good); an addition meanwhile keeps it, by the condition, and its own TTL rule.
   */
  async removeFromUserIndex(user: string, entries: readonly UserIndexEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.send('connect.index', async () => {
      try {
        const removed = await this.updateIndex(user, 'DELETE #s :m', { ':m': { SS: [...new Set(entries.map(userIndexMember))] } }, 'attribute_exists(id)');
        if (removed.Attributes?.sessions === undefined) {
          await this.updateIndex(user, 'SET #exp = :now', { ':now': { N: String(Math.floor(Date.now() / 1000)) } }, 'attribute_not_exists(#s)');
        }
      } catch (error) {
        // No index at all (nothing to remove, and no item made for it), or one added to again meanwhile.
        if (!isConditionalCheckFailure(error)) throw error;
      }
    });
  }

  /** One UpdateItem on a user index's item, answering with the attributes it changed. */
  private updateIndex(user: string, expression: string, values: Record<string, AttributeValue>, condition?: string) {
    return this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: userIndexKey(user),
        UpdateExpression: expression,
        ...(condition ? { ConditionExpression: condition } : {}),
        // DynamoDB refuses a name no expression uses: #exp only where one does.
        ExpressionAttributeNames: expression.includes('#exp') || condition?.includes('#exp') ? INDEX_NAMES : { '#s': INDEX_NAMES['#s'] },
        ExpressionAttributeValues: values,
        ReturnValues: 'UPDATED_NEW',
        ...CAPACITY,
      }),
    );
  }

  private async updateOnce(
    id: string,
    generation: string | undefined,
    keys: { key: string; json: string | undefined }[],
    expiry: (Pick<ConnectSessionChange, 'cookie' | 'expiresAtMs' | 'absoluteExpiresAtMs' | 'indexed' | 'cookieSettings' | 'cookieSettingsRead'> & { keepCookie?: boolean }) | undefined,
    now: number,
  ): Promise<boolean> {
    const names: Record<string, string> = { '#gen': NAMES['#gen'], '#expMs': NAMES['#expMs'] };
    const values: Record<string, AttributeValue> = { ':now': { N: String(now) } };
    const set: string[] = [];
    const remove: string[] = [];
    if (keys.length > 0) names['#data'] = NAMES['#data'];
    keys.forEach(({ key, json }, index) => {
      names[`#k${index}`] = encodeDataKey(key);
      if (json === undefined) {
        remove.push(`#data.#k${index}`);
      } else {
        set.push(`#data.#k${index} = :v${index}`);
        values[`:v${index}`] = { S: json };
      }
    });
    // The cookie and the expiry, unless kept as stored (a second try: see ConnectSessionChange.cookieSettingsRead);
    // conditional on the settings read, when the change names them.
    const cookieToo = expiry !== undefined && !expiry.keepCookie;
    let cookieCheck = false;
    if (cookieToo) {
      Object.assign(names, { '#exp': NAMES['#exp'], '#cookie': NAMES['#cookie'] });
      set.push('#exp = :exp', '#expMs = :expMs');
      values[':exp'] = { N: String(Math.ceil(expiry.expiresAtMs / 1000)) };
      values[':expMs'] = { N: String(expiry.expiresAtMs) };
      if (expiry.cookie === undefined) remove.push('#cookie');
      else {
        set.push('#cookie = :cookie');
        values[':cookie'] = { S: expiry.cookie };
      }
      // The fingerprint goes with the cookie: a cookie written without one leaves none behind.
      names['#cs'] = NAMES['#cs'];
      if (expiry.cookie === undefined || expiry.cookieSettings === undefined) remove.push('#cs');
      else {
        set.push('#cs = :cs');
        values[':cs'] = { S: expiry.cookieSettings };
        if (expiry.cookieSettingsRead !== undefined) {
          values[':csRead'] = { S: expiry.cookieSettingsRead };
          cookieCheck = true;
        }
      }
    }
    if (expiry) {
      if (expiry.absoluteExpiresAtMs !== undefined) {
        // Only where the session has none: one another change gave it first stays.
        names['#absMs'] = 'absoluteExpiresAtMs';
        set.push('#absMs = if_not_exists(#absMs, :absMs)');
        values[':absMs'] = { N: String(expiry.absoluteExpiresAtMs) };
      }
      if (expiry.indexed !== undefined) {
        names['#ix'] = 'indexed';
        set.push('#ix = :ix');
        values[':ix'] = { S: expiry.indexed };
      }
    }
    if (set.length === 0 && remove.length === 0) return false;
    if (generation !== undefined) values[':gen'] = { S: generation };
    const clauses = [set.length > 0 ? `SET ${set.join(', ')}` : '', remove.length > 0 ? `REMOVE ${remove.join(', ')}` : ''];
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { id: { S: id } },
          UpdateExpression: clauses.filter(Boolean).join(' '),
          ConditionExpression: `${generation !== undefined ? '#gen = :gen' : 'attribute_exists(#gen)'} AND #expMs > :now${cookieCheck ? ' AND #cs = :csRead' : ''}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          // Refused, the item as it was says whether the settings alone refused it (see below).
          ...(cookieCheck ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {}),
          ...CAPACITY,
        }),
      );
      return true;
    } catch (error) {
      // Refused for its cookie alone: the change again, the cookie and expiry kept as stored. Refused by what refuses
      // any change (a logout, another generation, the session's end), as the item returned shows: nothing more. An
      // engine that returns no item (or none there) gets the second try, which the same condition refuses.
      if (isConditionalCheckFailure(error)) return cookieCheck && expiry && !refusedWhateverItsCookie(error, generation, now) ? this.updateOnce(id, generation, keys, { ...expiry, keepCookie: true }, now) : false;
      // Not an outage: the change, merged with what other saves wrote, would pass DynamoDB's 400 KB.
      if (isItemTooLarge(error)) throw new SessionItemTooLargeError('the session, changed, is more than one DynamoDB item holds (400 KB)', { cause: error });
      throw this.unavailable(expiry && keys.length === 0 ? 'connect.touch' : 'connect.set', error);
    }
  }

  private async send<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw this.unavailable(operation, error);
    }
  }

  private unavailable(operation: string, error: unknown): StoreUnavailableError {
    return storeUnavailable(operation, error, this.table, this.wording);
  }
}

/**
 * Whether the item a refused change returned (ReturnValuesOnConditionCheckFailure) refuses any change, its cookie
 * aside: no generation (a deletion's mark) or another one, or an end passed by `now`. False when none was returned.
 */
function refusedWhateverItsCookie(error: unknown, generation: string | undefined, now: number): boolean {
  const item = (error as { Item?: Record<string, AttributeValue> }).Item;
  if (item === undefined) return false;
  const held = item.generation?.S;
  return held === undefined || (generation !== undefined && held !== generation) || !(Number(item.expiresAtMs?.N) > now);
}
