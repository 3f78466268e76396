import { execFile } from 'node:child_process';
import { type AddressInfo, createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateTableCommand, type CreateTableCommandInput, DescribeTimeToLiveCommand, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { kuraTableDefinitions } from '@kura/dynamodb';
import { HttpClient } from './support/http-client.js';
import { startKuraInProcess } from './support/kura-app.js';
import { testClients, testEndpoint } from './support/engine.js';
import { startFaultProxy } from './support/fault-proxy.js';

const run = promisify(execFile);
const DB_INIT = fileURLToPath(new URL('../dist/apps/api/src/db-init.js', import.meta.url));

/** `npm run db:init` against a configured engine (DynamoDB Local here): creates tables, index and TTL; idempotent. */
describe('npm run db:init', () => {
  const prefix = `init${randomBytes(3).toString('hex')}`;
  const env = {
    PATH: process.env.PATH ?? '',
    DYNAMODB_ENDPOINT: testEndpoint(),
    AWS_REGION: 'us-east-1',
    KURA_SESSIONS_TABLE: `${prefix}-sessions`,
    KURA_USERS_TABLE: `${prefix}-users`,
  };

  it('creates the tables and enables TTL, then finds them on a second run', async () => {
    const first = await run(process.execPath, [DB_INIT], { env });
    expect(first.stdout).toMatch(new RegExp(`table ${prefix}-sessions: created, TTL enabled`));
    expect(first.stdout).toMatch(new RegExp(`table ${prefix}-users: created`));

    const second = await run(process.execPath, [DB_INIT], { env });
    expect(second.stdout).toMatch(new RegExp(`table ${prefix}-sessions: exists, TTL enabled`));

    const { client } = testClients();
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: `${prefix}-sessions` }));
    client.destroy();
    expect(ttl.TimeToLiveDescription).toMatchObject({ AttributeName: 'expiresAt', TimeToLiveStatus: 'ENABLED' });
  });

  // DynamoDB Local has no global tables: the proxy gives the sessions table's description the replicas AWS would.
  it.each([
    ['eventual', 'absent, as on tables made before MRSC', true],
    ['eventual', 'EVENTUAL', true],
    ['strong', 'STRONG', false],
  ])('names a global table in multi-Region %s consistency (MultiRegionConsistency %s), and warns where it cannot keep Kura\'s guarantees', async (mode, stated, warns) => {
    const given = stated.startsWith('absent') ? undefined : stated;
    await run(process.execPath, [DB_INIT], { env }); // the tables there, whatever ran before: only a table that exists has replicas
    const proxy = await startFaultProxy(testEndpoint());
    try {
      const table = `${prefix}-sessions`;
      proxy.amend(
        (operation, body) => operation === 'DescribeTable' && JSON.parse(body).TableName === table,
        (answer) => {
          const description = answer.Table as Record<string, unknown>;
          return { Table: { ...description, Replicas: [{ RegionName: 'us-east-1' }, { RegionName: 'eu-west-1' }], ...(given ? { MultiRegionConsistency: given } : {}) } };
        },
      );
      const { stdout } = await run(process.execPath, [DB_INIT], { env: { ...env, DYNAMODB_ENDPOINT: proxy.endpoint } });

      expect(stdout).toContain(`table ${table}: exists, TTL enabled, a global table in us-east-1, eu-west-1 (multi-Region ${mode} consistency)`);
      expect(stdout.includes(`table ${table} is a global table in multi-Region eventual consistency`)).toBe(warns);
      const users = stdout.split('\n').find((line) => line.includes(`table ${prefix}-users:`));
      expect(users).toContain(`table ${prefix}-users: exists, TTL n/a`);
      expect(users).not.toContain('global');
    } finally {
      await proxy.close();
    }
  });

  it('refuses to run without a configured engine, saying why', async () => {
    const failure = await run(process.execPath, [DB_INIT], { env: { PATH: env.PATH } }).catch((error: unknown) => error);

    expect(failure).toMatchObject({ code: 2, stderr: expect.stringMatching(/DYNAMODB_ENDPOINT/) });
  });

  it('says in one line why it could not create the tables (nothing listens at DYNAMODB_ENDPOINT), not a stack', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve())); // a port nothing listens on

    const failure = await run(process.execPath, [DB_INIT], { env: { ...env, DYNAMODB_ENDPOINT: `http://127.0.0.1:${port}` } }).catch((error: unknown) => error);

    expect(failure).toMatchObject({ code: 1, stderr: 'db:init: the store could not answer: connection refused: nothing listens at the DynamoDB endpoint\n' });
  });

  it('has nothing to create on Redis, and says so (exit 0)', async () => {
    const done = await run(process.execPath, [DB_INIT], { env: { PATH: env.PATH, KURA_STORE: 'redis', REDIS_URL: 'redis://127.0.0.1:6379' } });

    expect(done).toEqual({ stdout: 'db:init: nothing to create, KURA_STORE=redis keeps no tables (db:init is for DynamoDB)\n', stderr: '' });
  });

  it('refuses invalid configuration, listing every problem', async () => {
    const failure = await run(process.execPath, [DB_INIT], {
      env: { ...env, KURA_SESSIONS_TABLE: 'x', KURA_DYNAMODB_TIMEOUT_MS: 'soon' },
    }).catch((error: unknown) => error);

    expect(failure).toMatchObject({ code: 1, stderr: expect.stringMatching(/KURA_SESSIONS_TABLE[\s\S]*KURA_DYNAMODB_TIMEOUT_MS/) });
  });

  // Tables made by other infrastructure code (Terraform, CDK, a console) with another key, without Kura's index, or
  // with TTL on another attribute: each of Kura's calls would fail alike. db:init checks a table that exists and
  // says what differs, changing nothing.
  describe('on a table that exists but is not the one Kura needs', () => {
    const [sessions, users] = kuraTableDefinitions({ sessions: 'sessions', users: 'users' }) as [CreateTableCommandInput, CreateTableCommandInput];
    const index = sessions.GlobalSecondaryIndexes![0]!;
    const string = (name: string) => ({ AttributeName: name, AttributeType: 'S' as const });
    const cases: [string, (table: string) => Partial<Record<'sessions' | 'users', CreateTableCommandInput>>, RegExp, string[]][] = [
      [
        'the sessions keyed another way, and without the index',
        (table) => ({ sessions: { TableName: table, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [string('pk')], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] } }),
        /-sessions$/,
        [
          "its key is pk (string, partition key), Kura's items have id (string, partition key)",
          'it has no index byUser (userId (string, partition key), createdAt (number, sort key), every attribute projected), which lists a user\'s sessions',
        ],
      ],
      [
        'the key a number',
        (table) => ({ sessions: { ...sessions, TableName: table, AttributeDefinitions: sessions.AttributeDefinitions!.map((one) => (one.AttributeName === 'id' ? { AttributeName: 'id', AttributeType: 'N' } : one)) } }),
        /-sessions$/,
        ["its key is id (number, partition key), Kura's items have id (string, partition key)"],
      ],
      [
        'the index projecting keys only',
        (table) => ({ sessions: { ...sessions, TableName: table, GlobalSecondaryIndexes: [{ ...index, Projection: { ProjectionType: 'KEYS_ONLY' } }] } }),
        /-sessions$/,
        ["its index byUser projects KEYS_ONLY, Kura needs ALL (a session's listing reads it from the index)"],
      ],
      [
        'the users keyed by an id',
        (table) => ({ users: { ...users, TableName: table.replace(/-sessions$/, '-users'), AttributeDefinitions: [string('id')], KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }] } }),
        /-users$/,
        ["its key is id (string, partition key), Kura's items have email (string, partition key)"],
      ],
    ];

    it.each(cases)('%s: exit 1, every difference in one line, and nothing changed', async (_name, make, which, differences) => {
      const mine = `mis${randomBytes(3).toString('hex')}`;
      const mineEnv = { ...env, KURA_SESSIONS_TABLE: `${mine}-sessions`, KURA_USERS_TABLE: `${mine}-users` };
      const { client } = testClients();
      try {
        for (const definition of Object.values(make(`${mine}-sessions`))) await client.send(new CreateTableCommand(definition));

        const failure = await run(process.execPath, [DB_INIT], { env: mineEnv }).catch((error: unknown) => error);

        const table = [`${mine}-sessions`, `${mine}-users`].find((name) => which.test(name));
        expect(failure).toMatchObject({ code: 1, stderr: `db:init: table ${table} is not as Kura needs it (nothing was changed): ${differences.join('; ')}\n` });
        if (table === `${mine}-sessions`) {
          const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: table }));
          expect(ttl.TimeToLiveDescription?.TimeToLiveStatus).toBe('DISABLED');
        }
      } finally {
        client.destroy();
      }
    });

    it('TTL on another attribute: exit 1, saying which, and the TTL left as it was', async () => {
      const mine = `ttl${randomBytes(3).toString('hex')}`;
      const { client } = testClients();
      try {
        await client.send(new CreateTableCommand({ ...sessions, TableName: `${mine}-sessions` }));
        await client.send(new UpdateTimeToLiveCommand({ TableName: `${mine}-sessions`, TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true } }));

        const failure = await run(process.execPath, [DB_INIT], { env: { ...env, KURA_SESSIONS_TABLE: `${mine}-sessions`, KURA_USERS_TABLE: `${mine}-users` } }).catch((error: unknown) => error);

        expect(failure).toMatchObject({
          code: 1,
          stderr: `db:init: table ${mine}-sessions is not as Kura needs it (nothing was changed): its TTL deletes items by ttl, Kura's items expire by expiresAt (turn that TTL off, then run this again)\n`,
        });
        expect((await client.send(new DescribeTimeToLiveCommand({ TableName: `${mine}-sessions` }))).TimeToLiveDescription).toMatchObject({ AttributeName: 'ttl', TimeToLiveStatus: 'ENABLED' });
      } finally {
        client.destroy();
      }
    });

    // What the line above asks for: the operator turns that TTL off and runs db:init again. DynamoDB takes up to an hour
    // to turn TTL off (DISABLING) and refuses every other UpdateTimeToLive on the table meanwhile with a
    // ValidationException (UpdateTimeToLive, API reference). DynamoDB Local turns it off at once: the proxy answers as
    // AWS does.
    it('TTL still being turned off: exit 1, saying to wait for it, not a refusal read as an item over its limits', async () => {
      const mine = `dis${randomBytes(3).toString('hex')}`;
      const proxy = await startFaultProxy(testEndpoint());
      const { client } = testClients();
      try {
        await client.send(new CreateTableCommand({ ...sessions, TableName: `${mine}-sessions` }));
        proxy.amend((operation) => operation === 'DescribeTimeToLive', () => ({ TimeToLiveDescription: { AttributeName: 'ttl', TimeToLiveStatus: 'DISABLING' } }));
        proxy.refuse((operation) => operation === 'UpdateTimeToLive', 'ValidationException', 2);

        const failure = await run(process.execPath, [DB_INIT], {
          env: { ...env, DYNAMODB_ENDPOINT: proxy.endpoint, KURA_SESSIONS_TABLE: `${mine}-sessions`, KURA_USERS_TABLE: `${mine}-users` },
        }).catch((error: unknown) => error);

        expect(failure).toMatchObject({
          code: 1,
          stderr: `db:init: table ${mine}-sessions is not as Kura needs it (nothing was changed): its TTL by ttl is still being turned off (DISABLING, up to an hour), and DynamoDB refuses to turn TTL on until then: run this again once it is off\n`,
        });
        expect(proxy.operations.UpdateTimeToLive ?? 0).toBe(0);
      } finally {
        client.destroy();
        await proxy.close();
      }
    });

    it('and a Kura started on such a table says why every call fails, on /health/store and in each 503', async () => {
      const mine = `run${randomBytes(3).toString('hex')}`;
      const { client } = testClients();
      await client.send(new CreateTableCommand({ TableName: `${mine}-sessions`, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [string('pk')], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] }));
      await client.send(new CreateTableCommand({ ...users, TableName: `${mine}-users` }));
      client.destroy();
      const { app, baseUrl } = await startKuraInProcess({ ...env, KURA_SESSIONS_TABLE: `${mine}-sessions`, KURA_USERS_TABLE: `${mine}-users`, KURA_PASSWORD_HASH_COST: '10', KURA_LOG_LEVEL: 'error' });
      try {
        const store = await new HttpClient(baseUrl).get('/health/store');
        expect(store.status).toBe(503);
        expect(store.body.checks.store.message).toBe(`table ${mine}-sessions has another key than Kura's items (ValidationException): npm run db:init lists what differs`);

        // Registration too: its throttle counts in the sessions table (since 2026-12-05).
        const visitor = new HttpClient(baseUrl);
        const registration = await visitor.post('/auth/register', { email: `${mine}@example.com`, password: 'correct horse battery' });
        expect([registration.status, registration.body.type]).toEqual([503, 'urn:kura:problem:store-unavailable']);
        const login = await visitor.post('/auth/login', { email: `${mine}@example.com`, password: 'correct horse battery' });
        expect([login.status, login.body.type]).toEqual([503, 'urn:kura:problem:store-unavailable']);
      } finally {
        await app.close();
      }
    });
  });
});
