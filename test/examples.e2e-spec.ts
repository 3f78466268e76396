import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { LOCAL_CREDENTIALS, testEndpoint } from './support/engine.js';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy.js';
import { installNode, installPacked, npm, type PackedPackages, packPackages } from './support/packed-packages.js';

/**
 * The four examples in `apps/examples`, as a new user gets them: each copied to an empty folder outside the
 * repository, its `@kura/*` dependencies replaced by the packed tarballs, installed, built (`npm run build` where
 * it has one) and started twice with `npm start`, two processes on two loopback addresses sharing one table in
 * DynamoDB Local. Their DynamoDB calls go through a proxy that counts them by operation.
 *
 * Each runs on Node 24 (the project's own); one app without NestJS and one with it run again on Node 22, the
 * oldest line the packages' `engines` take (22.12: `require` of an ES module, which a CommonJS app needs).
 */
const EXAMPLES = ['nest-express', 'nest-fastify', 'express-session', 'fastify-session'] as const;
type Example = (typeof EXAMPLES)[number];
const RUNS = [...EXAMPLES.map((example) => ({ example, node: 24 })), { example: 'express-session', node: 22 }, { example: 'nest-fastify', node: 22 }] as const;
/** The folder that holds each Node's binary, put first on the examples' PATH. */
const nodeFolders = new Map<number, string>([[24, dirname(process.execPath)]]);
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
  /** The executables the process group runs now (npm, its shell, node), as `/proc` names them. */
  executables(): Promise<string[]>;
  stop(): Promise<void>;
}

/** The executable of every process in the process group `group`, read from `/proc`. */
async function executablesOf(group: number): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
    try {
      // The fields after the command's closing parenthesis: state, ppid, pgrp, ...
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === group) found.push(await realpath(`/proc/${pid}/exe`));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/**
 * `npm start` in its own process group (npm, its shell and node), resolved once the app says where it listens, on
 * the Node whose folder is `nodeFolder` (first on PATH: npm runs the `node` it finds there).
 */
