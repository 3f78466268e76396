import { HttpClient, uniqueEmail } from './support/http-client.js';
import { type KuraProcess, startKuraProcess } from './support/kura-process.js';
import { BACKENDS } from './support/backends.js';

/** Failed logins are counted in the shared store, so the limit holds across processes, for real and unknown accounts alike. */
describe.each(BACKENDS)('on $name', (backend) => {
  let a: KuraProcess;
  let b: KuraProcess;

  beforeAll(async () => {
    const env = await backend.env({
      KURA_LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
      KURA_LOGIN_MAX_FAILURES_PER_CLIENT: '12',
      KURA_TRUST_PROXY: '127.0.0.1',
      // A day-long window, so no run straddles a window boundary (where the sliding estimate admits one more).
      KURA_LOGIN_FAILURE_WINDOW: '86400',
    });
    [a, b] = await Promise.all([startKuraProcess(env), startKuraProcess(env)]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  const PASSWORD = 'correct horse battery';
  const login = (process: KuraProcess, email: string, password: string, client: string) =>
    new HttpClient(process.baseUrl).post('/auth/login', { email, password }, { headers: { 'x-forwarded-for': client } });

  describe('login throttling across processes', () => {
    it('refuses an account with 429 and Retry-After after 3 failures spread over both processes, even with the right password', async () => {
      const email = uniqueEmail();
      await new HttpClient(a.baseUrl).post('/auth/register', { email, password: PASSWORD });

      const statuses = [];
      for (const process of [a, b, a]) statuses.push((await login(process, email, 'wrong password', '10.1.0.1')).status);
      const refused = await login(b, email, PASSWORD, '10.1.0.2');

      expect(statuses).toEqual([401, 401, 401]);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(refused.headers.getSetCookie()).toEqual([]);
    });

    it('answers an unknown account exactly like an existing one', async () => {
      const known = uniqueEmail();
      await new HttpClient(a.baseUrl).post('/auth/register', { email: known, password: PASSWORD });
      const unknown = uniqueEmail('ghost');

      const run = async (email: string, client: string) => {
        const statuses = [];
        for (const process of [a, b, a, b]) statuses.push(await login(process, email, 'wrong password', client));
        return statuses;
      };
      const [forKnown, forUnknown] = [await run(known, '10.2.0.1'), await run(unknown, '10.2.0.2')];

      expect(forKnown.map((r) => r.status)).toEqual([401, 401, 401, 429]);
      expect(forUnknown.map((r) => r.status)).toEqual([401, 401, 401, 429]);
      expect(forKnown[3]!.text).toBe(forUnknown[3]!.text);
    });

    it('refuses a client address that fails on many accounts', async () => {
      for (let i = 0; i < 12; i += 1) await login(i % 2 ? a : b, uniqueEmail(), 'wrong password', '10.3.0.1');

      expect((await login(a, uniqueEmail(), 'wrong password', '10.3.0.1')).status).toBe(429);
      expect((await login(a, uniqueEmail(), 'wrong password', '10.3.0.2')).status).toBe(401);
    });

    it('lets a correct login under the limit through and clears the account count', async () => {
      const email = uniqueEmail();
      await new HttpClient(a.baseUrl).post('/auth/register', { email, password: PASSWORD });
      await login(a, email, 'wrong password', '10.4.0.1');
      await login(b, email, 'wrong password', '10.4.0.1');

      expect((await login(a, email, PASSWORD, '10.4.0.1')).status).toBe(200);
      for (const process of [a, b]) expect((await login(process, email, 'wrong password', '10.4.0.1')).status).toBe(401);
    });
  });
});
