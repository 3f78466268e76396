import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BACKENDS } from './support/backends.js';
import { freshTables, kuraEnv, testEndpoint } from './support/engine.js';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy.js';
import { HttpClient, uniqueEmail } from './support/http-client.js';
import { startKuraInProcess } from './support/kura-app.js';

/**
 * DELETE /auth/account (docs/http-api.md): the account, every session of it on every replica, and their data go;
 * no login succeeds from the moment it begins, one in flight is refused, and the email can be registered again
 * as a new account. On every store, across two Kura processes sharing it.
 */
const PASSWORD = 'correct horse battery';
const patch = (client: HttpClient, body: unknown) => client.request('PATCH', '/session/data', { json: body, headers: { 'content-type': 'application/merge-patch+json' } });

describe.each(BACKENDS)('on $name', (backend) => {
  const apps: NestFastifyApplication[] = [];
  let a: string;
  let b: string;
  beforeAll(async () => {
    const env = await backend.env({ KURA_REAUTH_WINDOW: '2' });
    const first = await startKuraInProcess(env);
    const second = await startKuraInProcess(env);
    apps.push(first.app, second.app);
    [a, b] = [first.baseUrl, second.baseUrl];
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
  });

  it('ends every session of the account on every replica with its data, refuses its password, and frees its email', async () => {
    const email = uniqueEmail('leaving');
    const laptop = new HttpClient(a);
    await laptop.signUpAndLogIn(email, PASSWORD);
    expect((await patch(laptop, { cart: ['tea'] })).status).toBe(200);
    const phone = new HttpClient(b);
    const bearer = (await phone.post('/auth/login', { email, password: PASSWORD, transport: 'bearer' })).body.token as string;

    const deleted = await laptop.request('DELETE', '/auth/account');

    expect(deleted.status).toBe(204);
    expect(deleted.headers.getSetCookie().join('\n')).toMatch(/__Host-kura_session=;.*Max-Age=0|__Host-kura_session=;.*Expires=Thu, 01 Jan 1970/);
    for (const base of [a, b]) {
      expect((await new HttpClient(base).get('/auth/me', { headers: { authorization: `Bearer ${bearer}` }, cookies: false })).status).toBe(401);
    }
    expect((await laptop.get('/auth/me')).status).toBe(401);
    expect((await new HttpClient(b).post('/auth/login', { email, password: PASSWORD })).status).toBe(401);

    // The email is free: a new account, with nothing of the old one's sessions or data.
    const again = new HttpClient(b);
    const fresh = await again.signUpAndLogIn(email, 'a different passphrase');
    expect(fresh.user.email).toBe(email);
    expect((await again.get('/session/data')).body.data).toEqual({});
    expect((await again.get('/auth/sessions')).body.sessions).toHaveLength(1);
  });

  it('needs the password proved recently (403), and then deletes nothing', async () => {
    const email = uniqueEmail('staying');
    const browser = new HttpClient(a);
    await browser.signUpAndLogIn(email, PASSWORD);
    await new Promise((resolve) => setTimeout(resolve, 2100)); // past KURA_REAUTH_WINDOW

    const refused = await browser.request('DELETE', '/auth/account');

    expect(refused.status).toBe(403);
    expect(refused.body.type).toBe('urn:kura:problem:reauthentication-required');
    expect((await browser.get('/auth/me')).status).toBe(200);
    expect((await new HttpClient(b).post('/auth/login', { email, password: PASSWORD })).status).toBe(200);
  });

  it('is refused cross-site for a cookie session (403), like every state change', async () => {
    const browser = new HttpClient(a);
    await browser.signUpAndLogIn(uniqueEmail('forged'), PASSWORD);

    const forged = await browser.request('DELETE', '/auth/account', { headers: { 'sec-fetch-site': 'cross-site' } });

    expect(forged.status).toBe(403);
    expect((await browser.get('/auth/me')).status).toBe(200);
  });
});

