import { jest } from '@jest/globals';

/**
 * KURA_PASSWORD_HASH_COST raised under existing accounts (SECURITY.md, "Passwords"). An account's hash keeps the
 * cost it was made at until its next login replaces it; the review of 2026-12 measured, at 12 raised to 16, a
 * wrong password for such an account answered in a median 95 ms and an unknown email in 335 ms. Time is measured
 * in the benchmarks: this counts the work instead, every scrypt computation's N during each login, which must add
 * up to one hash at the raised cost whichever email and password the login names (and one more for the login
 * that upgrades the account's hash, which only the password's owner can make).
 */
const costs: number[] = [];
const realCrypto = process.getBuiltinModule('node:crypto');
jest.unstable_mockModule('node:crypto', () => ({
  ...realCrypto,
  scrypt: (...args: unknown[]) => {
    costs.push((args[3] as { N: number }).N);
    (realCrypto.scrypt as (...all: unknown[]) => void)(...args);
  },
}));
const { GetCommand } = await import('@aws-sdk/lib-dynamodb');
const { freshTables, kuraEnv, testClients } = await import('./support/engine.js');
const { HttpClient, uniqueEmail } = await import('./support/http-client.js');
const { startKuraInProcess } = await import('./support/kura-app.js');

const PASSWORD = 'correct horse battery';
const email = uniqueEmail('old-cost');
let kura: Awaited<ReturnType<typeof startKuraInProcess>>;
let tables: Awaited<ReturnType<typeof freshTables>>;
/** A browser logged in before the cost was raised. */
let earlier: InstanceType<typeof HttpClient>;
const { documents, client } = testClients();
const stored = async () => (await documents.send(new GetCommand({ TableName: tables.users, Key: { email }, ConsistentRead: true }))).Item!;

beforeAll(async () => {
  tables = await freshTables();
  const before = await startKuraInProcess(kuraEnv(tables, undefined, { KURA_PASSWORD_HASH_COST: '12' }));
  try {
    earlier = new HttpClient(before.baseUrl);
    expect((await earlier.post('/auth/register', { email, password: PASSWORD })).status).toBe(201);
    expect((await earlier.post('/auth/login', { email, password: PASSWORD })).status).toBe(200);
  } finally {
    await before.app.close();
  }
  kura = await startKuraInProcess(kuraEnv(tables, undefined, { KURA_PASSWORD_HASH_COST: '14' }));
  earlier.baseUrl = kura.baseUrl;
});
afterAll(async () => {
  await kura?.app.close();
  client.destroy();
});

/** The status of a login, and the N of every scrypt computation made while it was answered. */
async function login(loginEmail: string, password: string) {
  costs.length = 0;
  const { status } = await new HttpClient(kura.baseUrl).post('/auth/login', { email: loginEmail, password });
  return { status, work: costs.reduce((sum, n) => sum + n, 0) };
}

describe('after KURA_PASSWORD_HASH_COST is raised from 12 to 14 on the same tables', () => {
  // In this order: the first unknown email after start-up was the one that paid for making the decoy.
  it.each([
    ['an unknown email, the first since start-up', () => uniqueEmail('nobody'), 'wrong password!', 401],
    ["a wrong password for an account hashed at 12", () => email, 'wrong password!', 401],
  ])('a login with %s costs the work of one hash at 2^14', async (_, loginEmail, password, status) => {
    expect(await login(loginEmail(), password)).toEqual({ status, work: 2 ** 14 });
  });

  it("the right password's login costs one hash more, which upgrades the account's hash to 14 and ends no session", async () => {
    expect((await stored()).passwordHash).toMatch(/^\$scrypt\$ln=12,/);

    expect(await login(email, PASSWORD)).toEqual({ status: 200, work: 2 ** 14 + 2 ** 14 });

    const after = await stored();
    expect(after.passwordHash).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$/);
    expect(after.credentialVersion ?? 0).toBe(0);
    expect((await earlier.get('/auth/me')).status).toBe(200);
  });

  it.each([
    ['the right password, once upgraded', () => email, PASSWORD, 200],
    ['a wrong password for that account', () => email, 'wrong password!', 401],
    ['an unknown email', () => uniqueEmail('nobody'), 'wrong password!', 401],
  ])('a login with %s costs the work of one hash at 2^14', async (_, loginEmail, password, status) => {
    expect(await login(loginEmail(), password)).toEqual({ status, work: 2 ** 14 });
  });
});
