import type { DynamoDbCallTotals } from '@kura/dynamodb';
import { KURA_STORES, type KuraStores } from '../apps/api/src/storage/storage.module.js';
import { freshTables, kuraEnv } from './support/engine.js';
import { HttpClient, type TestResponse, uniqueEmail } from './support/http-client.js';
import { startKuraInProcess } from './support/kura-app.js';

/** What each request costs in DynamoDB calls, counted by the store itself (write budget, consistency, hygiene). */
async function kuraWith(extra: Record<string, string> = {}) {
  const { app, baseUrl } = await startKuraInProcess(kuraEnv(await freshTables(), undefined, extra));
  const calls = app.get<KuraStores>(KURA_STORES).calls!;
  /** Runs `act` and returns the calls it caused. */
  const measure = async (act: () => Promise<unknown>): Promise<DynamoDbCallTotals> => {
    calls.reset();
    await act();
    return calls.snapshot();
  };
  return { app, baseUrl, measure };
}

describe('the write budget', () => {
  let kura: Awaited<ReturnType<typeof kuraWith>>;
  beforeAll(async () => {
    kura = await kuraWith({ KURA_SESSION_IDLE_TIMEOUT: '60', KURA_SESSION_REFRESH_INTERVAL: '1' });
  });
  afterAll(() => kura.app.close());

  it('serves GET /auth/me at steady state with exactly one read and no write', async () => {
    // Its own instance with the default refresh interval: on a loaded machine 20 requests can outlast 1 s.
    const steady = await kuraWith();
    const browser = new HttpClient(steady.baseUrl);
    await browser.signUpAndLogIn(uniqueEmail());

    const totals = await steady.measure(async () => {
      for (let i = 0; i < 20; i += 1) expect((await browser.get('/auth/me')).status).toBe(200);
    });

    expect(totals).toMatchObject({ reads: 20, writes: 0, byOperation: { GetItem: { calls: 20, failures: 0 } } });
    expect(totals.readCapacityUnits).toBe(20);
    await steady.app.close();
  });

  it('extends the idle expiry with one conditional write once the refresh interval has passed, and sets no cookie', async () => {
    const browser = new HttpClient(kura.baseUrl);
    const login = await browser.signUpAndLogIn(uniqueEmail());
    await new Promise((resolve) => setTimeout(resolve, 1100));

    let response!: TestResponse;
    const totals = await kura.measure(async () => {
      response = await browser.get('/auth/me');
    });

    expect(totals).toMatchObject({ reads: 1, writes: 1, byOperation: { UpdateItem: { calls: 1 } } });
    expect(Date.parse(response.body.session.idleExpiresAt)).toBeGreaterThan(Date.parse(login.session.idleExpiresAt));
    // The login's cookie lasts to the absolute expiry: renewed here, arriving late, it could undo a login (test/review-defects).
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it('does not renew anything for a bearer session beyond the store write', async () => {
    const api = new HttpClient(kura.baseUrl);
    const email = uniqueEmail();
    await api.post('/auth/register', { email, password: 'correct horse battery' });
    const { body } = await api.post('/auth/login', { email, password: 'correct horse battery', transport: 'bearer' });
    await new Promise((resolve) => setTimeout(resolve, 1100));

    const me = await api.get('/auth/me', { headers: { authorization: `Bearer ${body.token}` } });

    expect(me.status).toBe(200);
    expect(me.headers.getSetCookie()).toEqual([]);
  });
});

describe('the cost of session data', () => {
  it('reads the session and its data in one round trip: GET is one BatchGetItem, PATCH one BatchGetItem and one UpdateItem', async () => {
    const kura = await kuraWith();
    try {
      const browser = new HttpClient(kura.baseUrl);
      await browser.signUpAndLogIn(uniqueEmail());
      const patch = (cart: string[]) => browser.request('PATCH', '/session/data', { body: JSON.stringify({ cart }), headers: { 'content-type': 'application/merge-patch+json' } });
      const calls = (totals: DynamoDbCallTotals) => Object.fromEntries(Object.entries(totals.byOperation).map(([operation, { calls }]) => [operation, calls]));

      expect(calls(await kura.measure(async () => expect((await patch(['tea'])).status).toBe(200)))).toEqual({ BatchGetItem: 1, UpdateItem: 1 });
      expect(calls(await kura.measure(async () => expect((await patch(['tea', 'jam'])).status).toBe(200)))).toEqual({ BatchGetItem: 1, UpdateItem: 1 });
      // A patch that changes nothing writes nothing: the read alone.
      expect(calls(await kura.measure(async () => expect((await patch(['tea', 'jam'])).status).toBe(200)))).toEqual({ BatchGetItem: 1 });
      const read = await kura.measure(async () => expect((await browser.get('/session/data')).body).toEqual({ data: { cart: ['tea', 'jam'] }, version: 2 }));
      expect(calls(read)).toEqual({ BatchGetItem: 1 });
      expect(read.readCapacityUnits).toBe(2);
    } finally {
      await kura.app.close();
    }
  });
});

describe('the cost of a login', () => {
  it('reads the failure counters and the user, reserves the attempt, writes and registers the session: nothing else', async () => {
    const kura = await kuraWith();
    try {
      const api = new HttpClient(kura.baseUrl);
      const email = uniqueEmail();
      await api.post('/auth/register', { email, password: 'correct horse battery' });

      const totals = await kura.measure(() => api.post('/auth/login', { email, password: 'correct horse battery' }));

      expect(Object.fromEntries(Object.entries(totals.byOperation).map(([operation, { calls }]) => [operation, calls]))).toEqual({
        BatchGetItem: 1, // failed-login counters: this account from this client, the account's total, the client's
        GetItem: 1, // the user
        // Reserving the attempt in those three counters (atomically, below their limits), withdrawing it from the
        // account's total and the client's once the password was right (the other failures there are not the
        // owner's to forgive: since 2026-12-05, so that one address cannot lock the owner out), and the register.
        UpdateItem: 6,
        BatchWriteItem: 1, // clearing this account's failures from this client after a good password
        PutItem: 1, // the session
      });
    } finally {
      await kura.app.close();
    }
  });
});

describe('token hygiene', () => {
  let kura: Awaited<ReturnType<typeof kuraWith>>;
  let token: string;
  beforeAll(async () => {
    kura = await kuraWith();
    const api = new HttpClient(kura.baseUrl);
    const email = uniqueEmail();
    await api.post('/auth/register', { email, password: 'correct horse battery' });
    token = (await api.post('/auth/login', { email, password: 'correct horse battery', transport: 'bearer' })).body.token;
  });
  afterAll(() => kura.app.close());

  it.each(['token', 'access_token', 'session', '__Host-kura_session', 'sid'])('never accepts a token in the URL (?%s=)', async (name) => {
    const response = await new HttpClient(kura.baseUrl).get(`/auth/me?${name}=${token}`);

    expect(response.status).toBe(401);
  });

  it('rejects unknown but well-formed tokens without writing anything', async () => {
    const totals = await kura.measure(async () => {
      const response = await new HttpClient(kura.baseUrl).get('/auth/me', { headers: { authorization: `Bearer ${'Z'.repeat(43)}` } });
      expect(response.status).toBe(401);
    });

    expect(totals).toMatchObject({ reads: 1, writes: 0 });
  });

  it('rejects malformed tokens without any store call', async () => {
    const totals = await kura.measure(async () => {
      await new HttpClient(kura.baseUrl).get('/auth/me', { headers: { cookie: '__Host-kura_session=short' } });
    });

    expect(totals).toMatchObject({ reads: 0, writes: 0 });
  });

  it('uses the bearer token when a request carries both (documented rule), whatever the cookie says', async () => {
    const both = { authorization: `Bearer ${token}`, cookie: `__Host-kura_session=${'Y'.repeat(43)}` };
    expect((await new HttpClient(kura.baseUrl).get('/auth/me', { headers: both, cookies: false })).status).toBe(200);

    const badBearer = { authorization: `Bearer ${'X'.repeat(43)}`, cookie: `__Host-kura_session=${token}` };
    expect((await new HttpClient(kura.baseUrl).get('/auth/me', { headers: badBearer, cookies: false })).status).toBe(401);
  });
});

describe('read consistency is a setting', () => {
  it.each([
    ['true', 1],
    ['false', 0.5],
  ])('KURA_CONSISTENT_READS=%s costs %p read units per authenticated request', async (setting, units) => {
    const kura = await kuraWith({ KURA_CONSISTENT_READS: setting });
    try {
      const browser = new HttpClient(kura.baseUrl);
      await browser.signUpAndLogIn(uniqueEmail());

      const totals = await kura.measure(() => browser.get('/auth/me'));

      expect(totals).toMatchObject({ reads: 1, writes: 0, readCapacityUnits: units });
    } finally {
      await kura.app.close();
    }
  });
});
