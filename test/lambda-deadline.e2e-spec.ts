import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { freshTables, kuraEnv, testEndpoint } from './support/engine.js';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy.js';
import { uniqueEmail } from './support/http-client.js';
import { cookiesFrom, httpApiEvent } from './support/lambda-events.js';

/**
 * The Lambda handler answers before the function's timeout, whatever the store's pace: each DynamoDB call is
 * bounded on its own (KURA_DYNAMODB_TIMEOUT_MS per attempt), but a login makes several one after the other, and
 * calls each slow yet within their bound added up past the invocation's remaining time. Lambda would then end the
 * invocation with no answer of Kura's: API Gateway's own error, no Retry-After, counted by the function-errors alarm.
 */
type Handler = (event: ReturnType<typeof httpApiEvent>, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
let handler: Handler;
let proxy: FaultProxy;
const PASSWORD = 'correct horse battery';
/** An invocation with `remainingMs` left before the function's timeout. */
const invoke = (remainingMs: number, ...args: Parameters<typeof httpApiEvent>) =>
  handler(httpApiEvent(...args), { awsRequestId: `deadline-${Math.random()}`, getRemainingTimeInMillis: () => remainingMs } as Context);

beforeAll(async () => {
  const tables = await freshTables();
  proxy = await startFaultProxy(testEndpoint());
  // Each attempt may take 3 s: the calls below are slow, never failed by their own bound.
  Object.assign(process.env, kuraEnv(tables, proxy.endpoint, { KURA_DOCS_UI: 'false', AWS_LAMBDA_FUNCTION_NAME: 'kura-test-api', KURA_DYNAMODB_TIMEOUT_MS: '3000' }));
  ({ handler } = (await import('../apps/api/src/lambda.js')) as unknown as { handler: Handler });
});
afterAll(async () => {
  const { shutdown } = (await import('../apps/api/src/lambda.js')) as unknown as { shutdown: () => Promise<void> };
  await shutdown();
  await proxy?.close();
});

it('answers 503 with Retry-After a second before the timeout when slow store calls add up past it, serves what fits, and recovers', async () => {
  const email = uniqueEmail();
  expect((await invoke(10_000, 'POST', '/auth/register', { body: { email, password: PASSWORD } })).statusCode).toBe(201);
  const cookies = cookiesFrom(await invoke(10_000, 'POST', '/auth/login', { body: { email, password: PASSWORD } }));

  // 600 ms per call, 2.5 s left: the deadline is at 1,875 ms (a quarter short of it), and a login makes more than three calls.
  proxy.set('latency', { delayMs: 600 });
  const started = performance.now();
  const slow = await invoke(2500, 'POST', '/auth/login', { body: { email, password: PASSWORD } });
  const tookMs = performance.now() - started;

  expect(slow.statusCode).toBe(503);
  expect(slow.headers?.['retry-after']).toMatch(/^\d+$/);
  expect(slow.headers?.['content-type']).toMatch(/^application\/problem\+json/);
  expect(slow.cookies ?? []).toEqual([]);
  expect(tookMs).toBeGreaterThanOrEqual(1400);
  expect(tookMs).toBeLessThan(2500);

  // One call fits: the deadline cuts nothing that would end in time.
  expect((await invoke(2500, 'GET', '/auth/me', { cookies })).statusCode).toBe(200);

  proxy.set('pass');
  expect((await invoke(10_000, 'POST', '/auth/login', { body: { email, password: PASSWORD } })).statusCode).toBe(200);
  // A function given a second: the deadline is a quarter short of it (750 ms), not a second (none left at all).
  expect((await invoke(1000, 'GET', '/auth/me', { cookies })).statusCode).toBe(200);
}, 30_000);
