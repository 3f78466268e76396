import { jest } from '@jest/globals';

/**
 * KURA_PASSWORD_HASH_COST raised under existing accounts (SECURITY.md, "Passwords"). An account's hash keeps the
 * cost it was made at, and nothing rehashes it; the review of 2026-12 measured, at 12 raised to 16, a wrong
 * password for such an account answered in a median 95 ms and an unknown email in 335 ms. Time is measured in
 * the benchmarks: this counts the work instead, every scrypt computation's N during each login, which must add
 * up to one hash at the raised cost whichever email and password the login names.
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
const { freshTables, kuraEnv } = await import('./support/engine.js');
const { HttpClient, uniqueEmail } = await import('./support/http-client.js');
const { startKuraInProcess } = await import('./support/kura-app.js');

const PASSWORD = 'correct horse battery';
const email = uniqueEmail('old-cost');
let kura: Awaited<ReturnType<typeof startKuraInProcess>>;

beforeAll(async () => {
  const tables = await freshTables();
  const before = await startKuraInProcess(kuraEnv(tables, undefined, { KURA_PASSWORD_HASH_COST: '12' }));
  try {
    expect((await new HttpClient(before.baseUrl).post('/auth/register', { email, password: PASSWORD })).status).toBe(201);
  } finally {
    await before.app.close();
  }
  kura = await startKuraInProcess(kuraEnv(tables, undefined, { KURA_PASSWORD_HASH_COST: '14' }));
});
afterAll(async () => {
  await kura?.app.close();
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
    ['the right password for that account', () => email, PASSWORD, 200],
    ['an unknown email', () => uniqueEmail('nobody'), 'wrong password!', 401],
  ])('a login with %s costs the work of one hash at 2^14', async (_, loginEmail, password, status) => {
    expect(await login(loginEmail(), password)).toEqual({ status, work: 2 ** 14 });
  });
});
