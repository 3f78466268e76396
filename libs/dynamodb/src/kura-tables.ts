import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/** Names of Kura's tables. */
export interface KuraTableNames {
  /** @default 'kura-sessions' */
  sessions: string;
  /** @default 'kura-users' */
  users: string;
}

export const DEFAULT_TABLE_NAMES: KuraTableNames = { sessions: 'kura-sessions', users: 'kura-users' };

/** The session attribute DynamoDB's TTL deletes by: epoch seconds, the earlier of idle and absolute expiry. */
export const SESSION_TTL_ATTRIBUTE = 'expiresAt';

/** The index of sessions by user (newest first when queried backwards). */
export const SESSIONS_BY_USER_INDEX = 'byUser';

/** The tables {@link kuraTableDefinitions} makes: the users table only when named (an app with accounts of its own has none). */
export type KuraTableNamesToEnsure = Pick<KuraTableNames, 'sessions'> & Partial<Pick<KuraTableNames, 'users'>>;

/**
 * Two tables, each with one job:
 * - sessions: key `id` (SHA-256 of the token), TTL on `expiresAt`, index `byUser` (userId, createdAt);
 * - users (when named): key `email` (normalised), so uniqueness is one conditional put, with no transaction needed.
 */
export function kuraTableDefinitions(names: KuraTableNamesToEnsure): CreateTableCommandInput[] {
  const sessions: CreateTableCommandInput = {
    TableName: names.sessions,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'id', AttributeType: 'S' },
      { AttributeName: 'userId', AttributeType: 'S' },
      { AttributeName: 'createdAt', AttributeType: 'N' },
    ],
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [
      {
        IndexName: SESSIONS_BY_USER_INDEX,
        KeySchema: [
          { AttributeName: 'userId', KeyType: 'HASH' },
          { AttributeName: 'createdAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
  if (names.users === undefined) return [sessions];
  const users: CreateTableCommandInput = {
    TableName: names.users,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'email', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'email', KeyType: 'HASH' }],
  };
  return [sessions, users];
}
