import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { testEndpoint } from './support/engine.js';
import { installNode, installPacked, npm, PACKAGES, type PackedPackages, packPackages } from './support/packed-packages.js';
import { redisServerMissing, startRedisServer } from './support/redis-server.js';

/**
 * The libraries as someone outside this repository gets them: built (`npm run build:packages`), packed with
 * `npm pack`, installed from the tarballs into an empty folder outside the repository with the peers an app
 * already has, then imported, type-checked and used there against DynamoDB Local.
 */
const run = promisify(execFile);
/** The script a package's `bin` names, run with this Node (not whatever `node` is first on the PATH). */
const binOf = (pkg: string, bin: string) => {
  const folder = join(new URL('..', import.meta.url).pathname, 'node_modules', pkg);
  return join(folder, (JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin[bin]!);
};
const ROOT = new URL('..', import.meta.url).pathname;

let outside: string;
let packed: PackedPackages;
/** The folder of Node 22's `node`, the oldest line the packages' `engines` take: installed beside the apps, for the Redis case that runs on it. */
let node22 = '';
beforeAll(async () => {
  outside = await mkdtemp(join(tmpdir(), 'kura-packages-'));
  packed = await packPackages(join(outside, 'tarballs'));
  // Four apps, installed side by side (npm waits on the registry and the disk more than on the processor).
  const appWith = async (folder: string, name: string, tarballs: RegExp, others: string[]) => {
    const cwd = join(outside, folder);
    await mkdir(cwd);
    await writeFile(join(cwd, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
    await installPacked(cwd, { ...packed, tarballs: packed.tarballs.filter((tarball) => tarballs.test(tarball)) }, others);
  };
  await Promise.all([
    // `redis` with no version, as the README has it: whatever npm gives a new user today.
    // connect-redis: the store an app switching to KuraStore comes from (migrateFrom). @types/express: the types
    // libs/connect's NestJS exception filter imports, as a Nest CLI project on Express has them.
    appWith('app', 'someone-elses-app', /kura-/, ['@aws-sdk/client-dynamodb@3', 'redis', 'ioredis', '@nestjs/common@12', '@nestjs/core@12', 'reflect-metadata', 'rxjs', 'express-session@1', '@types/express@5', 'connect-redis']),
    // An express-session app on Redis, still on node-redis 5 and ioredis 5 (5.3 or later: the peer ranges also take them):
    // KuraStore's packages for Redis only, as libs/connect's README has them, so no @kura/dynamodb and no AWS SDK.
    appWith('app-redis5', 'an-app-on-node-redis-5', /kura-(common|connect|redis)-/, ['redis@5', 'ioredis@5', 'express-session@1']),
    // An express-session app on its own ioredis client: KuraStore's packages for Redis, and no node-redis (an
    // optional peer, which npm leaves out).
    appWith('app-ioredis', 'an-app-on-ioredis', /kura-(common|connect|redis)-/, ['ioredis@6', 'express-session@1']),
    // An express-session app on DynamoDB: KuraStore's packages for DynamoDB only, no NestJS; with express-session's
    // own types from DefinitelyTyped, as a TypeScript app has them.
    appWith('app-dynamodb', 'an-app-on-dynamodb', /kura-(common|connect|dynamodb)-/, ['@aws-sdk/client-dynamodb@3', 'express-session@1', '@types/express-session@1']),
    redisServerMissing() ? undefined : installNode(22, join(outside, 'node22')).then((folder) => (node22 = folder)),
  ]);
}, 300_000);
afterAll(() => rm(outside, { recursive: true, force: true }));


/** Runs the repository's TypeScript on `file` in `folder`, strict, NodeNext, with library declarations checked. */
/**
 * ioredis's own declarations (its errors, reached from its index in 6.1.0) import `redis-errors`, which ships no
 * types: with library declarations checked, an app on ioredis needs this one line whatever else it uses (first seen
 * failing in CI on 2026-12-03). Kura's declarations need none.
 */
const UNTYPED_BY_OTHERS = "declare module 'redis-errors';\n";

/**
 * README blocks that are parts of a module shown whole above them, not modules of their own: the controller's
 * methods for a password change, and connectRedis's options for a Cluster and for Sentinel.
 */
const SNIPPET_FRAGMENTS = ["@Post('login') @HttpCode(200)\nasync login(", 'const redis = connectRedis({ url: \'redis://user:secret@node-1:6379\', cluster: true })', 'const redis = connectRedis({\n  sentinels:'];

async function typeCheck(folder: string, files: string | string[], flags: string[] = []) {
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  await writeFile(join(folder, 'untyped-by-others.d.ts'), UNTYPED_BY_OTHERS);
  const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2024', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules/@types'), '--experimentalDecorators', ...flags, ...[files].flat(), 'untyped-by-others.d.ts'];
  // What tsc said, in the failure: `Command failed` alone names no error.
  return run(process.execPath, [tsc, ...args], { cwd: folder }).catch((error: { stdout?: string; stderr?: string }) => {
    throw new Error(`tsc found errors in ${folder}:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
  });
}

describe('the packed libraries', () => {
  it.each(PACKAGES)('@kura/%s holds its compiled code, types, manifest and licence, and no tests or sources', (name) => {
    const files = packed.files.get(name)!;

    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']));
    // NOTICE: the licence of what a package redistributes (@kura/accounts: zxcvbn-ts's common passwords).
    expect(files.filter((file) => !/^(package\.json|README\.md|LICENSE|NOTICE|dist\/.+\.(js|d\.ts))$/.test(file))).toEqual([]);
    expect(files.filter((file) => /spec|test/.test(file))).toEqual([]);
  });

  it("@kura/accounts ships zxcvbn-ts's licence with the common passwords it redistributes, and declares the list a string", () => {
    expect(packed.files.get('accounts')).toContain('NOTICE');
    expect(readFileSync(join(ROOT, 'libs/accounts/NOTICE'), 'utf8')).toContain('Copyright (c) 2021 @zxcvbn-ts');
    // Declared as its literal, the list was the whole of a 437 KB dist/common-passwords.d.ts.
    expect(readFileSync(join(ROOT, 'libs/accounts/dist/common-passwords.d.ts'), 'utf8')).toMatch(/COMMON_PASSWORDS: string;/);
  });

  it('each ship the licence of the repository', () => {
    for (const name of PACKAGES) expect({ name, licence: readFileSync(join(ROOT, 'libs', name, 'LICENSE'), 'utf8') }).toEqual({ name, licence: readFileSync(join(ROOT, 'LICENSE'), 'utf8') });
  });

  // Two linters nobody here wrote, run on the tarballs as a registry's users would: publint (the manifest's fields
  // against the files it ships; --strict fails on its suggestions too) and arethetypeswrong (the types every
  // TypeScript resolution mode finds for every entry point). Its one rule left out, cjs-resolves-to-esm, says that
  // `require` reaches an ES module: the packages are ES modules, which Node 22.12+ `require`s (next test).
  it.each(PACKAGES)('@kura/%s passes publint --strict and arethetypeswrong', async (name) => {
    const tarball = packed.tarballs.find((file) => basename(file).startsWith(`kura-${name}-`))!;

    const publint = await run(process.execPath, [binOf('publint', 'publint'), '--strict', tarball]).catch((failure: { stdout: string; stderr: string }) => failure);
    expect(`${publint.stdout}${publint.stderr}`).toContain('All good!');
    const attw = await run(process.execPath, [binOf('@arethetypeswrong/cli', 'attw'), tarball, '--ignore-rules', 'cjs-resolves-to-esm', '--format', 'json'], { maxBuffer: 16 * 1024 * 1024 }).catch(
      (failure: { stdout: string; stderr: string }) => failure,
    );
    const report = JSON.parse(attw.stdout) as { analysis: { problems: { kind: string; entrypoint?: string; resolutionKind?: string }[] } };
    expect(report.analysis.problems.filter((problem) => problem.kind !== 'CJSResolvesToESM')).toEqual([]);
  });

  it('install from the tarballs outside the repository, and each imports', async () => {
    const script = `import 'reflect-metadata';
for (const name of ${JSON.stringify(PACKAGES.map((name) => `@kura/${name}`))}) console.log(name, Object.keys(await import(name)).length);`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: join(outside, 'app') });

    for (const name of PACKAGES) expect(stdout).toMatch(new RegExp(`@kura/${name} [1-9]\\d*`));
  });

  // Most express-session apps are CommonJS: they `require` the packages, which are ES modules (Node 22.12+ and 24
  // load them so, as long as none of their modules awaits at top level).
  it('load from a CommonJS app, with require', async () => {
    const script = `require('reflect-metadata');
for (const name of ${JSON.stringify(PACKAGES.map((name) => `@kura/${name}`))}) console.log(name, Object.keys(require(name)).length);
const { KuraStore } = require('@kura/connect');
console.log('KuraStore', typeof new KuraStore({ connection: { region: 'eu-west-1' } }).get);`;
    const { stdout, stderr } = await run(process.execPath, ['--input-type=commonjs', '-e', script], { cwd: join(outside, 'app') });

    for (const name of PACKAGES) expect(stdout).toMatch(new RegExp(`@kura/${name} [1-9]\\d*`));
    expect(stdout).toContain('KuraStore function');
    expect(stderr).toBe('');
  });

  it('give TypeScript their types from outside the repository (NodeNext)', async () => {
    const app = join(outside, 'app');
    await writeFile(
      join(app, 'check.ts'),
      `import { KuraStore, type KuraStoreOptions, StoreUnavailableError } from '@kura/connect';
import { connectRedis, RedisConnectSessionStore } from '@kura/redis';
import { SessionModule, SessionGuard } from '@kura/session';
const options: KuraStoreOptions = { tableName: 'sessions', connection: { region: 'eu-west-1' } };
export const store: KuraStore = new KuraStore(options);
export const onRedis: KuraStore = new KuraStore({ adapter: new RedisConnectSessionStore(connectRedis({ url: 'redis://127.0.0.1:6379' })) });
export const all = [SessionModule, SessionGuard, StoreUnavailableError];
`,
    );
    await expect(typeCheck(app, 'check.ts')).resolves.toBeDefined();
  }, 60_000);

  // A stranger starts from the READMEs' snippets. Each README's ```ts blocks go into one folder of the installed app
  // (a block that exports a class into the file its imports name it by: AppModule into app.module.ts), and are
  // type-checked together, strict, with the flags of a Nest CLI project (isolatedModules and emitDecoratorMetadata,
  // under which a type imported without `type` into a decorated signature is an error). Before 2026-12-05 the
  // README's Nest snippet was a decorator with no class and no imports, the session README's named an AuthController
  // from nowhere and called a checkCredentials it did not have, and the ioredis one gave `new Redis` a string that may
  // be undefined.
  it.each(['README.md', ...PACKAGES.map((name) => `libs/${name}/README.md`)].filter((readme) => readFileSync(join(ROOT, readme), 'utf8').includes('```ts')))("type-check the TypeScript snippets of %s as an app holds them", async (readme) => {
    const folder = join(outside, 'app', `snippets-${readme.replaceAll('/', '-').replace('.md', '')}`);
    await mkdir(folder, { recursive: true });
    const blocks = [...readFileSync(join(ROOT, readme), 'utf8').matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
    const modules = blocks.filter((block) => !SNIPPET_FRAGMENTS.some((fragment) => block.startsWith(fragment)));
    const files = await Promise.all(
      modules.map(async (block, index) => {
        const exported = /^export class (\w+)/m.exec(block)?.[1];
        const file = exported ? `${exported.replace(/([a-z0-9])([A-Z])/g, '$1.$2').toLowerCase()}.ts` : `snippet-${index + 1}.ts`;
        await writeFile(join(folder, file), block);
        return file;
      }),
    );

    expect(files.length).toBeGreaterThan(0);
    await expect(typeCheck(folder, files, ['--emitDecoratorMetadata', '--isolatedModules'])).resolves.toBeDefined();
  }, 60_000);

  // `skipLibCheck` is off (tsc's own default): every declaration the packages ship is checked, and none may name a
  // package the app does not have (@kura/dynamodb and the AWS SDK on Redis; @kura/session, @kura/accounts, NestJS).
  it.each([
    {
      folder: 'app-redis5',
      source: `import { KuraStore, type KuraStoreOptions, type DynamoDbConnectionOptions, type TableBootstrapStep } from '@kura/connect';
import { connectRedis, fromIoredis, RedisConnectSessionStore, RedisSessionStore } from '@kura/redis';
import { Cluster, Redis } from 'ioredis';
const options: KuraStoreOptions = { adapter: new RedisConnectSessionStore(connectRedis({ url: 'redis://127.0.0.1:6379' })) };
export const store: KuraStore = new KuraStore(options);
const ioredis = new Redis({ lazyConnect: true, enableOfflineQueue: false });
export const onIoredis: KuraStore = new KuraStore({ adapter: new RedisConnectSessionStore(fromIoredis(ioredis, { waitForReplicas: { replicas: 1, timeoutMs: 500, connections: [ioredis.duplicate()] } })) });
export const onIoredisCluster = new RedisSessionStore(fromIoredis(new Cluster([{ host: '127.0.0.1', port: 7000 }], { lazyConnect: true })));
export const ensured: Promise<TableBootstrapStep | undefined> = store.ensureTable();
export const connection: DynamoDbConnectionOptions = { region: 'eu-west-1' };
export const kinds = [RedisSessionStore];
`,
    },
    {
      folder: 'app-ioredis',
      source: `import { KuraStore } from '@kura/connect';
import { fromIoredis, RedisCommandLog, RedisConnectSessionStore, RedisSessionStore, type RedisClient } from '@kura/redis';
import { Redis } from 'ioredis';
const client = new Redis({ lazyConnect: true, enableOfflineQueue: false });
export const store: KuraStore = new KuraStore({ adapter: new RedisConnectSessionStore(fromIoredis(client, { commandLog: new RedisCommandLog() })) });
export const sessions = new RedisSessionStore(fromIoredis(client));
export type Unused = RedisClient;
`,
    },
    {
      folder: 'app-dynamodb',
      source: `import { KuraStore, type KuraStoreOptions } from '@kura/connect';
import { createDynamoDbClients, DynamoDbCallLog, DynamoDbSessionStore } from '@kura/dynamodb';
import session from 'express-session';
const options: KuraStoreOptions = { connection: { region: 'eu-west-1', callLog: new DynamoDbCallLog() } };
export const store: KuraStore = new KuraStore(options);
// What @types/express-session asks of a store (a stranger's strict app was refused this before 2026-12-02).
export const asExpressStore: session.Store = new KuraStore(options);
export const middleware = session({ store: new KuraStore(options), secret: 'a secret', resave: false, saveUninitialized: false });
export const own: KuraStore = new KuraStore({ client: createDynamoDbClients({ region: 'eu-west-1' }).client });
export const kinds = [DynamoDbSessionStore];
`,
    },
  ])('give TypeScript their types in KuraStore alone ($folder), library declarations checked too', async ({ folder, source }) => {
    await writeFile(join(outside, folder, 'check.ts'), source);

    await expect(typeCheck(join(outside, folder), 'check.ts')).resolves.toBeDefined();
  }, 60_000);

  it('keep an express-session session in DynamoDB through the installed KuraStore', async () => {
    const table = `pkg-${Date.now().toString(36)}`;
    const script = `import { KuraStore } from '@kura/connect';
const store = new KuraStore({ tableName: '${table}', connection: { region: 'us-east-1', endpoint: '${testEndpoint()}', credentials: { accessKeyId: 'kuralocal', secretAccessKey: 'kuralocal' } } });
await store.ensureTable();
const session = { cookie: { originalMaxAge: 60000, expires: new Date(Date.now() + 60000).toISOString(), httpOnly: true, path: '/' }, user: 'ada' };
await store.set('sid-1', session);
const read = await store.get('sid-1');
await store.destroy('sid-1');
console.log(JSON.stringify({ user: read?.user, after: (await store.get('sid-1')) ?? null }));
store.close();`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: join(outside, 'app') });

    expect(JSON.parse(stdout)).toEqual({ user: 'ada', after: null });
  }, 60_000);

  (redisServerMissing() ? it.skip : it)('load no AWS SDK for KuraStore on Redis, and load it for KuraStore on DynamoDB only once a store is made', async () => {
    const server = await startRedisServer();
    try {
      // Every module the process loads, as Node resolves it (module.registerHooks, Node 24).
      const script = `import { registerHooks } from 'node:module';
const loaded = new Set();
registerHooks({ resolve(specifier, context, next) { const resolved = next(specifier, context); loaded.add(resolved.url); return resolved; } });
const aws = () => [...loaded].filter((url) => /@aws-sdk|@smithy|@kura\\/dynamodb/.test(url)).length;
const { KuraStore } = await import('@kura/connect');
const { connectRedis, RedisConnectSessionStore } = await import('@kura/redis');
const redis = connectRedis({ url: '${server.url}' });
await redis.open();
const store = new KuraStore({ adapter: new RedisConnectSessionStore(redis) });
await store.set('sid-1', { cookie: { originalMaxAge: 60000, expires: new Date(Date.now() + 60000).toISOString(), path: '/' }, user: 'ada' });
const onRedis = { user: (await store.get('sid-1'))?.user, aws: aws() };
await redis.close();
const onDynamoDb = new KuraStore({ connection: { region: 'us-east-1', endpoint: '${testEndpoint()}', credentials: { accessKeyId: 'kuralocal', secretAccessKey: 'kuralocal' } } });
await onDynamoDb.ensureTable();
console.log(JSON.stringify({ onRedis, dynamoDbLoaded: aws() > 0 }));
onDynamoDb.close();`;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: join(outside, 'app') });

      expect(JSON.parse(stdout)).toEqual({ onRedis: { user: 'ada', aws: 0 }, dynamoDbLoaded: true });
    } finally {
      await server.stop();
    }
  }, 60_000);

  it('tell a store pointed at a local engine without credentials how to give them, as a StoreUnavailableError', async () => {
    // A stranger's first try (2026-12-02): ensureTable() threw the SDK's raw CredentialsProviderError, and requests
    // answered 503 saying "set connection.endpoint", which was set. No credentials anywhere here, and no instance
    // metadata asked for (it is not on loopback).
    const script = `import { KuraStore } from '@kura/connect';
const store = new KuraStore({ tableName: 'no-credentials', connection: { region: 'us-east-1', endpoint: '${testEndpoint()}' } });
const error = await store.ensureTable().then(() => undefined, (caught) => caught);
console.log(JSON.stringify({ name: error?.constructor.name, operation: error?.operation, reason: error?.reason }));
store.close();`;
    const env = { PATH: process.env.PATH, HOME: outside, AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: join(outside, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(outside, 'none') };
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: join(outside, 'app'), env });

    expect(JSON.parse(stdout)).toEqual({
      name: 'StoreUnavailableError',
      operation: 'connect.ensureTable',
      reason:
        'no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, give the process a role (with EKS Pod Identity, its agent must answer and the service account be associated with the role), or for a local engine give connection.credentials (any accessKeyId and secretAccessKey will do)',
    });
  }, 60_000);

  it('install KuraStore on Redis without the AWS SDK, and a store on DynamoDB there says what to install', async () => {
    const older = join(outside, 'app-redis5');
    const script = `import { KuraStore } from '@kura/connect';
const store = new KuraStore({ connection: { region: 'us-east-1' } });
console.log(JSON.stringify({ error: await store.ensureTable().then(() => 'none', (error) => error.message) }));`;
    const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: older });

    expect(existsSync(join(older, 'node_modules/@aws-sdk'))).toBe(false);
    expect(existsSync(join(older, 'node_modules/@kura/dynamodb'))).toBe(false);
    // The tarball, never the package by name (a stranger followed "npm install @kura/dynamodb" to the registry, 2026-12-04).
    const said = "KuraStore: sessions in DynamoDB (connection or client) need @kura/dynamodb and @aws-sdk/client-dynamodb: npm install @aws-sdk/client-dynamodb <Kura's clone>/.packs/kura-dynamodb-0.1.0.tgz (npm run pack:packages makes it; not @kura/dynamodb by name: the @kura scope on the npm registry is not Kura's), or give an adapter (Redis: @kura/redis)";
    expect(JSON.parse(stdout).error).toBe(said);
    // At once, as the store is made, not only with the first request that needs it.
    expect(stderr).toContain(`KuraStoreWarning: ${said}`);
  });

  it('bundle with esbuild, as for Lambda: KuraStore on DynamoDB finds the adapter it loads on demand inside the bundle', async () => {
    const app = join(outside, 'app');
    const table = `pkg-bundled-${Date.now().toString(36)}`;
    await writeFile(
      join(app, 'bundled.mjs'),
      `import { KuraStore } from '@kura/connect';
const store = new KuraStore({ tableName: '${table}', connection: { region: 'us-east-1', endpoint: '${testEndpoint()}', credentials: { accessKeyId: 'kuralocal', secretAccessKey: 'kuralocal' } } });
await store.ensureTable();
await store.set('sid-1', { cookie: { originalMaxAge: 60000, expires: new Date(Date.now() + 60000).toISOString(), path: '/' }, user: 'ada' });
console.log(JSON.stringify({ user: (await store.get('sid-1'))?.user }));
store.close();
`,
    );
    // The bundle runs from a folder with no node_modules: everything it needs must be inside it. The banner gives the
    // AWS SDK's CommonJS a require, as any ESM bundle of it needs.
    const bundle = join(outside, 'bundled', 'app.mjs');
    const esbuild = join(ROOT, 'node_modules/esbuild/bin/esbuild');
    await run(esbuild, ['bundled.mjs', '--bundle', '--platform=node', '--format=esm', `--outfile=${bundle}`, '--log-level=warning', "--banner:js=import { createRequire as kuraRequire } from 'node:module'; const require = kuraRequire(import.meta.url);"], { cwd: app });
    const { stdout } = await run(process.execPath, [bundle], { cwd: join(outside, 'bundled') });

    expect(JSON.parse(stdout)).toEqual({ user: 'ada' });
  }, 60_000);

  // express-session's own classes, which KuraStore borrows for every session it loads, came through a require made
  // with createRequire(import.meta.url) at load, which no bundler follows: the ES module bundle answered 500 to every
  // request with a session cookie (Cannot find module 'express-session'), and the CommonJS one, where import.meta.url
  // is empty, did not start (an outside review, 2026-12-07). The bundles run from folders with no node_modules.
  it.each(['esm', 'cjs'])('bundle an express-session app with esbuild (%s): a session logged in is found again, inside the bundle', async (format) => {
    const app = join(outside, 'app-dynamodb');
    const table = `pkg-bundled-express-${format}-${Date.now().toString(36)}`;
    await writeFile(
      join(app, `bundled-express-${format}.mjs`),
      `import { createServer } from 'node:http';
import session from 'express-session';
import { KuraStore } from '@kura/connect';
async function main() {
  const store = new KuraStore({ tableName: '${table}', connection: { region: 'us-east-1', endpoint: '${testEndpoint()}', credentials: { accessKeyId: 'kuralocal', secretAccessKey: 'kuralocal' } } });
  await store.ensureTable();
  const middleware = session({ store, name: 'sid', secret: 'a secret of the test, long enough', resave: false, saveUninitialized: false });
  const server = createServer((req, res) => middleware(req, res, (error) => {
    if (error) return res.writeHead(500).end(String(error.message));
    if (req.url === '/login') req.session.user = 'ada';
    res.end(JSON.stringify({ user: req.session.user ?? null }));
  }));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = 'http://127.0.0.1:' + server.address().port;
  const login = await fetch(base + '/login');
  // The whole answer: express-session ends it only once the session is saved (its headers come before).
  await login.text();
  const cookie = login.headers.get('set-cookie').split(';')[0];
  const me = await fetch(base + '/me', { headers: { cookie } });
  console.log(JSON.stringify({ status: me.status, body: await me.text() }));
  server.close();
  store.close();
}
main();
`,
    );
    const bundle = join(outside, `bundled-express-${format}`, format === 'esm' ? 'app.mjs' : 'app.cjs');
    const banner = format === 'esm' ? ["--banner:js=import { createRequire as kuraRequire } from 'node:module'; const require = kuraRequire(import.meta.url);"] : [];
    const esbuild = join(ROOT, 'node_modules/esbuild/bin/esbuild');
    await run(esbuild, [`bundled-express-${format}.mjs`, '--bundle', '--platform=node', `--format=${format}`, `--outfile=${bundle}`, '--log-level=error', ...banner], { cwd: app });
    const { stdout } = await run(process.execPath, [bundle], { cwd: join(outside, `bundled-express-${format}`) });

    expect(JSON.parse(stdout)).toEqual({ status: 200, body: JSON.stringify({ user: 'ada' }) });
  }, 60_000);

  // The packages depend on each other by name (@kura/common@0.1.0), and the registry's @kura scope is someone else's:
  // a tarball left out was asked of the registry (a 404 today, anyone's code once published; the packages review,
  // 2026-12-07). The examples' .npmrc, which README.md tells an app to write, points the scope at nothing.
  it("install @kura/connect without @kura/common under the examples' .npmrc: the install fails, and asks no registry for @kura/common", async () => {
    const app = join(outside, 'app-scope');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'an-app-missing-a-tarball', private: true }));
    await writeFile(join(app, '.npmrc'), readFileSync(join(ROOT, 'apps/examples/express-session/.npmrc'), 'utf8'));
    const connect = packed.tarballs.find((tarball) => /kura-connect-/.test(tarball))!;

    const failure = await npm(['install', '--no-audit', '--no-fund', '--fetch-retries=0', connect], app).then(
      () => undefined,
      (error: { stderr?: string }) => error.stderr ?? '',
    );

    expect(failure).toContain('127.0.0.1:9/@kura%2fcommon');
    expect(failure).not.toContain('registry.npmjs.org/@kura');
    expect(existsSync(join(app, 'node_modules/@kura/common'))).toBe(false);
  });

  // lib-dynamodb was a dependency, so npm gave it at its newest, which takes a client-dynamodb at least as new: an app
  // keeping an older client got a lib-dynamodb over its unmet peer, with a warning, and an `npm ls` that fails (the
  // packages review, 2026-12-07). As a peer it is the app's, matched to its client, or the install says so.
  it('install @kura/dynamodb in an app that keeps an older client-dynamodb: refused, naming lib-dynamodb, or a tree npm ls finds whole; with the same lib-dynamodb, whole', async () => {
    const app = join(outside, 'app-older-sdk');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'an-app-on-an-older-sdk', private: true }));
    const tarballs = packed.tarballs.filter((tarball) => /kura-(common|connect|dynamodb)-/.test(tarball));
    const install = (others: string[]) => npm(['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs, ...others], app).then(() => '', (error: { stderr?: string }) => error.stderr ?? 'failed');
    const whole = () => npm(['ls', '--all'], app).then(() => true, () => false);

    const alone = await install(['@aws-sdk/client-dynamodb@3.1169.0']);
    expect(alone === '' ? await whole() : /ERESOLVE[\s\S]*@aws-sdk\/lib-dynamodb/.test(alone)).toBe(true);
    expect(await install(['@aws-sdk/client-dynamodb@3.1169.0', '@aws-sdk/lib-dynamodb@3.1169.0'])).toBe('');
    expect(await whole()).toBe(true);
  }, 120_000);

  // npm nests a second @kura/common when two @kura packages ask for different versions of it (one upgraded alone):
  // @kura/dynamodb then threw its copy's StoreUnavailableError, which the app's `instanceof` (and @kura/session's
  // filter) did not recognise, and an outage answered 500 (the packages review, 2026-12-07).
  it('recognise a store outage as StoreUnavailableError when @kura/dynamodb has a @kura/common of its own', async () => {
    const app = join(outside, 'app-two-commons');
    await cp(join(outside, 'app-dynamodb'), app, { recursive: true });
    const nested = join(app, 'node_modules/@kura/dynamodb/node_modules/@kura/common');
    await cp(join(app, 'node_modules/@kura/common'), nested, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(nested, 'package.json'), 'utf8')) as { version: string };
    await writeFile(join(nested, 'package.json'), JSON.stringify({ ...manifest, version: '0.1.1' }));
    const script = `import { StoreUnavailableError } from '@kura/common';
import { KuraStore } from '@kura/connect';
const store = new KuraStore({ tableName: 'two-commons', connection: { region: 'us-east-1', endpoint: 'http://127.0.0.1:1', credentials: { accessKeyId: 'kuralocal', secretAccessKey: 'kuralocal' }, timeoutMs: 500 } });
const error = await store.get('a-session-id').then(() => undefined, (error) => error);
const ofTheCopy = (await import(new URL('node_modules/@kura/dynamodb/node_modules/@kura/common/dist/index.js', 'file://${app}/').href)).StoreUnavailableError;
console.log(JSON.stringify({ name: error?.name, recognised: error instanceof StoreUnavailableError, twoClasses: ofTheCopy !== StoreUnavailableError, madeByTheCopy: Object.getPrototypeOf(error) === ofTheCopy.prototype }));
store.close();`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: app });

    expect(JSON.parse(stdout)).toEqual({ name: 'StoreUnavailableError', recognised: true, twoClasses: true, madeByTheCopy: true });
  });

  it('install KuraStore on an ioredis app without node-redis, and connectRedis there says what to install', async () => {
    const app = join(outside, 'app-ioredis');
    const script = `import { connectRedis, createRedisClient } from '@kura/redis';
const refused = (error) => error.message;
console.log(JSON.stringify({ open: await connectRedis({ url: 'redis://127.0.0.1:1' }).open().then(() => 'opened', refused), client: await createRedisClient().then(() => 'made', refused) }));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: app });

    expect(existsSync(join(app, 'node_modules/redis'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/@redis'))).toBe(false);
    const message = '@kura/redis: connectRedis and createRedisClient need node-redis: npm install redis (or give the stores your own ioredis client with fromIoredis)';
    expect(JSON.parse(stdout)).toEqual({ open: message, client: message });
  });

  (redisServerMissing() ? it.skip : it).each([
    ['app', 6],
    ['app-redis5', 5],
    ['app-ioredis', 6],
  ])("keep an express-session session in Redis through the installed KuraStore on an app's own ioredis client (%s: ioredis %i)", async (folder, major) => {
    const server = await startRedisServer();
    try {
      const script = `import { createRequire } from 'node:module';
import { KuraStore } from '@kura/connect';
import { fromIoredis, RedisConnectSessionStore } from '@kura/redis';
import { Redis } from 'ioredis';
const client = new Redis('${server.url}', { enableOfflineQueue: false, lazyConnect: true });
await client.connect();
const store = new KuraStore({ adapter: new RedisConnectSessionStore(fromIoredis(client)) });
await store.set('sid-1', { cookie: { originalMaxAge: 60000, expires: new Date(Date.now() + 60000).toISOString(), httpOnly: true, path: '/' }, user: 'ada' });
const read = await store.get('sid-1');
const keys = await client.keys('kura:connect:*');
await store.destroy('sid-1');
const ioredis = Number(createRequire(import.meta.url)('ioredis/package.json').version.split('.')[0]);
console.log(JSON.stringify({ ioredis, user: read?.user, keys: keys.length, after: (await store.get('sid-1')) ?? null }));
client.disconnect();`;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: join(outside, folder) });

      expect(JSON.parse(stdout)).toEqual({ ioredis: major, user: 'ada', keys: 1, after: null });
    } finally {
      await server.stop();
    }
  }, 60_000);

  (redisServerMissing() ? it.skip : it).each([
    ['app', 6, 24],
    ['app-redis5', 5, 24],
    ['app', 6, 22],
  ])('keep an express-session session in Redis through the installed KuraStore and @kura/redis, as the README has it (%s: node-redis %i, Node %i)', async (folder, major, node) => {
    const server = await startRedisServer();
    try {
      const script = `import { createRequire } from 'node:module';
import { KuraStore } from '@kura/connect';
import { connectRedis, RedisConnectSessionStore } from '@kura/redis';
const redis = connectRedis({ url: '${server.url}' });
await redis.open();
const store = new KuraStore({ adapter: new RedisConnectSessionStore(redis, { keyPrefix: 'kura:', commandTimeoutMs: 1000 }) });
const session = { cookie: { originalMaxAge: 60000, expires: new Date(Date.now() + 60000).toISOString(), httpOnly: true, path: '/' }, user: 'ada' };
await store.set('sid-1', session);
const read = await store.get('sid-1');
const keys = await redis.sendCommand(['KEYS', 'kura:connect:*']);
const protocol = /\\bresp=(\\d)/.exec(String(await redis.sendCommand(['CLIENT', 'INFO'])))?.[1];
await store.destroy('sid-1');
const nodeRedis = Number(createRequire(import.meta.url)('redis/package.json').version.split('.')[0]);
console.log(JSON.stringify({ node: Number(process.versions.node.split('.')[0]), nodeRedis, protocol, user: read?.user, keys: keys.length, ensured: (await store.ensureTable()) ?? null, after: (await store.get('sid-1')) ?? null }));
await redis.close();`;
      const binary = node === 24 ? process.execPath : join(node22, 'node');
      const { stdout } = await run(binary, ['--input-type=module', '-e', script], { cwd: join(outside, folder) });

      expect(JSON.parse(stdout)).toEqual({ node, nodeRedis: major, protocol: '2', user: 'ada', keys: 1, ensured: null, after: null });
    } finally {
      await server.stop();
    }
  }, 120_000);

  (redisServerMissing() ? it.skip : it)("move a connect-redis session with migrateFrom, as libs/connect's README has it, and log it out there too; follow one with move: false", async () => {
    const server = await startRedisServer();
    try {
      const script = `import { KuraStore } from '@kura/connect';
import { connectRedis, RedisConnectSessionStore } from '@kura/redis';
import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
const appRedis = createClient({ url: '${server.url}' });
await appRedis.connect();
const previous = new RedisStore({ client: appRedis });
const redis = connectRedis({ url: '${server.url}' });
await redis.open();
const store = new KuraStore({ adapter: new RedisConnectSessionStore(redis), userOf: (session) => session.user, migrateFrom: { store: previous } });
// A session connect-redis holds from before the switch.
const cookie = { originalMaxAge: 60000, expires: new Date(Date.now() + 60000).toISOString(), httpOnly: true, path: '/' };
await new Promise((resolve, reject) => previous.set('sid-old', { cookie, user: 'ada', cart: ['tea'] }, (error) => (error ? reject(error) : resolve())));
const moved = await store.get('sid-old');
const stub = JSON.parse(await appRedis.get('sess:sid-old'));
const sessions = (await store.sessionsOf('ada')).length;
await store.destroy('sid-old');
// A following replica (step 1 of the two-step rollout): serves what is there, writes a login there.
const follower = new KuraStore({ adapter: new RedisConnectSessionStore(redis), userOf: (session) => session.user, migrateFrom: { store: previous, move: false } });
await new Promise((resolve, reject) => previous.set('sid-kept', { cookie, user: 'bob' }, (error) => (error ? reject(error) : resolve())));
const followed = (await follower.get('sid-kept'))?.user;
await follower.set('sid-login', { cookie, user: 'cy' });
const loginThere = JSON.parse(await appRedis.get('sess:sid-login')).user;
console.log(JSON.stringify({ user: moved?.user, cart: moved?.cart, stubUser: stub.user ?? null, sessions, after: (await store.get('sid-old')) ?? null, there: await appRedis.get('sess:sid-old'), followed, loginThere }));
appRedis.destroy();
await redis.close();`;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: join(outside, 'app') });

      expect(JSON.parse(stdout)).toEqual({ user: 'ada', cart: ['tea'], stubUser: null, sessions: 1, after: null, there: null, followed: 'bob', loginThere: 'cy' });
    } finally {
      await server.stop();
    }
  }, 60_000);
});
