import { KuraStoreOptionsError, resolveKuraStoreOptions } from './kura-store.options.js';

const connection = { region: 'eu-west-1' };
const problemsOf = (options: unknown): readonly string[] => {
  try {
    resolveKuraStoreOptions(options as never);
  } catch (error) {
    if (error instanceof KuraStoreOptionsError) return error.problems;
    throw error;
  }
  return [];
};

describe('resolveKuraStoreOptions', () => {
  it('applies the documented defaults', () => {
    expect(resolveKuraStoreOptions({ connection })).toMatchObject({
      tableName: 'kura-connect-sessions',
      connection,
      client: undefined,
      ttlMs: 86_400_000,
      touchFraction: 0.1,
      consistentRead: true,
    });
  });

  it('takes a client of your own instead of a connection', () => {
    const client = { send: async () => ({}) } as never;

    expect(resolveKuraStoreOptions({ client }).client).toBe(client);
  });

  it('lists every problem in one error', () => {
    const options = {
      tableName: 'x',
      connection: { region: 'Europe', endpoint: 'localhost:8000', timeoutMs: 0, maxAttempts: 0, credentials: { accessKeyId: 'a' }, port: 1 },
      ttlSeconds: -1,
      touchFraction: 1,
      consistentRead: 'yes',
      ttl: 60,
    };

    expect(problemsOf(options)).toEqual([
      'unknown option "ttl" (known: tableName, connection, client, ttlSeconds, touchFraction, consistentRead, clock)',
      'tableName must be 3 to 255 characters of A-Z a-z 0-9 _ . - (a DynamoDB table name), got "x"',
      'unknown connection option "port" (known: region, endpoint, timeoutMs, maxAttempts, credentials, callLog)',
      'connection.region must be an AWS region like eu-west-1, got "Europe"',
      'connection.endpoint must be an http(s) URL like http://127.0.0.1:8000, got "localhost:8000"',
      'connection.timeoutMs must be a positive integer (milliseconds), got 0',
      'connection.maxAttempts must be an integer from 1 to 10, got 0',
      'connection.credentials needs both accessKeyId and secretAccessKey (or leave it out for the default provider chain)',
      'ttlSeconds must be a positive integer, got -1',
      'touchFraction must be a number from 0 (write on every touch) up to but not including 1, got 1',
      'consistentRead must be true or false, got yes',
    ]);
  });

  it('says the message of every problem on its own line', () => {
    expect(() => resolveKuraStoreOptions({ tableName: 'x', ttlSeconds: 0 })).toThrow(
      'Invalid KuraStore options:\n- tableName must be 3 to 255 characters of A-Z a-z 0-9 _ . - (a DynamoDB table name), got "x"\n- give connection ({ region, endpoint?, timeoutMs?, ... }) or client (a DynamoDBClient)\n- ttlSeconds must be a positive integer, got 0',
    );
  });

  it.each([
    ['both a client and a connection', { client: { send: () => 1 }, connection }, 'give either client or connection, not both'],
    ['a client that is no DynamoDBClient', { client: {} }, 'client must be a DynamoDBClient from @aws-sdk/client-dynamodb'],
    ['a clock without now()', { connection, clock: {} }, 'clock must have a now() method'],
  ])('refuses %s', (_case, options, problem) => {
    expect(problemsOf(options)).toEqual([problem]);
  });

  it.each([null, undefined, 'eu-west-1'])('refuses %p as options', (options) => {
    expect(problemsOf(options)).toHaveLength(1);
  });

  it('accepts a fraction of 0, for a write on every touch', () => {
    expect(resolveKuraStoreOptions({ connection, touchFraction: 0 }).touchFraction).toBe(0);
  });
});
