import { HttpClient, uniqueEmail } from './support/http-client.js';
import { type KuraProcess, startKuraProcess } from './support/kura-process.js';
import { BACKENDS } from './support/backends.js';

/** The same user agent (one cookie jar) talking to whichever process it is pointed at. */
function clientOn(process: KuraProcess, jar?: HttpClient): HttpClient {
  const client = new HttpClient(process.baseUrl);
  if (jar) Object.assign(client, { jar: jar.jar });
  return client;
}

/**
 * Two Kura processes (separate operating-system processes, as two pods would be) sharing one store (DynamoDB
 * Local, then Redis): any process serves any session, a logout anywhere is effective everywhere at once, and a
 * restart of every process loses nothing.
 */
describe.each(BACKENDS)('on $name', (backend) => {
  let env: Record<string, string>;
  let a: KuraProcess;
  let b: KuraProcess;

  beforeAll(async () => {
    env = await backend.env();
    [a, b] = await Promise.all([startKuraProcess(env), startKuraProcess(env)]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  describe('two API processes sharing one store', () => {
    it('serves on B a cookie session made on A', async () => {
      const onA = clientOn(a);
      const login = await onA.signUpAndLogIn(uniqueEmail());

      const me = await clientOn(b, onA).get('/auth/me');

      expect(me.status).toBe(200);
      expect(me.body.session.id).toBe(login.session.id);
    });

    it('rejects on A at once a session logged out on B', async () => {
      const browser = clientOn(a);
      await browser.signUpAndLogIn(uniqueEmail());
      const stolen = { headers: { cookie: await browser.jar.getCookieString(a.baseUrl) }, cookies: false };
      expect((await clientOn(a).get('/auth/me', stolen)).status).toBe(200);

      expect((await clientOn(b, browser).post('/auth/logout')).status).toBe(204);

      // The same cookie, replayed on A right after: the session is gone server-side, not just in the browser.
      expect((await clientOn(a).get('/auth/me', stolen)).status).toBe(401);
    });

    it('rejects a logged-out bearer token on the other process at once', async () => {
      const api = clientOn(a);
      const email = uniqueEmail();
      await api.post('/auth/register', { email, password: 'correct horse battery' });
      const { body } = await api.post('/auth/login', { email, password: 'correct horse battery', transport: 'bearer' });
      const auth = { headers: { authorization: `Bearer ${body.token}` } };
      expect((await clientOn(b).get('/auth/me', auth)).status).toBe(200);

      await clientOn(b).post('/auth/logout', undefined, auth);

      expect((await clientOn(a).get('/auth/me', auth)).status).toBe(401);
    });

    it('keeps every session across a restart of both processes', async () => {
      const browser = clientOn(a);
      const login = await browser.signUpAndLogIn(uniqueEmail());
      const cookie = await browser.jar.getCookieString(a.baseUrl);

      await Promise.all([a.stop(), b.stop()]);
      [a, b] = await Promise.all([startKuraProcess(env), startKuraProcess(env)]);

      for (const process of [a, b]) {
        const me = await new HttpClient(process.baseUrl).get('/auth/me', { headers: { cookie }, cookies: false });
        expect(me.status).toBe(200);
        expect(me.body.session.id).toBe(login.session.id);
      }
    });
  });
});

describe('negative control: the same check on per-process memory sessions', () => {
  it('loses the session on the other process (the failure Kura exists to prevent)', async () => {
    const memory = { KURA_STORE: 'memory', KURA_PASSWORD_HASH_COST: '12' };
    const [m1, m2] = await Promise.all([startKuraProcess(memory), startKuraProcess(memory)]);
    try {
      const browser = clientOn(m1);
      await browser.signUpAndLogIn(uniqueEmail());
      expect((await browser.get('/auth/me')).status).toBe(200);

      expect((await clientOn(m2, browser).get('/auth/me')).status).toBe(401);
    } finally {
      await Promise.all([m1.stop(), m2.stop()]);
    }
  });
});