async function start(folder: string, nodeFolder: string, env: Record<string, string>, command = ['npm', 'start', '--silent']): Promise<ExampleProcess> {
  const child: ChildProcess = spawn(command[0]!, command.slice(1), {
    cwd: folder,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: `${nodeFolder}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? tmpdir(), npm_config_update_notifier: 'false', ...env },
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
    executables: () => executablesOf(child.pid!),
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
  nodeFolders.set(22, await installNode(22, join(outside, 'node22')));
}, 420_000);
afterAll(async () => {
  if (measured.length) console.log(`DynamoDB calls for 10 steady-state GET /me:\n${measured.join('\n')}`);
  await rm(outside, { recursive: true, force: true });
});

describe.each(RUNS)('the $example example on Node $node, installed outside the repository from the tarballs', ({ example, node }) => {
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
      SESSIONS_TABLE: `ex${randomBytes(4).toString('hex')}-${example}-${node}`,
      USERS_TABLE: `ex${randomBytes(4).toString('hex')}-users`,
      SESSION_SECRET: randomBytes(32).toString('base64url'),
      PORT: '0',
    };
    // The first process creates the tables; the second finds them.
    first = await start(folders.get(example)!, nodeFolders.get(node)!, { ...env, HOST: '127.0.0.2', KURA_CREATE_TABLES: 'true' });
    second = await start(folders.get(example)!, nodeFolders.get(node)!, { ...env, HOST: '127.0.0.3' });
  }, 90_000);
  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
    await proxy?.close();
  });

  it(example.startsWith('nest-') ? 'is a NestJS app' : 'runs without NestJS (none is installed)', () => {
    expect(existsSync(join(folders.get(example)!, 'node_modules/@nestjs/core'))).toBe(example.startsWith('nest-'));
  });

  it(`runs on Node ${node}: every Node process of both is that Node's binary`, async () => {
    const binary = await realpath(join(nodeFolders.get(node)!, 'node'));
    const running = [...(await first.executables()), ...(await second.executables())].filter((file) => basename(file) === 'node');

    expect(running.length).toBeGreaterThanOrEqual(2); // npm and the app, in each
    expect(new Set(running)).toEqual(new Set([binary]));
    expect(String(execFileSync(binary, ['--version']))).toMatch(new RegExp(`^v${node}\\.`));
  });

  it('keeps a login made on one process for the other, and a logout on the other ends it on the first', async () => {
    const cookie = await logIn(first.url, 'ada');

    const me = await send(`${second.url}/me`, 'GET', cookie);
    expect({ status: me.status, body: await me.json() }).toEqual({ status: 200, body: { user: 'ada' } });
    const logout = await send(`${second.url}/logout`, 'POST', cookie);
    expect(logout.status).toBe(204);
    // The browser's cookie is cleared too (the @fastify/session example left it, naming an ended session).
    if (!example.startsWith('nest-')) expect(logout.headers.getSetCookie()).toEqual([expect.stringMatching(/^(connect\.sid|sessionId)=;.*Expires=Thu, 01 Jan 1970 00:00:00 GMT/)]);

    expect((await send(`${first.url}/me`, 'GET', cookie)).status).toBe(401);
  });

  if (!example.startsWith('nest-')) {
    it("logs a user out everywhere: every session of theirs on both processes, and no one else's", async () => {
      const [laptop, phone, someoneElse] = [await logIn(first.url, 'barbara'), await logIn(second.url, 'barbara'), await logIn(second.url, 'frances')];

      const ended = await send(`${second.url}/logout-everywhere`, 'POST', phone);

      expect({ status: ended.status, body: await ended.json() }).toEqual({ status: 200, body: { ended: 2 } });
      for (const { url } of [first, second]) {
        const statuses = await Promise.all([laptop, phone, someoneElse].map(async (cookie) => (await send(`${url}/me`, 'GET', cookie)).status));
        expect(statuses).toEqual([401, 401, 200]);
      }
    });
  }

  it('answers GET /me without a session with 401', async () => {
    expect((await send(`${first.url}/me`, 'GET')).status).toBe(401);
  });

  // The NestJS examples key the session's user by the name typed at login: one DynamoDB cannot key (over its
  // 2048-byte limit) answered 503 "store unavailable" and left a session item behind, before SessionService
  // checked it.
  if (example.startsWith('nest-')) {
    it('answers a login name over 1 KB with 400, and writes nothing', async () => {
      proxy.set('pass'); // counts from zero

      const response = await send(`${first.url}/login`, 'POST', '', { user: 'x'.repeat(2100) });

      expect({ status: response.status, setCookie: response.headers.get('set-cookie') }).toEqual({ status: 400, setCookie: null });
      expect(Object.keys(proxy.operations).filter((operation) => WRITES.has(operation))).toEqual([]);
    });
  }

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
    measured.push(`  ${example} on Node ${node}: ${reads} reads, ${writes} writes (${JSON.stringify(proxy.operations)})`);
    expect(reads).toBeLessThanOrEqual(10);
    expect(writes).toBe(0);
  });
});

/** A code block of the README: the first after `marker`. */
function readmeSnippet(marker: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('```js\n', readme.indexOf(marker)) + '```js\n'.length;
  return readme.slice(start, readme.indexOf('```', start));
}

/**
 * The README's express-session and @fastify/session snippets as a stranger copies them (2026-12-04: the Fastify one
 * crashed without @fastify/cookie, neither set a cookie behind a proxy, and a store outage answered 500), with only a
 * login, a page and a logout around them: run in the examples' folders (their packages from the tarballs), on
 * DynamoDB Local through the endpoint the AWS SDK takes from the environment, behind a proxy that says https.
 */
