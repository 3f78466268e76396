import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { testEndpoint } from '../../../test/support/engine.js';
import { freePort } from '../../../test/support/free-port.js';
import { createDynamoDbClients } from './dynamodb-client.js';
import { storeUnavailable } from './dynamodb-errors.js';

/**
 * Clients without static credentials fetch a role's from where the SDK's default chain finds them: STS for a web
 * identity (IRSA), the container's endpoint (EKS Pod Identity's agent). What fails there is said as such, not as
 * DynamoDB's endpoint (before, a refused STS read "nothing listens at the DynamoDB endpoint" while DynamoDB ran).
 */
describe('createDynamoDbClients fetching a role\'s credentials (the SDK\'s default chain)', () => {
  const CHAIN = [
    'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE',
    'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_ROLE_ARN', 'AWS_ENDPOINT_URL_STS', 'AWS_CONTAINER_CREDENTIALS_FULL_URI',
    'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_AUTHORIZATION_TOKEN', 'AWS_EC2_METADATA_DISABLED',
  ];
  const saved = Object.fromEntries(CHAIN.map((name) => [name, process.env[name]]));
  const folder = mkdtempSync(join(tmpdir(), 'kura-credentials-'));

  beforeEach(() => {
    for (const name of CHAIN) delete process.env[name];
    // Nothing from this machine's own files, and never the instance metadata service (not a loopback address).
    process.env.AWS_CONFIG_FILE = join(folder, 'none');
    process.env.AWS_SHARED_CREDENTIALS_FILE = join(folder, 'none');
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
  });
  afterAll(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  const listTables = async (options: { timeoutMs?: number } = {}) => {
    const { client } = createDynamoDbClients({ region: 'us-east-1', endpoint: testEndpoint(), maxAttempts: 2, ...options });
    try {
      return await client.send(new ListTablesCommand({ Limit: 1 }));
    } finally {
      client.destroy();
    }
  };
  const reasonOf = (error: unknown) => storeUnavailable('session.get', error).reason;

  it('says the credentials\' source, not DynamoDB, when a web identity role (IRSA) cannot reach STS, while DynamoDB answers', async () => {
    writeFileSync(join(folder, 'token'), 'eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl');
    process.env.AWS_WEB_IDENTITY_TOKEN_FILE = join(folder, 'token');
    process.env.AWS_ROLE_ARN = 'arn:aws:iam::123456789012:role/kura';
    process.env.AWS_ENDPOINT_URL_STS = `http://127.0.0.1:${await freePort()}`;

    const error = await listTables().catch((caught: unknown) => caught);

    expect(reasonOf(error)).toBe(
      "the AWS credentials could not be fetched: connection refused: nothing listens at the credentials' source (STS for a web identity role, as IRSA's; the container's endpoint for EKS Pod Identity or ECS)",
    );
  });

  it('says the credentials\' source did not answer, within the client\'s timeout, when a dropped egress black-holes it', async () => {
    const hole = createNetServer(() => undefined); // accepts, never answers
    await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve));
    writeFileSync(join(folder, 'token'), 'eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl');
    process.env.AWS_WEB_IDENTITY_TOKEN_FILE = join(folder, 'token');
    process.env.AWS_ROLE_ARN = 'arn:aws:iam::123456789012:role/kura';
    process.env.AWS_ENDPOINT_URL_STS = `http://127.0.0.1:${(hole.address() as { port: number }).port}`;
    const started = Date.now();

    const error = await listTables({ timeoutMs: 300 }).catch((caught: unknown) => caught);
    hole.close();

    expect(reasonOf(error)).toBe(
      "the AWS credentials could not be fetched: no answer from the credentials' source (STS for a web identity role, as IRSA's; the container's endpoint for EKS Pod Identity or ECS) within the client's timeoutMs (createDynamoDbClients)",
    );
    // STS is called through this client's request handler, so its timeout bounds the fetch: a request gets its 503, not a hang.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  describe("from the container's endpoint (EKS Pod Identity)", () => {
    let agent: Server | undefined;
    afterEach(() => agent?.close());

    it('says no credentials came, and what to check for Pod Identity, when nothing listens at its agent', async () => {
      process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = `http://127.0.0.1:${await freePort()}/v1/credentials`;
      process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN = 'pod-token';

      const error = await listTables().catch((caught: unknown) => caught);

      expect(reasonOf(error)).toBe(
        'no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, give the process a role (with EKS Pod Identity, its agent must answer and the service account be associated with the role), or for a local engine give createDynamoDbClients credentials (any will do)',
      );
    });

    it('signs with what the agent gives, and DynamoDB answers', async () => {
      const asked: (string | undefined)[] = [];
      agent = createServer((request, response) => {
        asked.push(request.headers.authorization);
        response.setHeader('content-type', 'application/json');
        const expiration = new Date(Date.now() + 3_600_000).toISOString();
        response.end(JSON.stringify({ AccessKeyId: 'ASIAPOD', SecretAccessKey: 'secret', Token: 'session', Expiration: expiration }));
      });
      await new Promise<void>((resolve) => agent!.listen(0, '127.0.0.1', resolve));
      const { port } = agent.address() as { port: number };
      process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = `http://127.0.0.1:${port}/v1/credentials`;
      process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN = 'pod-token';

      await expect(listTables()).resolves.toHaveProperty('TableNames');
      expect(asked).toEqual(['pod-token']);
    });
  });
});
