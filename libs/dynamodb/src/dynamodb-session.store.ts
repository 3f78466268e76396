import { effectiveExpiry, endedByUser, endingCall, endingDeletedData, type EndedSession, type EndOptions, type RegisterEntry, type RegisterOutcome, cleanUpRegister, registerOutcome, type SessionData, type SessionDataStore, type SessionExtension, type SessionRecord, type SessionStore, StoreUnavailableError } from '@kura/common';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { type AttributeValue, BatchGetItemCommand, type BatchGetItemCommandOutput, GetItemCommand } from '@aws-sdk/client-dynamodb';
import pLimit from 'p-limit';
import { deleteItems, sendUntilProcessed } from './batch-delete.js';
import { isConditionalCheckFailure, isItemTooLarge, sessionLimitSettingOf, type StoreErrorWording, storeUnavailable } from './dynamodb-errors.js';
import { DynamoDbSessionDataStore, sessionDataOfAttributes } from './dynamodb-session-data.store.js';
import { itemKeys } from './state-table-keys.js';
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
  /**
   * How the reasons of its `StoreUnavailableError`s name their remedies.
   * @default this package's functions and options (`createDynamoDbClients`' `timeoutMs`, `ensureKuraTables`)
   */
  wording?: StoreErrorWording;
}

/** A session item: the record flattened (userId on top for the index) plus the TTL attribute. */
interface SessionItem {
  id: string;
  userId: string;
  email?: string;
  name?: string;
  createdAt: number;
  lastSeenAt: number;
  idleExpiresAt: number;
  absoluteExpiresAt: number;
  authenticatedAt?: number;
  dataId?: string;
  /** Epoch seconds, rounded up so DynamoDB's TTL never deletes a session before it expires. */
  expiresAt: number;
  userAgent?: string;
  ip?: string;
}

const ttlOf = (record: Pick<SessionRecord, 'idleExpiresAt' | 'absoluteExpiresAt'>) => Math.ceil(effectiveExpiry(record) / 1000);
const CAPACITY = { ReturnConsumedCapacity: 'TOTAL' } as const;
/**
 * In the user's register, each session is an attribute `s:<id>` holding `{x: absolute expiry (epoch ms),
 * v: credential version}` (a bare number, from before credential versions, means version 0); `cv` is the
 * credential version the register has moved to.
 */
const REGISTER_PREFIX = 's:';
/**
 * Names removed in one UpdateItem: `REMOVE #0, #1, …` stays below DynamoDB's 4 KB limit on an expression (about
 * 2.4 KB). Each such write rewrites the whole register, up to 400 KB, so the fewer the better.
 */
const UNREGISTER_CHUNK = 400;
/** BatchGetItem's limit of keys per call. */
const BATCH_GET_KEYS = 100;
/** Calls a prune has in flight at once (reads of sessions, endings). */
const PRUNE_CONCURRENCY = 8;
/** Reads of a batch of a prune, the first and those of what DynamoDB left unprocessed, before it gives up (a 503). */
const PRUNE_READ_ATTEMPTS = 9;
/**
 * What an ending removes: the session's body, which makes the item a tombstone (no `createdAt`), its personal
 * details included. The expiry times and the data id stay, so that the ending's own retry can answer as the first
 * attempt did (`endedBy`), and go when the tombstone does.
 */
const SESSION_BODY = ['createdAt', 'email', '#name', 'lastSeenAt', 'authenticatedAt', 'userAgent', 'ip'];

function toItem(record: SessionRecord): SessionItem {
  const { user, ...rest } = record;
  return {
    ...rest,
    userId: user.id,
    ...(user.email === undefined ? {} : { email: user.email }),
    ...(typeof user.name === 'string' ? { name: user.name } : {}),
    expiresAt: ttlOf(record),
  };
}

/**
 * A live session item from DynamoDB's attribute values; `undefined` for an ended session (its tombstone has no
 * `createdAt`) and for the other kinds of item.
 */
