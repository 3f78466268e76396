import { execFile } from 'node:child_process';
import { type AddressInfo, createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
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
});