// The dangerous interleaving, forced: a login that has checked the password and written its session is held
// before it registers; the deletion runs to the end meanwhile. Released, the login must not hand out a session.
describe('a login in flight while the account is deleted (DynamoDB Local, a proxy holding its register write)', () => {
  let proxy: FaultProxy;
  let app: NestFastifyApplication;
  let baseUrl: string;
  beforeAll(async () => {
    proxy = await startFaultProxy(testEndpoint());
    ({ app, baseUrl } = await startKuraInProcess(kuraEnv(await freshTables(), proxy.endpoint, { KURA_DYNAMODB_TIMEOUT_MS: '5000' })));
  });
  afterAll(async () => {
    await app?.close();
    await proxy?.close();
  });

  it('is refused: no token leaves, and no session of the deleted account is live', async () => {
    const email = uniqueEmail('racing');
    const owner = new HttpClient(baseUrl);
    await owner.signUpAndLogIn(email, PASSWORD);
    const userId = (await owner.get('/auth/me')).body.user.id as string;
    // The login's registration (an UpdateItem of the user's register naming a session), not the deletion's own.
    const { held, release } = proxy.hold((operation, body) => operation === 'UpdateItem' && body.includes(`user#${userId}`) && !body.includes('s:closed'));
    const thief = new HttpClient(baseUrl);
    const login = thief.post('/auth/login', { email, password: PASSWORD, transport: 'bearer' });
    await held;

    expect((await owner.request('DELETE', '/auth/account')).status).toBe(204);
    release();
    const answered = await login;

    expect(answered.status).toBe(401);
    expect(answered.body.token).toBeUndefined();
    expect((await owner.get('/auth/me')).status).toBe(401);
  });
});

// The review of 2026-12-05: every account operation of a session found its account by the session's email. A
// deletion that failed after the account's removal (503: "sent again, it finishes") left its asking session live,
// someone registered the email again, and the retry deleted the newcomer's account and ended their sessions.
describe('a deletion sent again after its email was registered again (DynamoDB Local, a proxy failing every call after the removal)', () => {
  let proxy: FaultProxy;
  let app: NestFastifyApplication;
  let baseUrl: string;
  let failing = false;
  beforeAll(async () => {
    proxy = await startFaultProxy(testEndpoint());
    const tables = await freshTables();
    ({ app, baseUrl } = await startKuraInProcess(kuraEnv(tables, proxy.endpoint, { KURA_DYNAMODB_MAX_ATTEMPTS: '1' })));
    // Once the account's item is removed, every later call fails, until `failing` is reset.
    proxy.refuse(
      (operation, body) => {
        if (operation === 'DeleteItem' && body.includes(tables.users) && !failing) {
          failing = true;
          return false;
        }
        return failing;
      },
      'ProvisionedThroughputExceededException',
      1000,
    );
  });
  afterAll(async () => {
    await app?.close();
    await proxy?.close();
  });

  it("leaves the newcomer's account and sessions alone, and ends the session that asked", async () => {
    const email = uniqueEmail('recycled');
    const old = new HttpClient(baseUrl);
    await old.signUpAndLogIn(email, PASSWORD);
    const first = await old.request('DELETE', '/auth/account');
    failing = false;
    proxy.set('pass');
    const newcomer = new HttpClient(baseUrl);
    await newcomer.signUpAndLogIn(email, 'the newcomer passphrase');

    const retried = await old.request('DELETE', '/auth/account');

    expect(first.status).toBe(503);
    expect(retried.status).toBe(204);
    expect((await old.get('/auth/me')).status).toBe(401);
    expect((await newcomer.get('/auth/me')).status).toBe(200);
    expect((await new HttpClient(baseUrl).post('/auth/login', { email, password: 'the newcomer passphrase' })).status).toBe(200);
  });
});

