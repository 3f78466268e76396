import { type Clock, type ConnectSessionStore, systemClock } from '@kura/common';
import type { DynamoDbClient, DynamoDbConnectionOptions } from './dynamodb.types.js';
import type { PreviousSessionStore } from './previous-store.js';

export interface KuraStoreOptions {
  /**
   * Another storage than DynamoDB: an adapter of `ConnectSessionStore` (from `@kura/common`), such as
   * `new RedisConnectSessionStore(redisClient)` from `@kura/redis`. Its client is yours (`close()` leaves it
   * open). Give this, `connection` or `client`; `tableName` and `consistentRead` are DynamoDB's, so they do not
   * go with it.
   * @example new KuraStore({ adapter: new RedisConnectSessionStore(redis) })
   */
  adapter?: ConnectSessionStore;
  /**
   * The table sessions live in: key `id` (string), TTL on `expiresAt` (see `connectSessionTableDefinition` in `@kura/dynamodb` and
   * `KuraStore.ensureTable`).
   * @default 'kura-connect-sessions'
   */
  tableName?: string;
  /**
   * Where DynamoDB is, for clients the store makes and owns (`close()` ends them), every call bounded:
   * `{ region, endpoint?, timeoutMs? (1000), maxAttempts? (3), credentials?, callLog? }`. Give this, `client` or `adapter`.
   */
  connection?: DynamoDbConnectionOptions;
  /**
   * A `DynamoDBClient` of your own, shared and closed by you. Its timeouts are yours to bound: make it with
   * `createDynamoDbClients` from `@kura/dynamodb`, or set a request handler with `requestTimeout`,
   * `throwOnRequestTimeout: true` and `socketTimeout`. Give this, `connection` or `adapter`.
   */
  client?: DynamoDbClient;
  /**
   * Seconds a session lives without use when its cookie has no expiry (`maxAge` unset: a browser-session
   * cookie). With an expiry, the cookie decides.
   * @default 86400 (one day)
   */
  ttlSeconds?: number;
  /**
   * Seconds a session may live from the moment it was written whole (made, or regenerated at login) however
   * actively it is used: its absolute lifetime (ASVS 7.3.2). The cookie's rolling expiry never carries it past
   * that. `null`: no absolute lifetime (express-session's and connect-redis's own behaviour). Set it to your
   * "remember me" span if the app keeps users logged in longer.
   * @default 86400 (one day)
   */
  absoluteTtlSeconds?: number | null;
  /**
   * The touch rule: a session whose data did not change is written only when its stored expiry lags the one its
   * cookie asks for by at least this fraction of the cookie's lifetime. 0 writes on every request.
   * @default 0.1 (a 30-minute session: at most one write per 3 minutes of use; idle, it ends after 27 to 30)
   */
  touchFraction?: number;
  /**
   * Strongly consistent reads (1 read unit), so a destroyed session is gone on every replica at once. `false`
   * halves the cost, but a destroyed session may still be read for about a second.
   * @default true
   */
  consistentRead?: boolean;
  /**
   * Whose a session is: `(session) => session.user`, or for Passport `(session) => session.passport?.user`. A
   * non-empty string or a finite number is the user's id; anything else, no user. With it, the store keeps an
   * index per user (one write more when a session first names its user, at login; nothing on other requests), so
   * the app can list a user's sessions and end them: `sessionsOf`, `destroySessionsOf` (log out everywhere; the
   * others after a password change), `destroySessionOf`.
   */
  userOf?: (session: Record<string, unknown>) => unknown;
  /**
   * The credential a session was made with (needs `userOf`): `(session) => session.passwordVersion`, a value the
   * app reads with the password it checks at login and keeps in the session (a version it raises at each change,
   * or when the password last changed; a string or a number, never the password). With it,
   * `destroySessionsOf(user, { except, credential })` after a password change (the version now in force) also
   * refuses, from then on, every session made with another version when it names its user, a login still on its
   * way included: that save fails with `CredentialReplacedError`, and the session is deleted. A login costs one
   * read more, a change one write, one read and one removal; nothing else does. Every replica needs it.
   */
  credentialOf?: (session: Record<string, unknown>) => unknown;
  /**
   * The store the app kept its sessions in until now (connect-redis's `RedisStore`, connect-dynamodb, …), so that
   * switching to KuraStore logs nobody out: a session id KuraStore does not know is looked up there, and a session
   * found is moved, once, on its first request (written here, and replaced there by a stub of its cookie alone).
   * Logouts reach both stores. Every call is bounded by `timeoutMs` (default 1000); a failure of the previous store
   * is a `StoreUnavailableError`, never "logged out". For `rolloutSeconds` after a session moved (default 3600: as
   * long as old replicas running the previous store may still serve requests; 0 when none run beside this one),
   * each read of it also looks at the previous store, so a logout there ends it here. `ttlSeconds` (default 86400,
   * connect-redis's and connect-dynamodb's own): how long the previous store keeps a session whose cookie has no
   * expiry. Remove the option once the longest session the previous store could hold has expired. See "Moving from
   * another store" in the README.
   *
   * `move: false` (default `true`) makes a replica that follows without moving, for a rollout that logs nobody out
   * even behind round robin: deploy it first, beside the old replicas (it serves sessions from the previous store,
   * writes logins and their changes there, and follows moved sessions here), then the moving version beside it.
   * @example migrateFrom: { store: new RedisStore({ client: redis }) }
   */
  migrateFrom?: { store: PreviousSessionStore; move?: boolean; timeoutMs?: number; rolloutSeconds?: number; ttlSeconds?: number };
  /**
   * Source of the current time for expiry.
   * @default the system clock
   */
  clock?: Clock;
}

