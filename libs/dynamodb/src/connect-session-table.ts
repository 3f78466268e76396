import type { CreateTableCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type StoreErrorWording, storeUnavailable } from './dynamodb-errors.js';
import { ensureTable, type TableBootstrapStep, TableMismatchError } from './table-bootstrap.js';

/** The attribute DynamoDB's TTL deletes `@kura/connect` sessions by: epoch seconds. */
export const CONNECT_SESSION_TTL_ATTRIBUTE = 'expiresAt';

/**
 * The table `@kura/connect` keeps express-session and @fastify/session sessions in: key `id` (the SHA-256 of
 * the session id, never the id itself), TTL on `expiresAt`, on demand. No index: nothing lists sessions.
 */
export function connectSessionTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
  };
}

/**
 * Creates the table and turns its TTL on where they are missing. Idempotent; for development and tests. A failure
 * is a `StoreUnavailableError` (operation `connect.ensureTable`) whose reason says what to do, in `wording`'s terms.
 */
export async function ensureConnectSessionTable(client: DynamoDBClient, tableName: string, wording?: StoreErrorWording): Promise<TableBootstrapStep> {
  try {
    return await ensureTable(client, connectSessionTableDefinition(tableName), CONNECT_SESSION_TTL_ATTRIBUTE);
  } catch (error) {
    if (error instanceof TableMismatchError) throw error;
    throw storeUnavailable('connect.ensureTable', error, tableName, wording);
  }
}
