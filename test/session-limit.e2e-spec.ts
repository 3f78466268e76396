import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BACKENDS } from './support/backends.js';
import { HttpClient, uniqueEmail } from './support/http-client.js';
import { startKuraInProcess } from './support/kura-app.js';

/**
 * KURA_MAX_SESSIONS_PER_USER (docs/configuration.md): a login past the limit ends the user's least recently used
 * sessions, on every replica at once, and is never refused; logins racing on two processes leave the user
 * within the limit once they have all answered. On every store, across two Kura processes sharing it.
 */
const PASSWORD = 'correct horse battery';
const LIMIT = 3;

describe.each(BACKENDS)('on $name', (backend) => {
  const apps: NestFastifyApplication[] = [];
  let bases: [string, string];
  beforeAll(async () => {
    const env = await backend.env({ KURA_MAX_SESSIONS_PER_USER: String(LIMIT), KURA_SESSION_REFRESH_INTERVAL: '1' });
    const first = await startKuraInProcess(env);
    const second = await startKuraInProcess(env);
    apps.push(first.app, second.app);
    bases = [first.baseUrl, second.baseUrl];
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
  });

  const login = async (email: string, base: string) => {
    const answer = await new HttpClient(base).post('/auth/login', { email, password: PASSWORD, transport: 'bearer' });
    expect(answer.status).toBe(200);
    return answer.body.token as string;
  };
  const works = async (token: string, base = bases[0]) =>
    (await new HttpClient(base).get('/auth/me', { headers: { authorization: `Bearer ${token}` }, cookies: false })).status === 200;

  it('ends the least recently used session when a login passes the limit, on every replica, and lists the rest', async () => {
    const email = uniqueEmail('devices');
    await new HttpClient(bases[0]).post('/auth/register', { email, password: PASSWORD });
    const phone = await login(email, bases[0]);
    const laptop = await login(email, bases[1]);
    const tablet = await login(email, bases[0]);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // past the refresh interval: a use is recorded
    expect(await works(phone, bases[1])).toBe(true); // now the laptop is the least recently used

    const desktop = await login(email, bases[1]);

    for (const base of bases) {
      expect([await works(phone, base), await works(laptop, base), await works(tablet, base), await works(desktop, base)]).toEqual([true, false, true, true]);
    }
    const listed = await new HttpClient(bases[0]).get('/auth/sessions', { headers: { authorization: `Bearer ${desktop}` }, cookies: false });
    expect(listed.body.sessions).toHaveLength(LIMIT);
  });

  it('answers every one of 10 logins racing on two processes, and leaves the user within the limit once all answered', async () => {
    const email = uniqueEmail('racing');
    await new HttpClient(bases[0]).post('/auth/register', { email, password: PASSWORD });

    const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => login(email, bases[i % 2]!)));

    const working = (await Promise.all(tokens.map((token, i) => works(token, bases[i % 2])))).filter(Boolean).length;
    console.log(`10 racing logins, limit ${LIMIT}: ${working} sessions work afterwards`);
    expect(working).toBeGreaterThanOrEqual(1);
    expect(working).toBeLessThanOrEqual(LIMIT);
  });
});
