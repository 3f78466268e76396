import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { testEndpoint } from './support/engine.js';
import { HttpClient } from './support/http-client.js';

/**
 * KuraStore under the login most Express apps have: Passport's local strategy, which regenerates the session at
 * login and keeps the user at `session.passport.user`. Two processes of one app (test/fixtures/passport) on one
 * DynamoDB Local table, as two replicas: a password change ends the user's other sessions on both, through
 * `userOf: (session) => session.passport?.user`, and Passport's own logout still works.
 */
const ROOT = join(import.meta.dirname, '..');
const SERVER = join(ROOT, 'test', 'fixtures', 'passport', 'server.mjs');

interface Replica {
  url: string;
  process: ChildProcess;
}

async function startReplica(env: Record<string, string>): Promise<Replica> {
  const child = spawn(process.execPath, [SERVER], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the passport app did not start: ${output}`)), 20_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => reject(new Error(`the passport app exited (${code}): ${output}`)));
  });
  return { url, process: child };
}

let first: Replica;
let second: Replica;
beforeAll(async () => {
  const env = { KURA_CONNECT: join(ROOT, 'dist/libs/connect/src/index.js'), SESSIONS_TABLE: `p${randomBytes(4).toString('hex')}-passport`, DYNAMODB_ENDPOINT: testEndpoint() };
  first = await startReplica({ ...env, CREATE_TABLE: 'true' });
  second = await startReplica(env);
}, 60_000);
afterAll(() => Promise.all([first, second].map((replica) => replica && new Promise((resolve) => (replica.process.once('exit', resolve), replica.process.kill())))));

/** A browser logged in as `user` through Passport on `replica` (one cookie jar for both replicas: same host). */
async function logIn(user: string, replica: Replica): Promise<HttpClient> {
  const browser = new HttpClient('http://127.0.0.1/');
  const login = await browser.request('POST', `${replica.url}/login`, { body: `username=${user}&password=right`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  if (login.status !== 200) throw new Error(`login: ${login.status} ${login.text}`);
  return browser;
}
const statusOn = async (browser: HttpClient, replica: Replica) => (await browser.get(`${replica.url}/me`)).status;

it('ends the other sessions of a Passport user on both replicas after a password change, and keeps this one', async () => {
  const user = `ada-${randomBytes(3).toString('hex')}`;
  const [laptop, phone, here] = [await logIn(user, first), await logIn(user, second), await logIn(user, first)];
  const someoneElse = await logIn(`bob-${randomBytes(3).toString('hex')}`, second);
  expect(((await here.get(`${second.url}/sessions`)).body as { current: boolean }[]).map(({ current }) => current).sort()).toEqual([false, false, true]);

  expect((await here.post(`${second.url}/password`)).body).toEqual({ ended: 2 });

  for (const replica of [first, second]) {
    expect([await statusOn(laptop, replica), await statusOn(phone, replica), await statusOn(here, replica), await statusOn(someoneElse, replica)]).toEqual([401, 401, 200, 200]);
  }
});

it("keeps Passport's own logout working, and a wrong password out of any index", async () => {
  const user = `grace-${randomBytes(3).toString('hex')}`;
  const browser = await logIn(user, second);
  const wrong = new HttpClient('http://127.0.0.1/');
  expect((await wrong.request('POST', `${first.url}/login`, { body: `username=${user}&password=wrong`, headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).toBe(401);

  expect((await browser.post(`${first.url}/logout`)).status).toBe(204);

  expect([await statusOn(browser, first), await statusOn(browser, second)]).toEqual([401, 401]);
  const again = await logIn(user, first);
  expect(((await again.get(`${second.url}/sessions`)).body as unknown[]).length).toBe(1);
});