// A deletion whose every step landed but the last call, dropping the asking session from the register (a cleanup:
// an entry left names a tombstone, which every sweep ends again as not live), answered 503; sent again, as the API
// says to, it met a 401 (its session was ended), and the client never heard that its account was gone.
describe('a deletion whose last unregister fails (DynamoDB Local, a proxy refusing it)', () => {
  let proxy: FaultProxy;
  let app: NestFastifyApplication;
  let baseUrl: string;
  beforeAll(async () => {
    proxy = await startFaultProxy(testEndpoint());
    const tables = await freshTables();
    ({ app, baseUrl } = await startKuraInProcess(kuraEnv(tables, proxy.endpoint, { KURA_DYNAMODB_MAX_ATTEMPTS: '2' })));
  });
  afterAll(async () => {
    await app?.close();
    await proxy?.close();
  });

  it('answers 204 once the account and its sessions are gone, and clears the cookie', async () => {
    const email = uniqueEmail('cleanup');
    const leaving = new HttpClient(baseUrl);
    const { session } = await leaving.signUpAndLogIn(email, PASSWORD);
    const { refused } = proxy.refuse((operation, body) => operation === 'UpdateItem' && body.includes('REMOVE') && body.includes(`s:${session.id}`), 'ProvisionedThroughputExceededException', 2);

    const deleted = await leaving.request('DELETE', '/auth/account');

    await refused;
    expect(deleted.status).toBe(204);
    expect(deleted.headers.getSetCookie().join('\n')).toMatch(/__Host-kura_session=;/);
    expect((await leaving.get('/auth/me')).status).toBe(401);
    expect((await new HttpClient(baseUrl).post('/auth/login', { email, password: PASSWORD })).status).toBe(401);
  });
});

// A deletion that failed part way (503) has closed the account: no password opens it any more. Sent again, as the
// API says to, it needed the password proved within KURA_REAUTH_WINDOW; once the window had passed it answered 403
// "reauthentication required", and a re-authentication could never succeed (the password no longer opens the
// account): the deletion could not be finished by its user, and the sessions it had not reached (a thief's) lived on.
describe('a deletion sent again after the re-authentication window (DynamoDB Local, a proxy refusing an ending)', () => {
  let proxy: FaultProxy;
  let app: NestFastifyApplication;
  let baseUrl: string;
  beforeAll(async () => {
    proxy = await startFaultProxy(testEndpoint());
    const tables = await freshTables();
    ({ app, baseUrl } = await startKuraInProcess(kuraEnv(tables, proxy.endpoint, { KURA_DYNAMODB_MAX_ATTEMPTS: '2', KURA_REAUTH_WINDOW: '4' })));
  });
  afterAll(async () => {
    await app?.close();
    await proxy?.close();
  });

  it('finishes it: the sessions it had not reached end, and the email is free', async () => {
    const email = uniqueEmail('late-retry');
    const leaving = new HttpClient(baseUrl);
    await leaving.signUpAndLogIn(email, PASSWORD);
    const thief = new HttpClient(baseUrl);
    const { session } = (await thief.post('/auth/login', { email, password: PASSWORD })).body;
    const { refused } = proxy.refuse((operation, body) => operation === 'UpdateItem' && body.includes('endedBy') && body.includes(session.id), 'ProvisionedThroughputExceededException', 2);

    expect((await leaving.post('/auth/reauthenticate', { password: PASSWORD })).status).toBe(200);
    const first = await leaving.request('DELETE', '/auth/account');
    expect(first.status).toBe(503);
    await refused;
    await new Promise((resolve) => setTimeout(resolve, 4_500)); // past the window
    const again = await leaving.request('DELETE', '/auth/account');

    expect(again.status).toBe(204);
    expect((await thief.get('/auth/me')).status).toBe(401);
    expect((await leaving.get('/auth/me')).status).toBe(401);
    expect((await new HttpClient(baseUrl).post('/auth/register', { email, password: PASSWORD })).status).toBe(201);
  });

  it('still needs the password proved recently to begin one', async () => {
    const leaving = new HttpClient(baseUrl);
    await leaving.signUpAndLogIn(uniqueEmail('late-start'), PASSWORD);
    await new Promise((resolve) => setTimeout(resolve, 4_500));

    expect((await leaving.request('DELETE', '/auth/account')).status).toBe(403);
  });
});

