import { KuraStoreOptionsError, resolveKuraStoreOptions } from './kura-store.options.js';

const connection = { region: 'eu-west-1' };
const nothing = async (): Promise<undefined> => undefined;
/** An adapter of the port as it was before user indexes. */
const earlierAdapter = { read: nothing, replace: nothing, update: async (): Promise<boolean> => false, delete: nothing };
const adapter = { read: nothing, replace: nothing, update: async (): Promise<boolean> => false, delete: nothing, addToUserIndex: async () => 1, userIndex: async () => [], removeFromUserIndex: nothing, noteIndexed: async () => true };
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

  it('takes an adapter of the storage port instead of DynamoDB', () => {
    expect(resolveKuraStoreOptions({ adapter })).toMatchObject({ adapter, connection: undefined, client: undefined });
  });

  it('gives sessions an absolute lifetime of one day unless told another, or none (null)', () => {
    expect(resolveKuraStoreOptions({ adapter }).absoluteTtlMs).toBe(86_400_000);
    expect(resolveKuraStoreOptions({ adapter, absoluteTtlSeconds: 3600 }).absoluteTtlMs).toBe(3_600_000);
    expect(resolveKuraStoreOptions({ adapter, absoluteTtlSeconds: null }).absoluteTtlMs).toBeUndefined();
  });

  it('lists every problem in one error', () => {
    const options = {
      tableName: 'x',
      connection: { region: 'Europe', endpoint: 'localhost:8000', timeoutMs: 0, maxAttempts: 0, credentials: { accessKeyId: 'a' }, port: 1 },
      ttlSeconds: -1,
      absoluteTtlSeconds: 0,
      touchFraction: 1,
      consistentRead: 'yes',
      ttl: 60,
    };

    expect(problemsOf(options)).toEqual([
      'unknown option "ttl" (known: tableName, connection, client, adapter, ttlSeconds, absoluteTtlSeconds, touchFraction, consistentRead, clock, userOf, credentialOf, migrateFrom)',
      'tableName must be 3 to 255 characters of A-Z a-z 0-9 _ . - (a DynamoDB table name), got "x"',
      'unknown connection option "port" (known: region, endpoint, timeoutMs, maxAttempts, credentials, callLog)',
      'connection.region must be an AWS region like eu-west-1, got "Europe"',
      'connection.endpoint must be an http(s) URL like http://127.0.0.1:8000, got "localhost:8000"',
      'connection.timeoutMs must be a positive integer (milliseconds), got 0',
      'connection.maxAttempts must be an integer from 1 to 10, got 0',
      'connection.credentials needs both accessKeyId and secretAccessKey (or leave it out for the default provider chain)',
      'ttlSeconds must be a positive integer, got -1',
      'absoluteTtlSeconds must be a positive integer, or null for no absolute lifetime, got 0',
      'touchFraction must be a number from 0 (write on every touch) up to but not including 1, got 1',
      'consistentRead must be true or false, got yes',
    ]);
  });

  it('says the message of every problem on its own line', () => {
    expect(() => resolveKuraStoreOptions({ tableName: 'x', ttlSeconds: 0 })).toThrow(
      'Invalid KuraStore options:\n- tableName must be 3 to 255 characters of A-Z a-z 0-9 _ . - (a DynamoDB table name), got "x"\n- give connection ({ region, endpoint?, timeoutMs?, ... }) or client (a DynamoDBClient) for DynamoDB, or adapter (a ConnectSessionStore, e.g. RedisConnectSessionStore from @kura/redis)\n- ttlSeconds must be a positive integer, got 0',
    );
  });

  it.each([
    ['both a client and a connection', { client: { send: () => 1 }, connection }, 'give one of connection, client or adapter, not connection and client'],
    ['an adapter and a connection', { adapter, connection }, 'give one of connection, client or adapter, not connection and adapter'],
    [
      'an adapter that is no ConnectSessionStore',
      { adapter: { read: nothing } },
      'adapter must be a ConnectSessionStore (read, replace, update, delete), such as RedisConnectSessionStore from @kura/redis; it has no replace, update, delete',
    ],
    ['a table name with an adapter', { adapter, tableName: 'sessions' }, 'tableName configures DynamoDB and does not go with adapter: configure the adapter itself'],
    ['consistentRead with an adapter', { adapter, consistentRead: false }, 'consistentRead configures DynamoDB and does not go with adapter: configure the adapter itself'],
    ['a client that is no DynamoDBClient', { client: {} }, 'client must be a DynamoDBClient from @aws-sdk/client-dynamodb'],
    ['a clock without now()', { connection, clock: {} }, 'clock must have a now() method'],
    [
      'userOf with an adapter written to the port before user indexes',
      { adapter: earlierAdapter, userOf: () => 'ada' },
      'userOf needs an adapter that keeps user indexes (addToUserIndex, userIndex, removeFromUserIndex, noteIndexed, and the indexed note on sessions: the connect store contract); this one has no addToUserIndex, userIndex, removeFromUserIndex, noteIndexed',
    ],
    [
      'migrateFrom with an adapter written to the port before user indexes (its records are kept there)',
      { adapter: earlierAdapter, migrateFrom: { store: { get() {}, set() {}, destroy() {} } } },
      'migrateFrom needs an adapter that keeps user indexes (addToUserIndex, userIndex, removeFromUserIndex, noteIndexed, and the indexed note on sessions: the connect store contract); this one has no addToUserIndex, userIndex, removeFromUserIndex, noteIndexed',
    ],
    ['a userOf that is not a function', { connection, userOf: 'user' }, "userOf must be a function of the session giving its user's id, e.g. (session) => session.user"],
  ])('refuses %s', (_case, options, problem) => {
    expect(problemsOf(options)).toEqual([problem]);
  });

  it.each([null, undefined, 'eu-west-1'])('refuses %p as options', (options) => {
    expect(problemsOf(options)).toHaveLength(1);
  });

  it('accepts a fraction of 0, for a write on every touch', () => {
    expect(resolveKuraStoreOptions({ connection, touchFraction: 0 }).touchFraction).toBe(0);
  });

  it('migrateFrom: refuses a store without get, set and destroy, a bad timeout and an unknown key, naming each problem', () => {
    expect(() => resolveKuraStoreOptions({ connection, migrateFrom: { store: { get() {} } as never, timeoutMs: 0 } })).toThrow(
      /migrateFrom.store must be an express-session or @fastify\/session store \(get, set, destroy\), such as connect-redis's RedisStore; it has no set, destroy[\s\S]*migrateFrom.timeoutMs must be a positive integer/,
    );
    expect(() => resolveKuraStoreOptions({ connection, migrateFrom: { store: { get() {}, set() {}, destroy() {} }, ttl: 1 } as never })).toThrow(/unknown migrateFrom option "ttl" \(known: store, move, timeoutMs, rolloutSeconds, ttlSeconds\)/);
    expect(() => resolveKuraStoreOptions({ connection, migrateFrom: { store: { get() {}, set() {}, destroy() {} }, move: 'no' } as never })).toThrow(/migrateFrom.move must be true \(move each session here on its first request\) or false \(follow only\), got no/);
    expect(() => resolveKuraStoreOptions({ connection, migrateFrom: { store: { get() {}, set() {}, destroy() {} }, rolloutSeconds: -1 } })).toThrow(/migrateFrom.rolloutSeconds must be an integer from 0/);
    expect(() => resolveKuraStoreOptions({ connection, migrateFrom: { store: { get() {}, set() {}, destroy() {} }, ttlSeconds: 0 } })).toThrow(/migrateFrom.ttlSeconds must be a positive integer/);
  });

  it('migrateFrom: a timeout of 1000 ms, a rollout of an hour and a previous store keeping a session a day, unless told others', () => {
    const store = { get() {}, set() {}, destroy() {} };
    expect(resolveKuraStoreOptions({ connection, migrateFrom: { store } }).migrateFrom).toEqual({ store, move: true, timeoutMs: 1000, rolloutMs: 3_600_000, ttlMs: 86_400_000 });
    expect(resolveKuraStoreOptions({ connection, migrateFrom: { store, timeoutMs: 250, rolloutSeconds: 0, ttlSeconds: 7, move: false } }).migrateFrom).toEqual({ store, move: false, timeoutMs: 250, rolloutMs: 0, ttlMs: 7000 });
  });
});
