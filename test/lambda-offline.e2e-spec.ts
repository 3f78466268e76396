import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopProcess } from './support/dynamodb-local.js';
import { freshTables, testEndpoint } from './support/engine.js';
import { freePort } from './support/free-port.js';
import { HttpClient, uniqueEmail } from './support/http-client.js';
import { redisRunsPossible, startRedisServer } from './support/redis-server.js';

/**
 * Proof of statelessness on ephemeral compute: the bundled handler under serverless-offline with
 * `--reloadHandler`, so every request is served by a fresh module instance (a cold start). With DynamoDB every
 * session operation still works; with per-instance memory (the negative control) the user is anonymous on
 * the very next request.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVERLESS = fileURLToPath(new URL('../node_modules/serverless/bin/serverless.js', import.meta.url));

const running: { stop(): Promise<void> }[] = [];

async function startOffline(params: Record<string, string>, env: Record<string, string>) {
  const [httpPort, lambdaPort] = [await freePort(), await freePort()];
  const args = [SERVERLESS, 'offline', '--reloadHandler', '--httpPort', String(httpPort), '--lambdaPort', String(lambdaPort)];
  // A Lambda timeout under serverless-offline is answered 200 with no body (seen on a loaded CI machine, where one
  // login's hashing outran 10 s): give the invocations room, and check below that every answer is Kura's.
  for (const [name, value] of Object.entries({ timeout: '60', ...params })) args.push('--param', `${name}=${value}`);
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', SLS_TELEMETRY_DISABLED: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return served(child, httpPort);
}

/** Resolves once serverless-offline (started by `child`) serves on httpPort; rejects, with its output, if it exits first. */
async function served(child: ChildProcess, httpPort: number) {
  const offline = { baseUrl: `http://127.0.0.1:${httpPort}`, stop: () => stopProcess(child), output: () => output };
  running.push(offline);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serverless offline did not start:\n${output}`)), 60_000);
    const collect = (chunk: Buffer) => {
      output += chunk;
      if (output.includes('Server ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect); // serverless prints its banner on stderr
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`serverless offline exited with ${code}:\n${output}`))));
  });
  return offline;
}

afterAll(async () => {
  await Promise.all(running.map((offline) => offline.stop()));
});

const lambdaEnv = { KURA_PASSWORD_HASH_COST: '12', KURA_LOG_LEVEL: 'warn', AWS_REGION: 'us-east-1' };

describe('every request a cold start (serverless-offline --reloadHandler)', () => {
  it('keeps every session operation correct on DynamoDB, each request served by a fresh instance', async () => {
    const tables = await freshTables();
    const offline = await startOffline(
      { sessionsTable: tables.sessions, usersTable: tables.users, dynamodbEndpoint: testEndpoint() },
      lambdaEnv,
    );
    const built = await readdir(`${ROOT}.build/lambda`, { recursive: true });
    const browser = new HttpClient(offline.baseUrl);
    const instances: string[] = [];
    const requestIds: string[] = [];
    const record = <T extends { headers: Headers }>(response: T) => (
      instances.push(response.headers.get('kura-instance') ?? 'none'), requestIds.push(response.headers.get('x-request-id') ?? 'none'), response
    );
    const email = uniqueEmail();

    expect(record(await browser.post('/auth/register', { email, password: 'correct horse battery' })).status).toBe(201);
    expect(record(await browser.post('/auth/login', { email, password: 'correct horse battery' })).status).toBe(200);
    for (let i = 0; i < 5; i += 1) {
      const me = record(await browser.get('/auth/me'));
      expect(me.status).toBe(200);
      expect(me.body.user.email).toBe(email);
    }
    expect(record(await browser.request('PATCH', '/session/data', { json: { cart: { apple: 3 } } })).body.version).toBe(1);
    expect(record(await browser.get('/session/data')).body.data).toEqual({ cart: { apple: 3 } });
    expect(record(await browser.post('/auth/logout')).status).toBe(204);
    const cookie = `__Host-kura_session=${'A'.repeat(43)}`;
    expect(record(await browser.get('/auth/me', { headers: { cookie }, cookies: false })).status).toBe(401);

    expect(new Set(instances).size).toBe(instances.length); // no two requests shared a module instance
    expect(instances).not.toContain('none');
    expect(new Set(requestIds).size).toBe(requestIds.length); // a request id per request, not serverless-offline's constant
    // Nothing written into the build folder, which `serverless package` ships (an outside review: Node's compile cache
    // wrote the password rules' bytecode there, and the next package held 31 files where the bundle makes 29). Node
    // writes its cache as a handler's process or thread ends: once offline has stopped.
    await offline.stop();
    expect((await readdir(`${ROOT}.build/lambda`, { recursive: true })).sort()).toEqual(built.sort());
  }, 120_000);

  it('negative control: with per-instance memory the user is anonymous on the next invocation', async () => {
    const offline = await startOffline({ store: 'memory' }, lambdaEnv);
    const browser = new HttpClient(offline.baseUrl);
    const email = uniqueEmail();

    const registered = await browser.post('/auth/register', { email, password: 'correct horse battery' });
    const login = await browser.post('/auth/login', { email, password: 'correct horse battery' });
    const me = await browser.get('/auth/me');

    expect([registered, login, me].map((response) => response.headers.get('kura-instance'))).not.toContain(null);
    expect(registered.status).toBe(201);
    expect(login.status).toBe(401); // the account was created in an instance that no longer exists
    expect(me.status).toBe(401);
  }, 120_000);
});

if (redisRunsPossible('npm run offline on Redis')) {
  describe('npm run offline on Redis', () => {
    // It started the embedded DynamoDB engine whatever the store: a busy KURA_DB_PORT (8000) stopped a run on Redis
    // that never needed the engine, and one that started wrote .data/dynalite (a review of Kura on Lambda and Redis).
    it('starts no DynamoDB engine with --param store=redis, and serves from Redis', async () => {
      const redis = await startRedisServer();
      const busy: Server = createServer();
      await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', () => resolve()));
      const dataDir = join(await mkdtemp(join(tmpdir(), 'kura-offline-')), 'dynalite');
      try {
        const [httpPort, lambdaPort] = [await freePort(), await freePort()];
        const args = ['--httpPort', String(httpPort), '--lambdaPort', String(lambdaPort), '--param', 'timeout=60', '--param', 'store=redis', '--param', `redisUrl=${redis.url}`];
        const env = {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/tmp',
          SLS_TELEMETRY_DISABLED: '1',
          ...lambdaEnv,
          KURA_DB_PORT: String((busy.address() as { port: number }).port),
          KURA_DATA_DIR: dataDir,
        };
        const child = spawn(process.execPath, [join(ROOT, 'scripts/offline.mjs'), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
        const offline = await served(child, httpPort);
        const browser = new HttpClient(offline.baseUrl);
        const email = uniqueEmail();

        expect((await browser.post('/auth/register', { email, password: 'correct horse battery' })).status).toBe(201);
        expect((await browser.post('/auth/login', { email, password: 'correct horse battery' })).status).toBe(200);
        expect((await browser.get('/auth/me')).body.user.email).toBe(email);
        expect(offline.output()).not.toMatch(/dynalite|ready at/);
        await expect(readdir(dataDir)).rejects.toMatchObject({ code: 'ENOENT' });
        await offline.stop();
      } finally {
        await new Promise((resolve) => busy.close(resolve));
        await redis.stop();
        await rm(join(dataDir, '..'), { recursive: true, force: true });
      }
    }, 120_000);
  });
}