function fromAttributes(raw: Record<string, AttributeValue>): SessionItem | undefined {
  if (raw.createdAt === undefined || raw.userId === undefined) return undefined;
  const text = (name: string) => raw[name]?.S;
  const number = (name: string) => (raw[name]?.N === undefined ? undefined : Number(raw[name].N));
  return {
    id: text('id')!,
    userId: text('userId')!,
    ...(text('email') !== undefined ? { email: text('email')! } : {}),
    createdAt: number('createdAt')!,
    lastSeenAt: number('lastSeenAt')!,
    idleExpiresAt: number('idleExpiresAt')!,
    absoluteExpiresAt: number('absoluteExpiresAt')!,
    expiresAt: number('expiresAt')!,
    ...(text('name') !== undefined ? { name: text('name')! } : {}),
    ...(number('authenticatedAt') !== undefined ? { authenticatedAt: number('authenticatedAt')! } : {}),
    ...(text('dataId') !== undefined ? { dataId: text('dataId')! } : {}),
    ...(text('userAgent') !== undefined ? { userAgent: text('userAgent')! } : {}),
    ...(text('ip') !== undefined ? { ip: text('ip')! } : {}),
  };
}

/**
 * The session a raw item holds, or `undefined` when there is none or it has expired: DynamoDB deletes expired items
 * only "within a few days", and an expired item that is still there is absent. Judged by the expiry times to the
 * millisecond, not by the TTL attribute, which is rounded up to the second (a session would live up to a second
 * past its expiry).
 */
function liveRecordOf(raw: Record<string, AttributeValue> | undefined, now: number): SessionRecord | undefined {
  const item = raw && fromAttributes(raw);
  // To the millisecond by the expiry times; and never past the TTL attribute either (whole seconds, rounded up from
  // them, so it decides only for an item whose TTL was set earlier by hand: an operator's way to end a session).
  return item && effectiveExpiry(item) > now && item.expiresAt * 1000 > now ? toRecord(item) : undefined;
}

function toRecord(item: SessionItem): SessionRecord {
  return {
    id: item.id,
    user: { id: item.userId, ...(item.email !== undefined ? { email: item.email } : {}), name: item.name ?? null },
    createdAt: item.createdAt,
    lastSeenAt: item.lastSeenAt,
    idleExpiresAt: item.idleExpiresAt,
    absoluteExpiresAt: item.absoluteExpiresAt,
    ...(item.authenticatedAt !== undefined ? { authenticatedAt: item.authenticatedAt } : {}),
    ...(item.dataId !== undefined ? { dataId: item.dataId } : {}),
    ...(item.userAgent !== undefined ? { userAgent: item.userAgent } : {}),
    ...(item.ip !== undefined ? { ip: item.ip } : {}),
  };
}

/**
 * Sessions in a DynamoDB table: one item per session, keyed by the token's hash, deleted by TTL, indexed by
 * user for listing. Each user also has a register item naming their sessions and the credential version they
 * are on, read strongly consistent when every session of a user must go (logout everywhere, password
 * change): revocation never depends on the eventually consistent index. An ended session leaves a tombstone
 * (its key, owner and TTL) until it would have expired, so no late write can bring it back.
 */
