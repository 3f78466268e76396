import { randomBytes } from 'node:crypto';
import { createDynamoDbClients, type DynamoDbClients, ensureKuraTables, type KuraTableNames } from '@kura/dynamodb';

/** The DynamoDB Local that the global setup started for this run. */
export function testEndpoint(): string {
  const endpoint = process.env.KURA_TEST_DYNAMODB_ENDPOINT;
  if (!endpoint) throw new Error('KURA_TEST_DYNAMODB_ENDPOINT is not set: run the tests through `npm test`');
  return endpoint;
}

export const LOCAL_CREDENTIALS = { accessKeyId: 'kuralocal', secretAccessKey: 'kuralocal' };

export function testClients(endpoint = testEndpoint()): DynamoDbClients {
  return createDynamoDbClients({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS, timeoutMs: 5000 });
}

/** Fresh, uniquely named tables, so test files never see each other's data. */
export async function freshTables(endpoint = testEndpoint()): Promise<KuraTableNames> {
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const names = { sessions: `${prefix}-sessions`, users: `${prefix}-users` };
  const { client } = testClients(endpoint);
  try {
    await ensureKuraTables(client, names);
  } finally {
    client.destroy();
  }
  return names;
}

/** Environment for a Kura process on the test engine (cheap password hashing: tests are not about its cost). */
export function kuraEnv(tables: KuraTableNames, endpoint = testEndpoint(), extra: Record<string, string> = {}) {
  return {
    DYNAMODB_ENDPOINT: endpoint,
    AWS_REGION: 'us-east-1',
    KURA_SESSIONS_TABLE: tables.sessions,
    KURA_USERS_TABLE: tables.users,
    KURA_PASSWORD_HASH_COST: '12',
    // Every test client registers from one address: registrations are throttled per address.
    KURA_REGISTRATION_MAX_PER_CLIENT: '10000',
    KURA_LOG_LEVEL: 'warn',
    // The audit log ignores the level (test/observability reads it): off here, or every login prints a line.
    KURA_AUDIT_LOG: 'false',
    ...extra,
  };
}
