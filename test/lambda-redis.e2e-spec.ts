import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { cookiesFrom, httpApiEvent, lambdaOnRedisEnv } from './support/lambda-events.js';
import { uniqueEmail } from './support/http-client.js';
import { freePort } from './support/free-port.js';
import { type RedisServer, startRedisServer } from './support/redis-server.js';

/**
 * The Lambda handler on Redis (ElastiCache or MemoryDB in the function's VPC): one connection per execution
 * environment, reused by every invocation, and an environment booted while Redis was unreachable answers 503
 * and then serves once Redis is there, without a new cold start.
 */
type Handler = (event: ReturnType<typeof httpApiEvent>, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
let handler: Handler;
let shutdown: () => Promise<void>;
let redis: RedisServer | undefined;
let port: number;
const context = { awsRequestId: 'test', getRemainingTimeInMillis: () => 10_000 } as Context;
const invoke = (...args: Parameters<typeof httpApiEvent>) => handler(httpApiEvent(...args), context);
const json = (result: APIGatewayProxyStructuredResultV2) => JSON.parse(result.body ?? 'null');
const PASSWORD = 'correct horse battery';

beforeAll(async () => {
  port = await freePort();
  Object.assign(process.env, lambdaOnRedisEnv(port, 'warn'));
  ({ handler, shutdown } = (await import('../apps/api/src/lambda.js')) as unknown as { handler: Handler; shutdown: typeof shutdown });
});
afterAll(async () => {
  // The environment's app first: its Redis client would keep reconnecting to the stopped server, holding Jest's worker.
  await shutdown();
  await redis?.stop();
});

describe('the Lambda handler on Redis', () => {
  it('answers 503 with Retry-After while Redis cannot be reached, then serves from the same environment once it can', async () => {
    const early = await invoke('POST', '/auth/register', { body: { email: uniqueEmail(), password: PASSWORD } });
    expect(early.statusCode).toBe(503);
    expect(Number(early.headers?.['retry-after'])).toBeGreaterThanOrEqual(1);

    redis = await startRedisServer({ port });
    let status = 0;
    for (const giveUpAt = Date.now() + 10_000; status !== 201 && Date.now() < giveUpAt; await new Promise((resolve) => setTimeout(resolve, 100))) {
      status = (await invoke('POST', '/auth/register', { body: { email: uniqueEmail(), password: PASSWORD } })).statusCode ?? 0;
    }
    expect(status).toBe(201);
  });

  it('registers, logs in, serves /auth/me and logs out, every invocation on the one connection', async () => {
    const email = uniqueEmail();
    expect((await invoke('POST', '/auth/register', { body: { email, password: PASSWORD } })).statusCode).toBe(201);
    const login = await invoke('POST', '/auth/login', { body: { email, password: PASSWORD } });
    expect(login.statusCode).toBe(200);
    const cookies = cookiesFrom(login);

    expect(json(await invoke('GET', '/auth/me', { cookies })).user.email).toBe(email);
    expect((await invoke('POST', '/auth/logout', { cookies })).statusCode).toBe(204);
    expect((await invoke('GET', '/auth/me', { cookies })).statusCode).toBe(401);

    const clients = String(await new Promise((resolve) => {
      // CLIENT LIST at the server: this environment holds exactly one connection, however many invocations ran.
      import('node:net').then(({ connect }) => {
        const socket = connect(redis!.port, '127.0.0.1', () => socket.write('CLIENT LIST\r\n'));
        socket.once('data', (chunk) => {
          socket.destroy();
          resolve(chunk.toString());
        });
      });
    }));
    expect(clients.split('\n').filter((line) => line.includes('cmd=') && !line.includes('cmd=client')).length).toBe(1);
  });

  it('works the same from the bundle `serverless deploy` ships (.build/lambda), where node-redis is a chunk loaded on demand', async () => {
    const email = uniqueEmail();
    const events = [
      httpApiEvent('POST', '/auth/register', { body: { email, password: PASSWORD } }),
      httpApiEvent('POST', '/auth/login', { body: { email, password: PASSWORD } }),
    ];
    // A cold start of its own, in a process of its own, as Lambda runs the bundle; exits when the events are answered.
    const script = `const { handler } = await import(process.argv[1]);
const statuses = [];
for (const event of JSON.parse(process.argv[2])) statuses.push((await handler(event, { awsRequestId: 'bundle', getRemainingTimeInMillis: () => 10000 })).statusCode);
console.log(JSON.stringify(statuses));
process.exit(0);`;
    const bundle = fileURLToPath(new URL('../.build/lambda/index.mjs', import.meta.url));
    const env = { PATH: process.env.PATH ?? '', KURA_STORE: 'redis', REDIS_URL: redis!.url, KURA_PASSWORD_HASH_COST: '12', KURA_LOG_LEVEL: 'warn', KURA_DOCS_UI: 'false', AWS_LAMBDA_FUNCTION_NAME: 'kura-test-bundle' };
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, bundle, JSON.stringify(events)], { env, timeout: 30_000 });

    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual([201, 200]);
  }, 40_000);
});
