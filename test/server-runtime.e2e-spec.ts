import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { serverRuntimePackages } from '../scripts/runtime-modules.mjs';
import { freshTables, kuraEnv, LOCAL_CREDENTIALS } from './support/engine.js';
import { HttpClient, uniqueEmail } from './support/http-client.js';
import { type KuraProcess, startKuraProcess } from './support/kura-process.js';

/**
 * The bundled server and operator commands with the image's node_modules and nothing else: what
 * scripts/runtime-modules.mjs copies (serverRuntimePackages and their dependencies), in a folder outside the
 * repository, laid out as the image's /app. A package the bundle loads at run time and the list leaves out fails
 * here, where Node would otherwise find it in the repository's own node_modules. (test/container-image builds the
 * image itself, with podman.)
 */
const run = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;
let app: string;
let kura: KuraProcess;
let env: Record<string, string>;

beforeAll(async () => {
  app = await mkdtemp(join(tmpdir(), 'kura-runtime-'));
  await run(process.execPath, ['scripts/runtime-modules.mjs', app], { cwd: ROOT });
  await cp(join(ROOT, '.build/server'), join(app, 'server'), { recursive: true });
  env = kuraEnv(await freshTables(), undefined, { AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey, KURA_DOCS_UI: 'true', KURA_COOKIE_SECURE: 'false' });
  kura = await startKuraProcess(env, { main: join(app, 'server/main.mjs') });
}, 60_000);
afterAll(async () => {
  await kura?.stop();
  if (app) await rm(app, { recursive: true, force: true });
});

const admin = (...args: string[]) =>
  run(process.execPath, ['server/admin.mjs', ...args], { cwd: app, env: { PATH: process.env.PATH ?? '', ...env } }).then(
    ({ stdout }) => ({ code: 0, stdout }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout + error.stderr }),
  );

describe('the bundled server with only the packages it loads at run time', () => {
  it('holds those packages and what they depend on, and nothing of Nest, the AWS SDK or node-redis', async () => {
    const { stdout } = await run('find', [join(app, 'node_modules'), '-maxdepth', '2', '-name', 'package.json']);
    const top = stdout.split('\n').filter(Boolean).map((file) => file.slice(join(app, 'node_modules/').length, -'/package.json'.length));
    expect(top).toEqual(expect.arrayContaining([...serverRuntimePackages]));
    for (const bundled of ['@nestjs', 'fastify', '@aws-sdk', 'redis', 'typescript']) expect(top.filter((name) => name === bundled || name.startsWith(`${bundled}/`))).toEqual([]);
  });

  it("has a package.json of its own: what the app is and the packages it holds, none of the repository's scripts", async () => {
    const manifest = JSON.parse(await readFile(join(app, 'package.json'), 'utf8')) as Record<string, unknown>;
    const versions = await Promise.all(serverRuntimePackages.map(async (name) => JSON.parse(await readFile(join(app, 'node_modules', name, 'package.json'), 'utf8')).version as string));
    expect(manifest).toEqual({
      name: 'kura',
      version: expect.any(String),
      description: expect.any(String),
      license: 'MIT',
      private: true,
      type: 'module',
      main: 'server/main.mjs',
      dependencies: Object.fromEntries(serverRuntimePackages.map((name, index) => [name, versions[index]])),
    });
  });

  it('serves logins on DynamoDB and the explorer with its files', async () => {
    const http = new HttpClient(kura.baseUrl);
    await http.signUpAndLogIn(uniqueEmail('runtime'));
    expect((await http.get('/auth/me')).status).toBe(200);
    expect((await http.get('/docs/')).status).toBe(200);
    const script = await http.get('/docs/swagger-ui-bundle.js');
    expect({ status: script.status, type: script.headers.get('content-type') }).toEqual({ status: 200, type: expect.stringMatching(/javascript/) });
  });

  it('runs the operator commands: a session listed, then revoked on the running server', async () => {
    const email = uniqueEmail('runtime-admin');
    const http = new HttpClient(kura.baseUrl);
    await http.signUpAndLogIn(email);
    expect(await admin('list-user', email)).toMatchObject({ code: 0, stdout: expect.stringMatching(/^1 live session\(s\) of /) });
    // Its hints name the command as run in the image, not npm run sessions (which the image cannot run).
    expect(await admin('revoke-session', email, 'no-such-session')).toEqual({ code: 1, stdout: `${email} has no session no-such-session (node server/admin.mjs list-user ${email} lists them)\n` });
    expect(await admin('revoke-user', email)).toEqual({ code: 0, stdout: `ended 1 session(s) of ${email}\n` });
    expect((await http.get('/auth/me')).status).toBe(401);
    // The embedded engine's path loads dynalite and LevelDB from those node_modules: no engine serves this folder.
    const embedded = await run(process.execPath, ['server/admin.mjs', 'list-user', email], { cwd: app, env: { PATH: process.env.PATH ?? '', KURA_STORE: 'embedded', KURA_DATA_DIR: join(app, 'data') } }).catch((error: { code: number; stderr: string }) => error);
    expect(embedded).toMatchObject({ code: 1, stderr: expect.stringContaining('nothing is serving') });
  });
});