/** Options after defaults were applied and checked. */
export interface KuraStoreSettings {
  readonly tableName: string;
  readonly adapter: ConnectSessionStore | undefined;
  readonly connection: DynamoDbConnectionOptions | undefined;
  readonly client: DynamoDbClient | undefined;
  readonly ttlMs: number;
  /** The absolute lifetime, or `undefined` for none. */
  readonly absoluteTtlMs: number | undefined;
  readonly touchFraction: number;
  readonly consistentRead: boolean;
  readonly clock: Clock;
  readonly userOf: ((session: Record<string, unknown>) => unknown) | undefined;
  readonly credentialOf: ((session: Record<string, unknown>) => unknown) | undefined;
  readonly migrateFrom:
    | { readonly store: PreviousSessionStore; readonly move: boolean; readonly timeoutMs: number; readonly rolloutMs: number; readonly ttlMs: number }
    | undefined;
}

export const DEFAULT_TABLE_NAME = 'kura-connect-sessions';

/** `new KuraStore(options)` was given options that cannot work; `problems` lists every one. */
export class KuraStoreOptionsError extends Error {
  override readonly name = 'KuraStoreOptionsError';

  constructor(readonly problems: readonly string[]) {
    super(`Invalid KuraStore options:\n${problems.map((problem) => `- ${problem}`).join('\n')}`);
  }
}

const KNOWN = new Set(['tableName', 'connection', 'client', 'adapter', 'ttlSeconds', 'absoluteTtlSeconds', 'touchFraction', 'consistentRead', 'clock', 'userOf', 'credentialOf', 'migrateFrom']);
const KNOWN_CONNECTION = new Set(['region', 'endpoint', 'timeoutMs', 'maxAttempts', 'credentials', 'callLog']);
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

