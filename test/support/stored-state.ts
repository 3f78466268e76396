import { type AttributeValue, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { createClient } from 'redis';
import { testClients } from './engine.js';

/**
 * What a store holds, raw, as Kura wrote it: for keeping the formats of earlier releases as fixtures, loading them
 * into a fresh store, and telling whether the present code writes the same shapes. Times in a dump are moved by
 * `shiftTimes` when it is loaded, so that what was live when it was written is live now.
 */

/** DynamoDB: each table's items, as the low-level client's attribute values. */
export type DynamoDbDump = Record<string, Record<string, AttributeValue>[]>;

/** Redis: every key under one prefix, with its type, value and time to live (ms; -1: none). */
export interface RedisEntry {
  readonly key: string;
  readonly type: 'string' | 'hash' | 'set' | 'zset' | 'list';
  readonly value: string | string[] | Record<string, string>;
  readonly pttl: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Times

const DAY_MS = 86_400_000;
/** How far from the time of writing a number may be and still be taken for a time: sessions last hours or days. */
const WINDOW_MS = 400 * DAY_MS;
const EPOCH = /(?<![0-9A-Za-z.])(\d{13}|\d{10})(?![0-9A-Za-z])/g;
const ISO = /\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{3})?Z\b/g;

/**
 * `text` (a dump as JSON) with every time in it moved by `byMs`: epoch milliseconds (13 digits) and seconds (10)
 * within 400 days of `writtenAt`, alone or inside a value (`1796…:0`), and ISO 8601 instants (express-session's
 * `cookie.expires`). Versions, counts and ids are left as they are.
 */
export function shiftTimes(text: string, writtenAt: number, byMs: number): string {
  return text
    .replace(EPOCH, (digits) => {
      const value = Number(digits);
      if (digits.length === 13) return Math.abs(value - writtenAt) < WINDOW_MS ? String(value + byMs) : digits;
      return Math.abs(value * 1000 - writtenAt) < WINDOW_MS ? String(value + Math.round(byMs / 1000)) : digits;
    })
    .replace(ISO, (instant) => {
      const value = Date.parse(instant);
      return Math.abs(value - writtenAt) < WINDOW_MS ? new Date(value + byMs).toISOString() : instant;
    });
}

// ---------------------------------------------------------------------------------------------------------------
// DynamoDB

/** Every item of each table (`name` in the dump → the table's real name). */
export async function dumpDynamoDb(tables: Record<string, string>): Promise<DynamoDbDump> {
  const { client } = testClients();
  try {
    const dump: DynamoDbDump = {};
    for (const [name, table] of Object.entries(tables)) {
      const items: Record<string, AttributeValue>[] = [];
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await client.send(new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start }));
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
      dump[name] = items;
    }
    return dump;
  } finally {
    client.destroy();
  }
}