// A deletion whose removal landed while its answer was lost (503) left the account gone and the session that asked
// live. Sent again past KURA_REAUTH_WINDOW, it answered 403 "reauthentication required", which no password could
// ever meet (there is no account left to check it against), the session stayed usable, and no line recorded the
// deletion: an outside review reproduced it on DynamoDB Local.
describe('a deletion sent again after its removal landed with the answer lost (DynamoDB Local, a proxy cutting it)', () => {
  let proxy: FaultProxy;
  let app: NestFastifyApplication;
  let baseUrl: string;
  const printed: string[] = [];
  let write: typeof process.stdout.write;
  beforeAll(async () => {
    write = process.stdout.write;
    // The audit log, read as it is written (JSON lines on standard output), and kept out of the test's own output.
    process.stdout.write = ((chunk: string | Uint8Array) => printed.push(String(chunk)) > 0) as typeof process.stdout.write;
    proxy = await startFaultProxy(testEndpoint());
    const tables = await freshTables();
    ({ app, baseUrl } = await startKuraInProcess(kuraEnv(tables, proxy.endpoint, { KURA_DYNAMODB_MAX_ATTEMPTS: '2', KURA_REAUTH_WINDOW: '3', KURA_AUDIT_LOG: 'true', KURA_LOG_FORMAT: 'json' })));
  });
  afterAll(async () => {
    await app?.close();
    await proxy?.close();
    process.stdout.write = write;
  });

  it('finishes it without a password proof: the session ends, and the deletion is recorded', async () => {
    const email = uniqueEmail('removal-lost');
    const leaving = new HttpClient(baseUrl);
    const { user } = await leaving.signUpAndLogIn(email, PASSWORD);
    const { lost } = proxy.loseAnswer((operation, body) => operation === 'DeleteItem' && body.includes(email), 2);

    expect((await leaving.post('/auth/reauthenticate', { password: PASSWORD })).status).toBe(200);
    expect((await leaving.request('DELETE', '/auth/account')).status).toBe(503);
    await lost;
    expect((await leaving.get('/auth/me')).status).toBe(200); // the account is gone; this session is what is left
    await new Promise((resolve) => setTimeout(resolve, 3_500)); // past the window
    const again = await leaving.request('DELETE', '/auth/account');

    expect(again.status).toBe(204);
    expect((await leaving.get('/auth/me')).status).toBe(401);
    const deleted = printed
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.includes('"account.deleted"'))
      .map((line) => JSON.parse(line).message);
    expect(deleted).toEqual([expect.objectContaining({ action: 'account.deleted', userId: user.id, count: 1 })]);
  });

  // Each of two deletions at once counted the other's session and its own, which the other had ended: 4 sessions
  // recorded for 2 in 105 of 150 tries (an outside review, 2026-12-07). Each line counts what its request ended.
  it('records, of two deletions at once from two devices, exactly the sessions each ended', async () => {
    for (let round = 0; round < 5; round += 1) {
      const email = uniqueEmail(`twice-${round}`);
      const [laptop, phone] = [new HttpClient(baseUrl), new HttpClient(baseUrl)];
      const { user } = await laptop.signUpAndLogIn(email, PASSWORD);
      expect((await phone.post('/auth/login', { email, password: PASSWORD })).status).toBe(200);
      const from = printed.length;

      const answers = await Promise.all([laptop.request('DELETE', '/auth/account'), phone.request('DELETE', '/auth/account')]);

      expect(answers.map(({ status }) => status)).toEqual([204, 204]);
      const deleted = printed
        .slice(from)
        .flatMap((chunk) => chunk.split('\n'))
        .filter((line) => line.includes('"account.deleted"'))
        .map((line) => JSON.parse(line).message as { userId: string; count: number });
      expect(deleted.length).toBeGreaterThan(0);
      expect(deleted.every(({ userId }) => userId === user.id)).toBe(true);
      expect(deleted.reduce((sum, { count }) => sum + count, 0)).toBe(2);
    }
  });
});
