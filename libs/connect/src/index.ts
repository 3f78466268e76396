/**
 * @kura/connect — `KuraStore`, a session store for express-session and @fastify/session on DynamoDB (Kura's
 * DynamoDB adapter) or on any `ConnectSessionStore` adapter (`@kura/redis`'s `RedisConnectSessionStore`):
 * hashed session ids, writes only of what changed, expiry on every read, bounded calls, and outages as
 * `StoreUnavailableError` for a 503.
 */
export { KuraStore, type StoredSession } from './kura-store.js';
export { type KuraStoreOptions, KuraStoreOptionsError, DEFAULT_TABLE_NAME } from './kura-store.options.js';
export { SessionTooLargeError, MAX_SESSION_BYTES, MAX_KEY_NAME_BYTES } from './session-too-large.error.js';
export { CredentialReplacedError } from './credential-replaced.error.js';
export type { UserSession } from './user-sessions.js';
export type { PreviousSessionStore } from './previous-store.js';
export { StoreUnavailableError, type ConnectSessionStore, type ConnectSessionItem, type ConnectSessionChange, type UserIndexEntry } from '@kura/common';
// The DynamoDB helpers (createDynamoDbClients, DynamoDbCallLog, RequestSigningSha256, the table's definition) are
// @kura/dynamodb's: importing them from here would load the AWS SDK into every app, Redis ones included.
// Their types are declared here by shape (see dynamodb.types.ts): a project on Redis has no @kura/dynamodb to take them from.
export type { DynamoDbConnectionOptions, DynamoDbClient, DynamoDbCallTotals, TableBootstrapStep } from './dynamodb.types.js';
