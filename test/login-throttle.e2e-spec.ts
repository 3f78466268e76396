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
      KURA_LOGIN_MAX_FAILURES_PER_ACCOUNT_TOTAL: '6',
      KURA_LOGIN_MAX_FAILURES_PER_CLIENT: '12',
      KURA_REGISTRATION_MAX_PER_CLIENT: '8',
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
    it('refuses an account with 429 and Retry-After to the client that failed 3 times over both processes, even with the right password', async () => {
      const email = uniqueEmail();
      await new HttpClient(a.baseUrl).post('/auth/register', { email, password: PASSWORD });

      const statuses = [];
      for (const process of [a, b, a]) statuses.push((await login(process, email, 'wrong password', '10.1.0.1')).status);
      const refused = await login(b, email, PASSWORD, '10.1.0.1');

      expect(statuses).toEqual([401, 401, 401]);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(refused.headers.getSetCookie()).toEqual([]);
    });

    it('lets the owner in from another address while one address keeps failing on the account', async () => {
      const email = uniqueEmail('victim');
      await new HttpClient(a.baseUrl).post('/auth/register', { email, password: PASSWORD });
      const attacker = [];
      for (const process of [a, b, a, b]) attacker.push((await login(process, email, 'wrong guess', '198.51.100.7')).status);

      const owner = await login(b, email, PASSWORD, '203.0.113.20');
      const attackerAfter = await login(a, email, 'wrong guess', '198.51.100.7');

      expect(attacker).toEqual([401, 401, 401, 429]);
      expect(owner.status).toBe(200);
      expect(attackerAfter.status).toBe(429); // the owner's success forgives only the owner's own address
    });

    it("refuses the account to everyone, the owner too, once failures from all addresses reach the account's ceiling", async () => {
      const email = uniqueEmail('ceiling');
      await new HttpClient(a.baseUrl).post('/auth/register', { email, password: PASSWORD });
      const guesses = [];
      for (const client of ['10.5.0.1', '10.5.0.2']) for (const process of [a, b, a]) guesses.push((await login(process, email, 'wrong guess', client)).status);

      const owner = await login(b, email, PASSWORD, '10.5.0.3');

      expect(guesses).toEqual([401, 401, 401, 401, 401, 401]);
      expect(owner.status).toBe(429);
      expect(Number(owner.headers.get('retry-after'))).toBeGreaterThan(0);
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

    it('counts the addresses of one IPv6 /64 as one client', async () => {
      for (let i = 1; i <= 12; i += 1) await login(i % 2 ? a : b, uniqueEmail(), 'wrong password', `2001:db8:1:2::${i.toString(16)}`);

      expect((await login(a, uniqueEmail(), 'wrong password', '2001:db8:1:2:8a2e:370:7334:1')).status).toBe(429);
      expect((await login(b, uniqueEmail(), 'wrong password', '2001:db8:1:3::1')).status).toBe(401);
    });

    it('counts an IPv4-mapped IPv6 address as its IPv4 address', async () => {
      for (let i = 0; i < 6; i += 1) await login(a, uniqueEmail(), 'wrong password', '192.0.2.44');
      for (let i = 0; i < 6; i += 1) await login(b, uniqueEmail(), 'wrong password', '::ffff:192.0.2.44');

      expect((await login(a, uniqueEmail(), 'wrong password', '192.0.2.44')).status).toBe(429);
      expect((await login(b, uniqueEmail(), 'wrong password', '::ffff:192.0.2.44')).status).toBe(429);
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

  describe('registration throttling across processes', () => {
    it('admits at most the limit of registrations from one address, however many arrive at once, then answers 429 with Retry-After', async () => {
      const taken = uniqueEmail('taken');
      await new HttpClient(a.baseUrl).post('/auth/register', { email: taken, password: PASSWORD });
      const register = (process: KuraProcess, email: string) =>
        new HttpClient(process.baseUrl).post('/auth/register', { email, password: PASSWORD }, { headers: { 'x-forwarded-for': '198.51.100.66' } });

      // A prober asks about 20 emails at once, one of them registered.
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => register(i % 2 ? a : b, i === 7 ? taken : uniqueEmail('probe'))));
      const statuses = answers.map((answer) => answer.status);

      expect(statuses.filter((status) => status !== 429)).toHaveLength(8);
      expect(statuses.filter((status) => status === 201 || status === 409)).toHaveLength(8);
      const refused = answers.find((answer) => answer.status === 429)!;
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(refused.body.type).toBe('urn:kura:problem:too-many-registrations');
      expect((await register(a, uniqueEmail())).status).toBe(429);
      expect((await new HttpClient(b.baseUrl).post('/auth/register', { email: uniqueEmail(), password: PASSWORD }, { headers: { 'x-forwarded-for': '198.51.100.67' } })).status).toBe(201);
    });
  });
});
