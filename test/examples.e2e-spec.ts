import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LOCAL_CREDENTIALS, testEndpoint } from './support/engine.js';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy.js';
import { installPacked, npm, type PackedPackages, packPackages } from './support/packed-packages.js';

/**
 * The four examples in `apps/examples`, as a new user gets them: each copied to an empty folder outside the
 * repository, its `@kura/*` dependencies replaced by the packed tarballs, installed, built (`npm run build` where
 * it has one) and started twice with `npm start`, two processes on two loopback addresses sharing one table in
 * DynamoDB Local. Their DynamoDB calls go through a proxy that counts them by operation.
 */
const EXAMPLES = ['nest-express', 'nest-fastify', 'express-session', 'fastify-session'] as const;
type Example = (typeof EXAMPLES)[number];
const ROOT = new URL('..', import.meta.url).pathname;
const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

let outside: string;
const folders = new Map<Example, string>();
const measured: string[] = [];

/** Copies an example out of the repository and installs it there from the tarballs, then builds it. */
async function prepare(example: Example, packed: PackedPackages): Promise<string> {
  const folder = join(outside, example);
  await cp(join(ROOT, 'apps/examples', example), folder, { recursive: true, filter: (path) => !/\/(node_modules|dist)$/.test(path) });
  const manifest = JSON.parse(await readFile(join(folder, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; scripts: Record<string, string> };
  for (const name of Object.keys(manifest.dependencies)) if (name.startsWith('@kura/')) delete manifest.dependencies[name];
  await writeFile(join(folder, 'package.json'), JSON.stringify(manifest, null, 2));
  // The express-session and @fastify/session apps get only what KuraStore needs, as a user of them would: not
  // @kura/session or @kura/accounts (the storage packages take those as optional peers), so not NestJS either.
  const nest = example.startsWith('nest-');
  await installPacked(folder, nest ? packed : { ...packed, tarballs: packed.tarballs.filter((tarball) => !/kura-(session|accounts)-/.test(tarball)) });
  if (manifest.scripts.build) await npm(['run', '-s', 'build'], folder);
  return folder;
}

interface ExampleProcess {
  readonly url: string;
  stop(): Promise<void>;
}

/** `npm start` in its own process group (npm, its shell and node), resolved once the app says where it listens. */
async function start(folder: string, env: Record<string, string>): Promise<ExampleProcess> {
  const child: ChildProcess = spawn('npm', ['start', '--silent'], {
    cwd: folder,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    // The Node that runs this test (24) first on PATH, as the project's own scripts have it.
    env: { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? tmpdir(), npm_config_update_notifier: 'false', ...env },
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${folder} did not start within 30 s:\n${output}`)), 30_000);
    child.stdout!.on('data', () => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]!.replace(/\/$/, ''));
    });
    void exited.then(() => reject(new Error(`${folder} exited before listening:\n${output}`)));
    void exited.finally(() => clearTimeout(timer));
  });
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null) return;
      process.kill(-child.pid!, 'SIGTERM');
      const killer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** One request, with the cookies a login handed out (`cookiesOf`), as a browser sends them back. */
const send = (url: string, method: 'GET' | 'POST', cookie = '', body?: unknown) =>
  fetch(url, {
    method,
    headers: { ...(cookie ? { cookie } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
const cookiesOf = (response: Response) =>
  response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0]!)
    .join('; ');
async function logIn(url: string, user: string): Promise<string> {
  const response = await send(`${url}/login`, 'POST', '', { user });
  if (response.status !== 200) throw new Error(`login: ${response.status} ${await response.text()}`);
  return cookiesOf(response);
}

beforeAll(async () => {
  outside = await mkdtemp(join(tmpdir(), 'kura-examples-'));
  const packed = await packPackages(join(outside, 'tarballs'));
  // One install at a time: npm installs in parallel on two cores are slower than in turn.
  for (const example of EXAMPLES) folders.set(example, await prepare(example, packed));
}, 300_000);
afterAll(async () => {
  if (measured.length) console.log(`DynamoDB calls for 10 steady-state GET /me:\n${measured.join('\n')}`);
  await rm(outside, { recursive: true, force: true });
});

describe.each(EXAMPLES)('the %s example, installed outside the repository from the tarballs', (example) => {
  let proxy: FaultProxy;
  let first: ExampleProcess;
  let second: ExampleProcess;
  beforeAll(async () => {
    proxy = await startFaultProxy(testEndpoint());
    const env = {
      DYNAMODB_ENDPOINT: proxy.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      SESSIONS_TABLE: `ex${randomBytes(4).toString('hex')}-${example}`,
      USERS_TABLE: `ex${randomBytes(4).toString('hex')}-users`,
      SESSION_SECRET: randomBytes(32).toString('base64url'),
      PORT: '0',
    };
    // The first process creates the tables; the second finds them.
    first = await start(folders.get(example)!, { ...env, HOST: '127.0.0.2', KURA_CREATE_TABLES: 'true' });
    second = await start(folders.get(example)!, { ...env, HOST: '127.0.0.3' });
  }, 90_000);
  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
    await proxy?.close();
  });

  it(example.startsWith('nest-') ? 'is a NestJS app' : 'runs without NestJS (none is installed)', () => {
    expect(existsSync(join(folders.get(example)!, 'node_modules/@nestjs/core'))).toBe(example.startsWith('nest-'));
  });

  it('keeps a login made on one process for the other, and a logout on the other ends it on the first', async () => {
    const cookie = await logIn(first.url, 'ada');

    const me = await send(`${second.url}/me`, 'GET', cookie);
    expect({ status: me.status, body: await me.json() }).toEqual({ status: 200, body: { user: 'ada' } });
    expect((await send(`${second.url}/logout`, 'POST', cookie)).status).toBe(204);

    expect((await send(`${first.url}/me`, 'GET', cookie)).status).toBe(401);
  });

  it('answers GET /me without a session with 401', async () => {
    expect((await send(`${first.url}/me`, 'GET')).status).toBe(401);
  });

  it('answers 503 with Retry-After when DynamoDB cannot answer, and 200 again once it can', async () => {
    const cookie = await logIn(first.url, 'edsger');
    proxy.set('reset'); // every DynamoDB call has its connection cut

    const unavailable = await send(`${first.url}/me`, 'GET', cookie);
    proxy.set('pass');

    expect({ status: unavailable.status, retryAfter: unavailable.headers.get('retry-after') }).toEqual({ status: 503, retryAfter: expect.stringMatching(/^[1-9]\d*$/) });
    expect((await send(`${first.url}/me`, 'GET', cookie)).status).toBe(200);
  });

  it('costs at most one DynamoDB read and no write per steady-state GET /me', async () => {
    const cookie = await logIn(first.url, 'grace');
    await new Promise((resolve) => setTimeout(resolve, 200)); // the login's own calls are not this test's
    proxy.set('pass'); // counts from zero

    for (let request = 0; request < 10; request += 1) {
      expect((await send(`${[first, second][request % 2]!.url}/me`, 'GET', cookie)).status).toBe(200);
    }
    await new Promise((resolve) => setTimeout(resolve, 200)); // a store write after the answer would count too

    const calls = Object.entries(proxy.operations);
    const reads = calls.filter(([operation]) => READS.has(operation)).reduce((sum, [, count]) => sum + count, 0);
    const writes = calls.filter(([operation]) => WRITES.has(operation)).reduce((sum, [, count]) => sum + count, 0);
    measured.push(`  ${example}: ${reads} reads, ${writes} writes (${JSON.stringify(proxy.operations)})`);
    expect(reads).toBeLessThanOrEqual(10);
    expect(writes).toBe(0);
  });
});