/** Applies defaults and checks the options once, reporting every problem in one error. */
export function resolveKuraStoreOptions(options: KuraStoreOptions): KuraStoreSettings {
  if (typeof options !== 'object' || options === null) throw new KuraStoreOptionsError(['options must be an object: { connection: { region }, ... } or { client, ... }']);
  const problems: string[] = [];
  const tableName = options.tableName ?? DEFAULT_TABLE_NAME;
  const ttlSeconds = options.ttlSeconds ?? 86_400;
  const absoluteTtlSeconds = options.absoluteTtlSeconds === undefined ? 86_400 : options.absoluteTtlSeconds;
  const touchFraction = options.touchFraction ?? 0.1;
  const consistentRead = options.consistentRead ?? true;

  for (const key of Object.keys(options)) if (!KNOWN.has(key)) problems.push(`unknown option "${key}" (known: ${[...KNOWN].join(', ')})`);
  if (typeof tableName !== 'string' || !TABLE_NAME.test(tableName)) {
    problems.push(`tableName must be 3 to 255 characters of A-Z a-z 0-9 _ . - (a DynamoDB table name), got ${JSON.stringify(tableName)}`);
  }
  const storages = (['connection', 'client', 'adapter'] as const).filter((name) => options[name] !== undefined);
  if (storages.length > 1) problems.push(`give one of connection, client or adapter, not ${storages.join(' and ')}`);
  if (storages.length === 0) {
    problems.push('give connection ({ region, endpoint?, timeoutMs?, ... }) or client (a DynamoDBClient) for DynamoDB, or adapter (a ConnectSessionStore, e.g. RedisConnectSessionStore from @kura/redis)');
  }
  if (options.adapter !== undefined) problems.push(...adapterProblems(options));
  if (options.client !== undefined && typeof (options.client as { send?: unknown } | null)?.send !== 'function') {
    problems.push('client must be a DynamoDBClient from @aws-sdk/client-dynamodb');
  }
  if (options.connection !== undefined) problems.push(...connectionProblems(options.connection));
  if (typeof ttlSeconds !== 'number' || !Number.isInteger(ttlSeconds) || ttlSeconds <= 0) problems.push(`ttlSeconds must be a positive integer, got ${String(ttlSeconds)}`);
  if (absoluteTtlSeconds !== null && (typeof absoluteTtlSeconds !== 'number' || !Number.isInteger(absoluteTtlSeconds) || absoluteTtlSeconds <= 0)) {
    problems.push(`absoluteTtlSeconds must be a positive integer, or null for no absolute lifetime, got ${String(absoluteTtlSeconds)}`);
  }
  if (typeof touchFraction !== 'number' || !(touchFraction >= 0 && touchFraction < 1)) {
    problems.push(`touchFraction must be a number from 0 (write on every touch) up to but not including 1, got ${String(touchFraction)}`);
  }
  if (typeof consistentRead !== 'boolean') problems.push(`consistentRead must be true or false, got ${String(consistentRead)}`);
  if (options.clock !== undefined && typeof options.clock?.now !== 'function') problems.push('clock must have a now() method');
  if (options.userOf !== undefined && typeof options.userOf !== 'function') problems.push('userOf must be a function of the session giving its user\'s id, e.g. (session) => session.user');
  if (options.credentialOf !== undefined && typeof options.credentialOf !== 'function') problems.push('credentialOf must be a function of the session giving the credential it was made with, e.g. (session) => session.passwordVersion');
  else if (options.credentialOf !== undefined && options.userOf === undefined) problems.push('credentialOf needs userOf: a credential is replaced for a user');
  if (options.migrateFrom !== undefined) problems.push(...migrateFromProblems(options.migrateFrom));
  if (problems.length > 0) throw new KuraStoreOptionsError(problems);

  return {
    tableName,
    adapter: options.adapter,
    connection: options.connection,
    client: options.client,
    ttlMs: ttlSeconds * 1000,
    absoluteTtlMs: absoluteTtlSeconds === null ? undefined : absoluteTtlSeconds * 1000,
    touchFraction,
    consistentRead,
    clock: options.clock ?? systemClock,
    userOf: options.userOf,
    credentialOf: options.credentialOf,
    migrateFrom: options.migrateFrom && {
      store: options.migrateFrom.store,
      move: options.migrateFrom.move ?? true,
      timeoutMs: options.migrateFrom.timeoutMs ?? 1000,
      rolloutMs: (options.migrateFrom.rolloutSeconds ?? 3600) * 1000,
      ttlMs: (options.migrateFrom.ttlSeconds ?? 86_400) * 1000,
    },
  };
}

const PREVIOUS_STORE_METHODS = ['get', 'set', 'destroy'] as const;
const MIGRATE_FROM_KEYS = ['store', 'move', 'timeoutMs', 'rolloutSeconds', 'ttlSeconds'];

