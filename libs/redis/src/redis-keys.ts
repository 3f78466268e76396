/**
 * Kura's key layout in Redis. Every key carries a hash tag (`{...}`) naming what it belongs to, so Redis
 * Cluster puts a user's register and session index in one slot (a later script may touch both), while each
 * session, session document and login counter lives in the slot of its own id. Every script in this package
 * touches exactly one key; operations that change several keys sequence single-key steps the way the DynamoDB
 * adapter sequences conditional writes (docs/concurrency.md).
 */
export interface RedisKeys {
  /** A session (a hash), keyed by the token's hash; after `end`, a tombstone (`userId`, `endedAt`). */
  session(id: string): string;
  /** A session's document (a hash: `d` JSON, `v` version). */
  data(id: string): string;
  /** A user's register (a hash: `cv` credential version, `s:<id>` = `<absolute expiry>:<credential version>`). */
  register(userId: string): string;
  /** A user's sessions (a sorted set: session id scored by `createdAt`), for listing newest first. */
  sessionsOf(userId: string): string;
  /** A failed-login counter (a set of attempt ids). */
  attempts(key: string): string;
  /** An account (a hash), keyed by normalised email; it never expires. */
  user(email: string): string;
  /**
   * An express-session / @fastify/session session kept by `@kura/connect`'s KuraStore (a hash), keyed by the
   * SHA-256 of its session id (computed by KuraStore).
   */
  connect(id: string): string;
  /** A user index of KuraStore's (a set of `<added at>:<session's key>`), keyed by the hash KuraStore made of the user's id. */
  connectUser(user: string): string;
  /** The key `ping` writes to learn whether Redis takes writes (a hash that expires a minute after each write). */
  health(): string;
  /** The pattern matching every key of one kind, for `removeAll` only (SCAN, never on a request path). */
  pattern(kind: 'session' | 'data' | 'register' | 'sessions-of'): string;
}

/** Braces in an id would move the hash tag: they are escaped so the tag is always the whole id. */
const tag = (value: string) => (NEEDS_ESCAPE.test(value) ? `{${value.replaceAll('%', '%25').replaceAll('{', '%7B').replaceAll('}', '%7D')}}` : `{${value}}`);
const NEEDS_ESCAPE = /[%{}]/;

/** The id inside a key's hash tag (the inverse of the escaping above). */
export function idOfKey(key: string): string {
  const inner = key.slice(key.lastIndexOf('{', key.length - 1) + 1, -1);
  return inner.replaceAll('%7D', '}').replaceAll('%7B', '{').replaceAll('%25', '%');
}

/**
 * The keys under `prefix` (default `kura:`), so one Redis can serve several deployments. The prefix may hold no
 * brace: Redis Cluster hashes the first `{…}` of a key, so a brace in the prefix would send every key to one slot,
 * or split a session from its data (CROSSSLOT).
 */
export function redisKeys(prefix = 'kura:'): RedisKeys {
  if (/[{}]/.test(prefix)) throw new TypeError(`The Redis key prefix may not contain { or } (Redis Cluster hash tags): ${JSON.stringify(prefix)}`);
  return {
    session: (id) => `${prefix}session:${tag(id)}`,
    data: (id) => `${prefix}data:${tag(id)}`,
    register: (userId) => `${prefix}register:${tag(userId)}`,
    sessionsOf: (userId) => `${prefix}sessions-of:${tag(userId)}`,
    attempts: (key) => `${prefix}attempts:${tag(key)}`,
    user: (email) => `${prefix}user:${tag(email)}`,
    connect: (id) => `${prefix}connect:${tag(id)}`,
    connectUser: (user) => `${prefix}connect-user:${tag(user)}`,
    health: () => `${prefix}health`,
    pattern: (kind) => `${escapeGlob(prefix)}${kind}:*`,
  };
}

const escapeGlob = (value: string) => value.replace(/[*?[\]\\]/g, (char) => `\\${char}`);

/** What every Redis store is configured with. */
export interface RedisStoreOptions {
  /** Prepended to every key, so one Redis can serve several deployments. @default 'kura:' */
  keyPrefix?: string;
  /** How long one command may wait for its answer (ms) before the store throws StoreUnavailableError. @default 1000 */
  commandTimeoutMs?: number;
}
