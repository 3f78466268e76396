import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freshTables, kuraEnv, testEndpoint } from './support/engine.js';
import { startFaultProxy } from './support/fault-proxy.js';
import { HttpClient, uniqueEmail } from './support/http-client.js';
import { startKuraInProcess } from './support/kura-app.js';

/**
 * The operator's command (ASVS 7.4.5: administrators can end the sessions of one user, or of all), run as its
 * own process against the store a running Kura uses: the running service refuses the sessions at once.
 */
const run = promisify(execFile);
const ADMIN = new URL('../dist/apps/api/src/admin.js', import.meta.url).pathname;
let app: NestFastifyApplication;
let baseUrl: string;
let env: Record<string, string>;

beforeAll(async () => {
  env = kuraEnv(await freshTables());
  ({ app, baseUrl } = await startKuraInProcess(env));
}, 60_000);
afterAll(() => app?.close());

const admin = (...args: string[]) =>
  run(process.execPath, [ADMIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env } }).then(
    ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );

describe('npm run sessions', () => {
  it('revoke-user ends every session of that user only, on the running service at once', async () => {
    const ada = uniqueEmail('ada');
    const laptop = new HttpClient(baseUrl);
    await laptop.signUpAndLogIn(ada);
    const phone = new HttpClient(baseUrl);
    await phone.post('/auth/login', { email: ada, password: 'correct horse battery' });
    const bob = new HttpClient(baseUrl);
    await bob.signUpAndLogIn(uniqueEmail('bob'));

    const result = await admin('revoke-user', ada.toUpperCase());
    expect(result).toMatchObject({ code: 0, stdout: `ended 2 session(s) of ${ada}\n` });
    expect((await laptop.get('/auth/me')).status).toBe(401);
    expect((await phone.get('/auth/me')).status).toBe(401);
    expect((await bob.get('/auth/me')).status).toBe(200);
  });

  it('revoke-all ends every session of everyone, and keeps the accounts (they can log in again)', async () => {
    const carol = uniqueEmail('carol');
    const one = new HttpClient(baseUrl);
    await one.signUpAndLogIn(carol);
    await one.request('PATCH', '/session/data', { json: { cart: ['tea'] }, headers: { 'content-type': 'application/merge-patch+json' } });
    const two = new HttpClient(baseUrl);
    await two.signUpAndLogIn(uniqueEmail('dave'));

    const result = await admin('revoke-all');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ended \d+ session\(s\)\n$/);
    expect((await one.get('/auth/me')).status).toBe(401);
    expect((await two.get('/auth/me')).status).toBe(401);

    const again = new HttpClient(baseUrl);
    expect((await again.post('/auth/login', { email: carol, password: 'correct horse battery' })).status).toBe(200);
    expect((await again.get('/session/data')).body.data).toEqual({}); // the old session's data went with it
  });

  it('says that a revoke-all the store stopped part way may have ended some sessions, and that running it again ends the rest', async () => {
    // A sweep of a large table that DynamoDB throttles part way said only "the store could not answer", as if
    // nothing had happened, and not that running it again is safe.
    const proxy = await startFaultProxy(testEndpoint());
    try {
      const users = [new HttpClient(baseUrl), new HttpClient(baseUrl), new HttpClient(baseUrl)];
      for (const user of users) await user.signUpAndLogIn(uniqueEmail('erin'));
      let updates = 0;
      let throttling = true;
      // Each session ends by a conditional UpdateItem: the first two pass, then DynamoDB throttles every one.
      proxy.refuse((operation) => throttling && operation === 'UpdateItem' && ++updates > 2, 'ThrottlingException', 10_000);
      const viaProxy = (...args: string[]) =>
        run(process.execPath, [ADMIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env, DYNAMODB_ENDPOINT: proxy.endpoint } }).catch((error: { code: number; stderr: string }) => error);

      expect(await viaProxy('revoke-all')).toMatchObject({
        code: 1,
        stderr: 'the store could not answer: throttled by DynamoDB (ThrottlingException); sessions it ended before it stopped, if any, stay ended: run it again (safe: it ends the rest)\n',
      });
      const live = await Promise.all(users.map(async (user) => (await user.get('/auth/me')).status));
      expect(live).toContain(200);

      throttling = false;
      expect(await viaProxy('revoke-all')).toMatchObject({ stdout: expect.stringMatching(/^ended \d+ session\(s\)\n$/) });
      for (const user of users) expect((await user.get('/auth/me')).status).toBe(401);
    } finally {
      await proxy.close();
    }
  });

  it('says in one line why the store cannot answer (its tables were never created)', async () => {
    const result = await run(process.execPath, [ADMIN, 'revoke-user', 'ada@example.com'], {
      env: { PATH: process.env.PATH ?? '', ...env, KURA_USERS_TABLE: 'never-created-users' },
    }).catch((error: { code: number; stderr: string }) => error);

    // Each store names its table (an outside review found the reason saying only "a table Kura uses", 2026-12-06).
    expect(result).toMatchObject({ code: 1, stderr: expect.stringMatching(/^the store could not answer: table [\w.-]+ does not exist: run npm run db:init\n$/) });
  });

  it('says what is wrong: an unknown account (1), a wrong command (2)', async () => {
    expect(await admin('revoke-user', 'nobody@example.com')).toMatchObject({ code: 1, stderr: 'no account for nobody@example.com\n' });
    expect(await admin('revoke-everything')).toMatchObject({ code: 2, stderr: 'usage: npm run sessions -- <command> (in the container image: node server/admin.mjs <command>); <command>: list-user <email> | revoke-session <email> <id> | revoke-user <email> | revoke-all | delete-account <email>\n' });
  });
});