function migrateFromProblems(migrateFrom: NonNullable<KuraStoreOptions['migrateFrom']>): string[] {
  if (typeof migrateFrom !== 'object' || migrateFrom === null) return ['migrateFrom must be an object: { store, move?, timeoutMs?, rolloutSeconds?, ttlSeconds? }, store being the express-session store the sessions are in now'];
  const problems: string[] = [];
  for (const key of Object.keys(migrateFrom)) if (!MIGRATE_FROM_KEYS.includes(key)) problems.push(`unknown migrateFrom option "${key}" (known: ${MIGRATE_FROM_KEYS.join(', ')})`);
  if (migrateFrom.move !== undefined && typeof migrateFrom.move !== 'boolean') problems.push(`migrateFrom.move must be true (move each session here on its first request) or false (follow only), got ${String(migrateFrom.move)}`);
  const store = migrateFrom.store as unknown as Partial<Record<string, unknown>> | null | undefined;
  const missing = PREVIOUS_STORE_METHODS.filter((method) => typeof store?.[method] !== 'function');
  if (missing.length > 0) problems.push(`migrateFrom.store must be an express-session or @fastify/session store (get, set, destroy), such as connect-redis's RedisStore; it has no ${missing.join(', ')}`);
  const { timeoutMs } = migrateFrom;
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0)) problems.push(`migrateFrom.timeoutMs must be a positive integer (milliseconds), got ${String(timeoutMs)}`);
  const { rolloutSeconds } = migrateFrom;
  if (rolloutSeconds !== undefined && !(Number.isInteger(rolloutSeconds) && rolloutSeconds >= 0)) {
    problems.push(`migrateFrom.rolloutSeconds must be an integer from 0 (no old replica runs beside this one), got ${String(rolloutSeconds)}`);
  }
  const { ttlSeconds } = migrateFrom;
  if (ttlSeconds !== undefined && !(Number.isInteger(ttlSeconds) && ttlSeconds > 0)) {
    problems.push(`migrateFrom.ttlSeconds must be a positive integer (how long the previous store keeps a session whose cookie has no expiry), got ${String(ttlSeconds)}`);
  }
  return problems;
}

const ADAPTER_METHODS = ['read', 'replace', 'update', 'delete'] as const;
/** What the user index (`userOf`) and `migrateFrom`'s records need of an adapter besides: one written to the port before them has none. */
const INDEX_METHODS = ['addToUserIndex', 'userIndex', 'removeFromUserIndex', 'noteIndexed'] as const;

function adapterProblems(options: KuraStoreOptions): string[] {
  const problems: string[] = [];
  const adapter = options.adapter as unknown as Partial<Record<string, unknown>> | null;
  const missing = ADAPTER_METHODS.filter((method) => typeof adapter?.[method] !== 'function');
  if (missing.length > 0) {
    problems.push(`adapter must be a ConnectSessionStore (${ADAPTER_METHODS.join(', ')}), such as RedisConnectSessionStore from @kura/redis; it has no ${missing.join(', ')}`);
  }
  const missingIndex = INDEX_METHODS.filter((method) => typeof adapter?.[method] !== 'function');
  if (missing.length === 0 && missingIndex.length > 0) {
    for (const option of ['userOf', 'migrateFrom'] as const) {
      if (options[option] !== undefined) problems.push(`${option} needs an adapter that keeps user indexes (${INDEX_METHODS.join(', ')}, and the indexed note on sessions: the connect store contract); this one has no ${missingIndex.join(', ')}`);
    }
  }
  for (const name of ['tableName', 'consistentRead'] as const) {
    if (options[name] !== undefined) problems.push(`${name} configures DynamoDB and does not go with adapter: configure the adapter itself`);
  }
  return problems;
}

function connectionProblems(connection: DynamoDbConnectionOptions): string[] {
  if (typeof connection !== 'object' || connection === null) return ['connection must be an object: { region, endpoint?, timeoutMs?, maxAttempts?, credentials? }'];
  const problems: string[] = [];
  for (const key of Object.keys(connection)) {
    if (!KNOWN_CONNECTION.has(key)) problems.push(`unknown connection option "${key}" (known: ${[...KNOWN_CONNECTION].join(', ')})`);
  }
  const { region, endpoint, timeoutMs, maxAttempts, credentials } = connection;
  if (typeof region !== 'string' || !/^[a-z0-9-]+$/.test(region)) problems.push(`connection.region must be an AWS region like eu-west-1, got ${JSON.stringify(region)}`);
  if (endpoint !== undefined && !isHttpUrl(endpoint)) problems.push(`connection.endpoint must be an http(s) URL like http://127.0.0.1:8000, got ${JSON.stringify(endpoint)}`);
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0)) problems.push(`connection.timeoutMs must be a positive integer (milliseconds), got ${String(timeoutMs)}`);
  if (maxAttempts !== undefined && !(Number.isInteger(maxAttempts) && maxAttempts >= 1 && maxAttempts <= 10)) {
    problems.push(`connection.maxAttempts must be an integer from 1 to 10, got ${String(maxAttempts)}`);
  }
  if (credentials !== undefined && !(typeof credentials?.accessKeyId === 'string' && credentials.accessKeyId && typeof credentials.secretAccessKey === 'string' && credentials.secretAccessKey)) {
    problems.push('connection.credentials needs both accessKeyId and secretAccessKey (or leave it out for the default provider chain)');
  }
  return problems;
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}
