import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type DynamoDbLocal, startDynamoDbLocal } from './support/dynamodb-local.js';
import { freshTables, kuraEnv } from './support/engine.js';
import { HttpClient, uniqueEmail } from './support/http-client.js';
import { startKuraInProcess } from './support/kura-app.js';

/**
 * The store goes away (its own DynamoDB Local, on disk, stopped for real) and comes back: Kura answers 503
 * with Retry-After instead of guessing, keeps its anonymous routes up, stays ready (a store every replica
 * shares must not take them all out of the Service), reports the store on /health/store, and recovers by
 * itself. A replica that starts during the outage is not ready until the store has answered it once.
 */
let dataDir: string;
let engine: DynamoDbLocal;
let app: NestFastifyApplication;
let baseUrl: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'kura-outage-'));
  engine = await startDynamoDbLocal({ dbPath: dataDir });
  const tables = await freshTables(engine.endpoint);
  ({ app, baseUrl } = await startKuraInProcess(
    kuraEnv(tables, engine.endpoint, { KURA_DYNAMODB_TIMEOUT_MS: '500', KURA_DYNAMODB_MAX_ATTEMPTS: '2' }),
  ));
}, 120_000);
afterAll(async () => {
  await app?.close();
  await engine?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('when DynamoDB is stopped', () => {
  const browser = () => new HttpClient(baseUrl);
  let user: HttpClient;
  const email = uniqueEmail();

  beforeAll(async () => {
    // Ready first, as the kubelet sees it before any traffic reaches a pod.
    expect((await browser().get('/health/ready')).status).toBe(200);
    user = browser();
    await user.signUpAndLogIn(email);
    expect((await user.get('/auth/me')).status).toBe(200);
    await engine.stop();
  });

  it.each([
    ['GET /auth/me', (client: HttpClient) => client.get('/auth/me')],
    ['POST /auth/login', (client: HttpClient) => client.post('/auth/login', { email, password: 'correct horse battery' })],
    ['POST /auth/register', (client: HttpClient) => client.post('/auth/register', { email: uniqueEmail(), password: 'correct horse battery' })],
    ['POST /auth/logout', (client: HttpClient) => client.post('/auth/logout')],
  ])('%s answers 503 with Retry-After, never 500 and never an unchecked answer', async (_route, call) => {
    const response = await call(user);

    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(response.body).toMatchObject({ type: 'urn:kura:problem:store-unavailable', status: 503 });
  });

  it('keeps the login cookie (a failed logout clears nothing it could not delete)', async () => {
    expect(await user.jar.getCookieString(baseUrl)).toMatch(/__Host-kura_session=/);
  });

  it('stays ready, with liveness and the explorer, while /health/store reports the store down', async () => {
    const ready = await browser().get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ok', details: { lifecycle: { status: 'up' } } });
    expect(ready.body.details.store).toBeUndefined();
    const store = await browser().get('/health/store');
    expect(store.status).toBe(503);
    expect(store.body.checks).toEqual({ store: { status: 'down', message: 'connection refused: nothing listens at the DynamoDB endpoint' } });
    expect((await browser().get('/health/live')).status).toBe(200);
    expect((await browser().get('/docs/openapi.json')).status).toBe(200);
  });

  it('holds a replica that starts during the outage out of the Service: not ready until the store answers it', async () => {
    const late = await startKuraInProcess(kuraEnv({ sessions: 'never-reached', users: 'never-reached-users' }, engine.endpoint, {
      KURA_DYNAMODB_TIMEOUT_MS: '300',
      KURA_DYNAMODB_MAX_ATTEMPTS: '1',
    }));
    try {
      const ready = await new HttpClient(late.baseUrl).get('/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.checks).toEqual({ lifecycle: { status: 'down', message: 'starting: the session store has not answered yet: connection refused: nothing listens at the DynamoDB endpoint' } });
      expect((await new HttpClient(late.baseUrl).get('/health/live')).status).toBe(200);
    } finally {
      await late.app.close();
    }
  });

  it('recovers by itself when DynamoDB is back, with the session intact', async () => {
    engine = await startDynamoDbLocal({ dbPath: dataDir, port: engine.port });

    expect((await browser().get('/health/store')).status).toBe(200);
    expect((await browser().get('/health/ready')).status).toBe(200);
    const me = await user.get('/auth/me');
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe(email);
  });
});
