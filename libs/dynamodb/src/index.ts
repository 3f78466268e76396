/**
 * @kura/dynamodb — Kura's storage on DynamoDB or any compatible engine (DynamoDB Local, LocalStack,
 * dynalite). The only lib that imports the AWS SDK.
 */
export { createDynamoDbClients, type DynamoDbClients, type DynamoDbConnectionOptions } from './dynamodb-client.js';
export { RequestSigningSha256 } from './request-signing-sha256.js';
export { DynamoDbSessionStore, type DynamoDbSessionStoreOptions } from './dynamodb-session.store.js';
export { DynamoDbUserStore } from './dynamodb-user.store.js';
export { ensureKuraTables, type TableBootstrapStep, TableMismatchError, tableDifferences, type TableShape } from './table-bootstrap.js';
export { connectSessionTableDefinition, ensureConnectSessionTable, CONNECT_SESSION_TTL_ATTRIBUTE } from './connect-session-table.js';
export {
  DynamoDbConnectSessionStore,
  type DynamoDbConnectSessionStoreOptions,
  type ConnectSessionItem,
  type ConnectSessionChange,
} from './dynamodb-connect-session.store.js';
export { type StoreErrorWording, KURA_SERVICE_WORDING } from './dynamodb-errors.js';
export { engineAnswers } from './engine-probe.js';
export {
  kuraTableDefinitions,
  type KuraTableNames,
  type KuraTableNamesToEnsure,
  DEFAULT_TABLE_NAMES,
  SESSION_TTL_ATTRIBUTE,
  SESSIONS_BY_USER_INDEX,
} from './kura-tables.js';
export { DynamoDbCallLog, type DynamoDbCallTotals, type OperationTotals } from './dynamodb-call-log.js';
export { DynamoDbSessionDataStore } from './dynamodb-session-data.store.js';
export { DynamoDbLoginAttemptStore } from './dynamodb-login-attempt.store.js';