export class DynamoDbSessionStore implements SessionStore {
  private readonly table: string;
  private readonly consistentRead: boolean;
  private readonly wording: StoreErrorWording | undefined;

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    options: DynamoDbSessionStoreOptions,
  ) {
    this.table = options.tableName;
    this.consistentRead = options.consistentRead ?? true;
    this.wording = options.wording;
  }

  /** A failure as `StoreUnavailableError`, its reason in this store's wording, naming its table (`table kura-sessions does not exist`). */
  private unavailable(operation: string, error: unknown, table: string = this.table): StoreUnavailableError {
    return storeUnavailable(operation, error, table, this.wording);
  }

  async insert(record: SessionRecord): Promise<void> {
    try {
      await this.documents.send(
        new PutCommand({ TableName: this.table, Item: toItem(record), ConditionExpression: 'attribute_not_exists(id)', ...CAPACITY }),
      );
      return;
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw this.unavailable('session.insert', error);
    }
    // The SDK retried a put whose answer was lost, and the retry met the first attempt's item: ours, so done.
    const existing = await this.read(record.id, 'session.insert');
    if (existing?.userId === record.user.id && existing.createdAt === record.createdAt) return;
    // 256-bit random ids do not collide; a taken id means a broken random source or an ended session: never overwrite.
    throw this.unavailable('session.insert', new Error(`Session id ${record.id} is already taken`));
  }

  async find(id: string, now: number): Promise<SessionRecord | undefined> {
    let raw: Record<string, AttributeValue> | undefined;
    try {
      // The hot path of every request: the low-level command and a direct reading of the item's few known
      // attributes, without the document client's generic marshalling (measured in npm run bench).
      const result = await this.documents.send(
        new GetItemCommand({ TableName: this.table, Key: { id: { S: id } }, ConsistentRead: this.consistentRead, ...CAPACITY }),
      );
      raw = result.Item;
    } catch (error) {
      throw this.unavailable('session.find', error);
    }
    return liveRecordOf(raw, now);
  }

  /**
   * The session and its own data item in one BatchGetItem, both strongly consistent (two read units, one round
   * trip). Keys DynamoDB leaves unprocessed (throttling) are read again one by one.
   */
  async findWithData(id: string, now: number, dataStore: SessionDataStore): Promise<{ record: SessionRecord | undefined; data: SessionData | undefined }> {
    if (!(dataStore instanceof DynamoDbSessionDataStore && dataStore.keepsItemsIn(this.documents, this.table))) return { record: await this.find(id, now), data: undefined };
    const dataKey = itemKeys.data(id);
    let result: BatchGetItemCommandOutput;
    try {
      result = await this.documents.send(
        new BatchGetItemCommand({ RequestItems: { [this.table]: { Keys: [{ id: { S: id } }, { id: { S: dataKey } }], ConsistentRead: true } }, ...CAPACITY }),
      );
    } catch (error) {
      throw this.unavailable('session.find', error);
    }
    if ((result.UnprocessedKeys?.[this.table]?.Keys?.length ?? 0) > 0) {
      const [record, data] = await Promise.all([this.find(id, now), dataStore.read(id)]);
      return { record, data };
    }
    const items = result.Responses?.[this.table] ?? [];
    const itemOf = (key: string) => items.find((raw) => raw.id?.S === key);
    return { record: liveRecordOf(itemOf(id), now), data: sessionDataOfAttributes(itemOf(dataKey)) };
  }

  async extend(id: string, change: SessionExtension): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id },
          // UpdateItem creates missing items: the condition keeps an ended session (no createdAt) from coming back.
          ConditionExpression: 'attribute_exists(createdAt)',
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
      throw this.unavailable('session.extend', error);
    }
  }

  async end(id: string, now: number, options: EndOptions = {}): Promise<EndedSession | undefined> {
    const { owner } = options;
    // The SDK sends the same call again when an answer is lost: `endedBy` then names this call, and the retry
    // answers as the first ending (live, data deleted), not as a later one (the review of 2026-12-02 found a
    // re-authentication answered 401, its user logged out, after the answer to its ending was lost).
    const call = endingCall(options.keepData === true);
    let old: Record<string, unknown> | undefined;
    try {
      const result = await this.documents.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id },
          // Only session items (live or ended) have userId: never creates an item, never touches another kind.
          ConditionExpression: owner === undefined ? 'attribute_exists(userId)' : 'userId = :owner',
          UpdateExpression: `SET endedAt = if_not_exists(endedAt, :now), endedBy = if_not_exists(endedBy, :call) REMOVE ${SESSION_BODY.join(', ')}`,
          ExpressionAttributeNames: { '#name': 'name' },
          ExpressionAttributeValues: { ':now': now, ':call': call, ...(owner === undefined ? {} : { ':owner': owner }) },
          ReturnValues: 'ALL_OLD',
          ...CAPACITY,
        }),
      );
      old = result.Attributes;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return undefined;
      throw this.unavailable('session.end', error);
    }
    // The first ending (the item still had its body, or this is its own retry) owns the data. A later ending
    // deletes it again only when the first one was to delete it (`endedBy` says so): the first may have failed
    // after the tombstone landed (a 503), and the client's retry, a new call, finishes the job; data a new session
    // took over (a re-authentication's ending, or one from before endings said which) is never touched.
    const first = typeof old?.createdAt === 'number' || old?.endedBy === call;
    if (!options.keepData && (first || endingDeletedData(old?.endedBy))) {
      const dataId = typeof old!.dataId === 'string' ? old!.dataId : id;
      await deleteItems(this.documents, this.table, [itemKeys.data(dataId)], 'session.end', this.wording);
    }
    const live = first && effectiveExpiry({ idleExpiresAt: old!.idleExpiresAt as number, absoluteExpiresAt: old!.absoluteExpiresAt as number }) > now;
    return { userId: old!.userId as string, live };
  }

  async register(userId: string, entry: RegisterEntry, now: number): Promise<RegisterOutcome> {
    let attributes: Record<string, unknown> | undefined;
    try {
      attributes = await this.writeEntry(userId, entry);
    } catch (error) {
      if (!isItemTooLarge(error)) throw this.unavailable('session.register', error);
      // The register is one item, and DynamoDB refuses a write that would take it past 400 KB (about 6,600 entries).
      // Entries stay until their absolute expiry unless their session is logged out, so a client that logs in every
      // few seconds and never logs out fills it with sessions long gone: make room, and try once more.
      const entries = await this.registered(userId);
      await this.prune(userId, entries, now);
      try {
        attributes = await this.writeEntry(userId, entry);
      } catch (error) {
        if (!isItemTooLarge(error)) throw this.unavailable('session.register', error);
        throw new StoreUnavailableError('session.register', {
          cause: error,
          retryAfterSeconds: 60,
          reason: `the user's session register is full (DynamoDB's 400 KB item limit) with sessions still live: end them (logout-all) or set ${sessionLimitSettingOf(this.wording)}`,
        });
      }
    }
    if (!attributes) return { outcome: 'stale' };
    const entries = entriesOf(attributes);
    const outcome = registerOutcome(entries, entry, now);
    // Past a size, now and then (not at every login: a prune reads every entry's session), the same clean-up as when
    // the item is full: the item stays far from its limit, and each login's write of it cheap (a write costs a unit
    // per KB of the item, and its answer carries the whole register).
    await cleanUpRegister(entries, entry, now, { prune: (others) => this.prune(userId, others, now), unregister: (ids) => this.unregister(userId, ids) });
    return outcome;
  }

  /**
   * Writes an entry into the register unless it has moved to newer credentials (`undefined`: nothing written).
   *
   * A register on version 0 lives as long as its longest-lived session: its TTL only ever moves forward. When
   * another login set it further (a longer timeout then, a clock ahead), the entry goes in without touching it.
   * A register past version 0 is never deleted by TTL (`REMOVE expiresAt`, as Redis `PERSIST`s every register):
   * its version is what refuses a login that checked a replaced password, or a deleted account's, and such a login
   * may reach its register step any time later. A closing (`SessionService.closeAll`, an entry expired at once)
   * had set the TTL to "now" on a new or expired register: the engine could then delete the version it had just
   * raised. A replica from before this writes a TTL again on its next registration, no earlier than its own
   * session's absolute expiry (never "now"); a newer one's next registration removes it.
   */
  private async writeEntry(userId: string, entry: RegisterEntry): Promise<Record<string, unknown> | undefined> {
    const key = { id: itemKeys.userRegister(userId) };
    const names = { '#entry': `${REGISTER_PREFIX}${entry.id}` };
    const values = { ':entry': { x: entry.absoluteExpiresAt, v: entry.credentialVersion }, ':cv': entry.credentialVersion };
    if (entry.credentialVersion > 0) {
      return this.update('session.register', {
        Key: key,
        ConditionExpression: 'attribute_not_exists(cv) OR cv <= :cv',
        UpdateExpression: 'SET #entry = :entry, cv = :cv REMOVE expiresAt',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      });
    }
    return (
      (await this.update('session.register', {
        Key: key,
        ConditionExpression: '(attribute_not_exists(cv) OR cv <= :cv) AND (attribute_not_exists(expiresAt) OR expiresAt <= :ttl)',
        UpdateExpression: 'SET #entry = :entry, cv = :cv, expiresAt = :ttl',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ...values, ':ttl': Math.ceil(entry.absoluteExpiresAt / 1000) },
      })) ??
      (await this.update('session.register', {
        Key: key,
        ConditionExpression: 'attribute_not_exists(cv) OR cv <= :cv',
        UpdateExpression: 'SET #entry = :entry, cv = :cv',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }))
    );
  }

  /**
   * Drops from the register the entries of sessions that are over: past their absolute expiry (no read needed), or
   * whose item, read strongly consistent, is absent, a tombstone, or past its effective (idle) expiry. An item past
   * its expiry that is still there is ended first: a use that read it in time may still extend it, and unregistered
   * it would then escape logout-all and a password change (G3; `keepWithinLimit` ends such sessions for the same
   * reason). An ending taken by such a use lands on a session that had expired.
   *
   * No entry of a session that may still be live goes. A login inserts its item before it registers it (rule 1 of
   * docs/concurrency.md), so an entry read from the register names an item that was written before: if it is absent
   * now, only TTL can have deleted it, once it had expired (a live session's TTL moves only forward, and an ending
   * leaves a tombstone until then), and nothing writes it again (`extend` only updates an item that has `createdAt`,
   * an insert's retry comes within seconds of its own write, long before). A tombstone stays one (rule 2). A login
   * still on its way is not in the register read here, and only the entries read are dropped.
   */
  private async prune(userId: string, entries: readonly RegisterEntry[], now: number): Promise<void> {
    const over = entries.filter((entry) => entry.absoluteExpiresAt <= now).map((entry) => entry.id);
    const ahead = entries.filter((entry) => entry.absoluteExpiresAt > now).map((entry) => entry.id);
    const limit = pLimit(PRUNE_CONCURRENCY);
    const chunks = Array.from({ length: Math.ceil(ahead.length / BATCH_GET_KEYS) }, (_, index) => ahead.slice(index * BATCH_GET_KEYS, (index + 1) * BATCH_GET_KEYS));
    const items = new Map<string, Record<string, AttributeValue>>();
    await Promise.all(chunks.map((ids) => limit(async () => (await this.readSessions(ids)).forEach((item) => items.set(item.id!.S!, item)))));
    const expired = ahead.filter((id) => {
      const item = items.get(id);
      return item?.createdAt !== undefined && effectiveExpiry({ idleExpiresAt: Number(item.idleExpiresAt!.N), absoluteExpiresAt: Number(item.absoluteExpiresAt!.N) }) <= now;
    });
    const gone = ahead.filter((id) => items.get(id)?.createdAt === undefined);
    await Promise.all(expired.map((id) => limit(() => this.end(id, now))));
    await this.unregister(userId, [...over, ...gone, ...expired]);
  }

  /** The session items of `ids` (at most 100) that exist, read strongly consistent: only what tells live from over. */
  private async readSessions(ids: readonly string[]): Promise<Record<string, AttributeValue>[]> {
    const found: Record<string, AttributeValue>[] = [];
    const keys: Record<string, AttributeValue>[] = ids.map((id) => ({ id: { S: id } }));
    try {
      await sendUntilProcessed(
        keys,
        async (pending) => {
          const result = await this.documents.send(
            new BatchGetItemCommand({
              RequestItems: {
                [this.table]: {
                  Keys: [...pending],
                  ConsistentRead: true,
                  ProjectionExpression: '#id, #created, #idle, #absolute',
                  ExpressionAttributeNames: { '#id': 'id', '#created': 'createdAt', '#idle': 'idleExpiresAt', '#absolute': 'absoluteExpiresAt' },
                },
              },
              ...CAPACITY,
            }),
          );
          found.push(...(result.Responses?.[this.table] ?? []));
          return (result.UnprocessedKeys?.[this.table]?.Keys ?? []) as typeof keys;
        },
        PRUNE_READ_ATTEMPTS,
      );
    } catch (error) {
      throw this.unavailable('session.register', error);
    }
    return found;
  }

  async registered(userId: string): Promise<RegisterEntry[]> {
    return entriesOf((await this.read(itemKeys.userRegister(userId), 'session.registered')) ?? {});
  }

  async unregister(userId: string, ids: readonly string[]): Promise<void> {
    for (let start = 0; start < ids.length; start += UNREGISTER_CHUNK) {
      const chunk = ids.slice(start, start + UNREGISTER_CHUNK);
      const names = Object.fromEntries(chunk.map((id, index) => [`#${index}`, `${REGISTER_PREFIX}${id}`]));
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
        throw this.unavailable('session.unregister', error);
      }
    }
  }

  async listOfUser(userId: string, now: number, limit: number): Promise<SessionRecord[]> {
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
            // Newest first, a page at most as long as the list: a user with thousands of sessions costs no more.
            Limit: limit,
            ExclusiveStartKey: start,
            ...CAPACITY,
          }),
        );
        for (const item of (page.Items ?? []) as SessionItem[]) {
          const record = toRecord(item);
          if (effectiveExpiry(record) > now) records.push(record);
        }
        start = page.LastEvaluatedKey;
        // Expired items the TTL has not deleted yet take room in a page: read on until the list is full.
      } while (start && records.length < limit);
    } catch (error) {
      throw this.unavailable('session.listOfUser', error);
    }
    return records.slice(0, limit);
  }

  /** One eventually consistent read of a key that never exists: the cheapest call that proves table and permissions. */
  async ping(): Promise<void> {
    try {
      await this.documents.send(new GetCommand({ TableName: this.table, Key: { id: itemKeys.ping }, ...CAPACITY }));
    } catch (error) {
      throw this.unavailable('session.ping', error);
    }
  }

  /**
   * The one Scan in Kura, for the operator's "end every session": pages through the keys only (a projection),
   * ending sessions (tombstones, as every ending does, deleting their data) and dropping each from its user's
   * register. Nothing else is deleted: a register or a document the scan passes may belong to a session begun
   * after the scan passed its key, which must stay registered, with its data (registers and documents of ended
   * sessions expire with them). Failed-login counters stay.
   */
  async removeAll(now: number): Promise<number> {
    let live = 0;
    let start: Record<string, unknown> | undefined;
    const limit = pLimit(8);
    do {
      let page;
      try {
        page = await this.documents.send(
          new ScanCommand({ TableName: this.table, ProjectionExpression: 'id', ConsistentRead: true, ExclusiveStartKey: start, ...CAPACITY }),
        );
      } catch (error) {
        throw this.unavailable('session.removeAll', error);
      }
      const ids = (page.Items ?? []).map((item) => String(item.id));
      const sessions = ids.filter((id) => !id.includes('#'));
      const ended = await Promise.all(sessions.map((id) => limit(() => this.end(id, now))));
      live += ended.filter((session) => session?.live).length;
      await Promise.all([...endedByUser(sessions, ended)].map(([userId, ids]) => limit(() => this.unregister(userId, ids))));
      start = page.LastEvaluatedKey;
    } while (start);
    return live;
  }

  /** An item by key, strongly consistent. */
  private async read(id: string, operation: string): Promise<Record<string, unknown> | undefined> {
    try {
      const result = await this.documents.send(new GetCommand({ TableName: this.table, Key: { id }, ConsistentRead: true, ...CAPACITY }));
      return result.Item;
    } catch (error) {
      throw this.unavailable(operation, error);
    }
  }

  /** A conditional update returning the item after it; `undefined` when the condition did not hold (nothing written). */
  private async update(
    operation: string,
    input: Pick<UpdateCommandInput, 'Key' | 'ConditionExpression' | 'UpdateExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>,
  ): Promise<Record<string, unknown> | undefined> {
    try {
      const result = await this.documents.send(new UpdateCommand({ TableName: this.table, ...input, ReturnValues: 'ALL_NEW', ...CAPACITY }));
      return result.Attributes ?? {};
    } catch (error) {
      if (isConditionalCheckFailure(error)) return undefined;
      throw this.unavailable(operation, error);
    }
  }
}

/** The sessions a register item names. */
function entriesOf(register: Record<string, unknown>): RegisterEntry[] {
  return Object.entries(register)
    .filter(([name]) => name.startsWith(REGISTER_PREFIX))
    .map(([name, value]) => {
      const entry = typeof value === 'number' ? { x: value, v: 0 } : (value as { x: number; v: number });
      return { id: name.slice(REGISTER_PREFIX.length), absoluteExpiresAt: entry.x, credentialVersion: entry.v };
    });
}