/** Puts every item of `dump` into the tables named (fresh ones: nothing is deleted first). */
export async function loadDynamoDb(dump: DynamoDbDump, tables: Record<string, string>): Promise<void> {
  const { client } = testClients();
  try {
    for (const [name, items] of Object.entries(dump)) {
      for (const item of items) await client.send(new PutItemCommand({ TableName: tables[name], Item: item }));
    }
  } finally {
    client.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Redis

const newClient = (url: string) => createClient({ url });
type Commander = ReturnType<typeof newClient>;

async function withRedis<T>(url: string, use: (redis: Commander) => Promise<T>): Promise<T> {
  const redis = newClient(url);
  await redis.connect();
  try {
    return await use(redis);
  } finally {
    redis.destroy();
  }
}

/** Every key under `prefix`, with its prefix left out of the name (`SCAN`: a test, not a request path). */
export function dumpRedis(url: string, prefix: string): Promise<RedisEntry[]> {
  return withRedis(url, async (redis) => {
    const keys: string[] = [];
    for await (const batch of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) keys.push(...batch);
    const entries: RedisEntry[] = [];
    for (const key of keys.sort()) {
      const type = (await redis.type(key)) as RedisEntry['type'];
      const pttl = await redis.pTTL(key);
      const value =
        type === 'string'
          ? ((await redis.get(key)) ?? '')
          : type === 'hash'
            ? { ...(await redis.hGetAll(key)) }
            : type === 'set'
              ? (await redis.sMembers(key)).sort()
              : type === 'zset'
                ? (await redis.zRangeWithScores(key, 0, -1)).flatMap(({ value: member, score }) => [member, String(score)])
                : await redis.lRange(key, 0, -1);
      entries.push({ key: key.slice(prefix.length), type, value, pttl });
    }
    return entries;
  });
}

function pairs(flat: string[]): [string, string][] {
  const result: [string, string][] = [];
  for (let index = 0; index < flat.length; index += 2) result.push([flat[index]!, flat[index + 1]!]);
  return result;
}

/** Writes every entry under `prefix`, with its time to live. */
export function loadRedis(url: string, prefix: string, entries: readonly RedisEntry[]): Promise<void> {
  return withRedis(url, async (redis) => {
    for (const { key, type, value, pttl } of entries) {
      const name = `${prefix}${key}`;
      if (type === 'string') await redis.sendCommand(['SET', name, value as string]);
      else if (type === 'hash') await redis.sendCommand(['HSET', name, ...Object.entries(value as Record<string, string>).flat()]);
      else if (type === 'set') await redis.sendCommand(['SADD', name, ...(value as string[])]);
      else if (type === 'zset') {
        const flat = value as string[];
        const members = pairs(flat).flatMap(([member, score]) => [score, member]);
        await redis.sendCommand(['ZADD', name, ...members]);
      } else await redis.sendCommand(['RPUSH', name, ...(value as string[])]);
      if (pttl > 0) await redis.sendCommand(['PEXPIRE', name, String(pttl)]);
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Shapes

/**
 * An id, a token's hash, a random write id: a run of 16 or more characters of an id's alphabet, with a digit in it
 * or 32 long (an attribute's name, `absoluteExpiresAt`, has neither).
 */
const ID_LIKE = /[A-Za-z0-9_-]{16,}/g;
const EMAIL = /[^\s"'{}:#]+@example\.com/g;
const shapeOfName = (name: string) =>
  name
    .replace(EMAIL, '<email>')
    .replace(ID_LIKE, (run) => (run.length >= 32 || /\d/.test(run) ? '<id>' : run))
    .replace(/\d+/g, '<n>');

function shapeOfAttribute(value: AttributeValue): string {
  const [type, inner] = Object.entries(value)[0] as [string, unknown];
  if (type === 'M') return `M{${shapeOfAttributes(inner as Record<string, AttributeValue>).join(',')}}`;
  if (type === 'L') return `L[${[...new Set((inner as AttributeValue[]).map(shapeOfAttribute))].sort().join('|')}]`;
  return type;
}

function shapeOfAttributes(item: Record<string, AttributeValue>): string[] {
  return [...new Set(Object.entries(item).map(([name, value]) => `${shapeOfName(name)}:${shapeOfAttribute(value)}`))].sort();
}

/**
 * What kinds of item a dump holds, without their values: each item as its table, the shape of its key (ids,
 * emails and numbers left out) and its attributes' names and types. Two dumps of the same journey have the same
 * shapes exactly when the code wrote the same format.
 */
export function shapesOfDynamoDb(dump: DynamoDbDump, keyAttributes: readonly string[] = ['id', 'sk']): string[] {
  const shapes = Object.entries(dump).flatMap(([table, items]) =>
    items.map((item) => {
      const key = keyAttributes.filter((name) => item[name]?.S !== undefined).map((name) => shapeOfName(item[name]!.S!));
      return `${table} ${key.join(' ')} {${shapeOfAttributes(item).join(', ')}}`;
    }),
  );
  return [...new Set(shapes)].sort();
}

/** The same for Redis: each key's shape, its type, a hash's fields and whether it expires. */
export function shapesOfRedis(entries: readonly RedisEntry[]): string[] {
  const shapes = entries.map(({ key, type, value, pttl }) => {
    const fields = type === 'hash' ? ` {${[...new Set(Object.keys(value as Record<string, string>).map(shapeOfName))].sort().join(', ')}}` : '';
    return `${shapeOfName(key)} ${type}${fields}${pttl > 0 ? ' expires' : ''}`;
  });
  return [...new Set(shapes)].sort();
}