describe.each([
  { framework: 'express-session', example: 'express-session', marker: '**express-session** (`@kura/connect`' },
  { framework: '@fastify/session', example: 'fastify-session', marker: '**@fastify/session** (' },
] as const)("the README's $framework snippet, as written", ({ example, marker }) => {
  const routes =
    example === 'express-session'
      ? `app.use(express.json());
app.post('/login', (req, res, next) => req.session.regenerate((error) => { if (error) return next(error); req.session.user = req.body.user; res.json({ user: req.session.user }); }));
app.get('/me', (req, res) => (req.session.user ? res.json({ user: req.session.user }) : res.status(401).end()));
app.post('/logout', (req, res, next) => req.session.destroy((error) => (error ? next(error) : res.status(204).end())));
`
      : `app.post('/login', async (request) => { await request.session.regenerate(); request.session.set('user', request.body.user); return { user: request.body.user }; });
app.get('/me', async (request, reply) => (request.session.get('user') ? { user: request.session.get('user') } : reply.code(401).send()));
app.post('/logout', async (request, reply) => { await request.session.destroy(); return reply.code(204).send(); });
`;
  const listen =
    example === 'express-session'
      ? "const server = app.listen(0, process.env.HOST, () => console.log(`listening on http://${process.env.HOST}:${server.address().port}`));\n"
      : "console.log(`listening on ${await app.listen({ port: 0, host: process.env.HOST })}`);\n";
  let proxy: FaultProxy;
  let app: ExampleProcess;
  beforeAll(async () => {
    // The proxies the snippet trusts are a private network's; here the test's requests are the proxy's, on loopback.
    const snippet = readmeSnippet(marker).replace("trustProxy: '10.0.0.0/8'", "trustProxy: '127.0.0.0/8'");
    // The routes go where the snippet's comment puts them: before express's error handler (last in the snippet).
    const at = example === 'express-session' ? snippet.indexOf('app.use((error') : snippet.length;
    // The table the snippet does not make: on express-session with its own store, as its comment says to.
    const table =
      example === 'express-session' ? 'await store.ensureTable();\n' : "await new KuraStore({ connection: { region: 'eu-west-1' } }).ensureTable(); // the snippet's table, which it does not make\n";
    await writeFile(join(folders.get(example)!, 'readme.mjs'), `${snippet.slice(0, at)}${routes}${snippet.slice(at)}${table}${listen}`);
    proxy = await startFaultProxy(testEndpoint());
    app = await start(
      folders.get(example)!,
      nodeFolders.get(24)!,
      {
        AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint,
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        SESSION_SECRET: randomBytes(32).toString('base64url'),
        HOST: '127.0.0.4',
      },
      ['node', 'readme.mjs'],
    );
  }, 60_000);
  afterAll(async () => {
    await app?.stop();
    await proxy?.close();
  });

  /**
   * A request as the TLS-ending proxy in front of the app forwards it, its body read (express-session holds back
   * the last byte of a login's answer until the session is saved).
   */
  const viaProxy = async (path: string, method: 'GET' | 'POST', cookie = '', body?: unknown) => {
    const response = await fetch(`${app.url}${path}`, {
      method,
      headers: { 'x-forwarded-proto': 'https', ...(cookie ? { cookie } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    await response.arrayBuffer();
    return response;
  };

  it('logs in behind a TLS-ending proxy with a __Host- cookie, and a logout ends the session', async () => {
    const login = await viaProxy('/login', 'POST', '', { user: 'ada' });
    const setCookie = login.headers.getSetCookie();

    expect({ status: login.status, setCookie }).toEqual({ status: 200, setCookie: [expect.stringMatching(/^__Host-sid=[^;]+;.*Secure/)] });
    const cookie = cookiesOf(login);
    expect((await viaProxy('/me', 'GET', cookie)).status).toBe(200);
    expect((await viaProxy('/logout', 'POST', cookie)).status).toBe(204);
    expect((await viaProxy('/me', 'GET', cookie)).status).toBe(401);
  });

  it('answers a store outage with 503 and Retry-After, not 500, and 200 once DynamoDB is back', async () => {
    const cookie = cookiesOf(await viaProxy('/login', 'POST', '', { user: 'edsger' }));
    proxy.set('reset');

    const unavailable = await viaProxy('/me', 'GET', cookie);
    proxy.set('pass');

    expect({ status: unavailable.status, retryAfter: unavailable.headers.get('retry-after') }).toEqual({ status: 503, retryAfter: expect.stringMatching(/^[1-9]\d*$/) });
    expect((await viaProxy('/me', 'GET', cookie)).status).toBe(200);
  });
});
