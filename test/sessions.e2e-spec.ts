import { HttpClient, uniqueEmail } from './support/http-client.js';
import { type KuraProcess, startKuraProcess } from './support/kura-process.js';
import { BACKENDS } from './support/backends.js';

/**
 * A user's sessions across two Kura processes: list them, end one, end all, change the password. Every
 * revocation is checked on the other process right after it returns.
 */
describe.each(BACKENDS)('on $name', (backend) => {
  let a: KuraProcess;
  let b: KuraProcess;

  beforeAll(async () => {
    const env = await backend.env();
    [a, b] = await Promise.all([startKuraProcess(env), startKuraProcess(env)]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  const PASSWORD = 'correct horse battery';

  /** One account with three devices, logged in through alternating processes. */
  async function userWithThreeDevices() {
    const email = uniqueEmail();
    await new HttpClient(a.baseUrl).post('/auth/register', { email, password: PASSWORD });
    const devices = [a, b, a].map((process) => new HttpClient(process.baseUrl));
    const ids: string[] = [];
    for (const [index, device] of devices.entries()) {
      const login = await device.post('/auth/login', { email, password: PASSWORD }, { headers: { 'user-agent': `device-${index}` } });
      ids.push(login.body.session.id);
    }
    return { email, devices, ids };
  }

  /** The same cookie, replayed against the other process with no jar in between. */
  async function statusOn(process: KuraProcess, device: HttpClient, cookie?: string) {
    const header = cookie ?? (await device.jar.getCookieString(device.baseUrl));
    return (await new HttpClient(process.baseUrl).get('/auth/me', { headers: { cookie: header }, cookies: false })).status;
  }

  describe('GET /auth/sessions', () => {
    it("lists the caller's live sessions, marking the current one, and nobody else's", async () => {
      const { devices, ids } = await userWithThreeDevices();
      await userWithThreeDevices(); // someone else

      const listed = await devices[1]!.get('/auth/sessions');

      expect(listed.status).toBe(200);
      expect(listed.body.sessions.map((s: { id: string }) => s.id).sort()).toEqual([...ids].sort());
      const current = listed.body.sessions.find((s: { current: boolean }) => s.current);
      expect(current).toMatchObject({ id: ids[1], userAgent: 'device-1', ip: '127.0.0.1' });
      expect(Object.keys(current).sort()).toEqual(
        ['createdAt', 'current', 'expiresAt', 'id', 'idleExpiresAt', 'ip', 'lastSeenAt', 'userAgent'].sort(),
      );
    });
  });

  describe('DELETE /auth/sessions/{id}', () => {
    it('ends one of my sessions, rejected at once on the other process', async () => {
      const { devices, ids } = await userWithThreeDevices();
      const victim = await devices[2]!.jar.getCookieString(a.baseUrl);

      expect((await devices[0]!.request('DELETE', `/auth/sessions/${ids[2]}`)).status).toBe(204);

      expect(await statusOn(b, devices[2]!, victim)).toBe(401);
      expect(await statusOn(b, devices[0]!)).toBe(200);
      expect(await statusOn(a, devices[1]!)).toBe(200);
    });

    it("answers 404 for someone else's session, and leaves it alone", async () => {
      const me = await userWithThreeDevices();
      const other = await userWithThreeDevices();

      const response = await me.devices[0]!.request('DELETE', `/auth/sessions/${other.ids[0]}`);

      expect(response.status).toBe(404);
      expect(await statusOn(b, other.devices[0]!)).toBe(200);
    });

    it.each(['nope', 'user%23abc', 'data%23' + 'A'.repeat(43), 'A'.repeat(43)])('answers 404 for the id %p', async (id) => {
      const { devices } = await userWithThreeDevices();

      expect((await devices[0]!.request('DELETE', `/auth/sessions/${id}`)).status).toBe(404);
    });
  });

  describe('POST /auth/logout-all', () => {
    it('ends every session of mine, including ones made a moment ago, on every process at once', async () => {
      const { devices, email } = await userWithThreeDevices();
      const cookies = await Promise.all(devices.map((device) => device.jar.getCookieString(a.baseUrl)));
      // A login that the index has not had time to show.
      const fresh = new HttpClient(b.baseUrl);
      await fresh.post('/auth/login', { email, password: PASSWORD });
      const freshCookie = await fresh.jar.getCookieString(b.baseUrl);

      const response = await devices[0]!.post('/auth/logout-all');

      expect(response.status).toBe(200);
      expect(response.body).toEqual({ revoked: 4 });
      for (const cookie of [...cookies, freshCookie]) {
        expect(await statusOn(a, devices[0]!, cookie)).toBe(401);
        expect(await statusOn(b, devices[0]!, cookie)).toBe(401);
      }
    });
  });

  describe('POST /auth/password', () => {
    it('changes the password, ends every other session everywhere, and rotates the current one', async () => {
      const { devices, email } = await userWithThreeDevices();
      const before = await Promise.all(devices.map((device) => device.jar.getCookieString(a.baseUrl)));

      const response = await devices[0]!.post('/auth/password', { currentPassword: PASSWORD, newPassword: 'a brand new secret' });

      expect(response.status).toBe(200);
      const after = await devices[0]!.jar.getCookieString(a.baseUrl);
      expect(after).not.toBe(before[0]);
      expect(await statusOn(b, devices[0]!, after)).toBe(200);
      for (const cookie of before) expect(await statusOn(b, devices[0]!, cookie)).toBe(401);
      const login = (password: string) => new HttpClient(b.baseUrl).post('/auth/login', { email, password });
      expect((await login(PASSWORD)).status).toBe(401);
      expect((await login('a brand new secret')).status).toBe(200);
    });

    // A change whose current password is no longer in force but whose new one is (sent twice, or again after a 503
    // whose hash had landed) is a change too: until 2026-12-06 it issued its session on the version in force and
    // ended nothing opened with the new password since, the first change's own session included.
    it('sent again, ends every other session, those opened with the new password since included', async () => {
      const { devices, email } = await userWithThreeDevices();
      const change = { currentPassword: PASSWORD, newPassword: 'a brand new secret' };
      expect((await devices[0]!.post('/auth/password', change)).status).toBe(200);
      const first = await devices[0]!.jar.getCookieString(a.baseUrl);
      const phone = new HttpClient(b.baseUrl);
      expect((await phone.post('/auth/login', { email, password: change.newPassword })).status).toBe(200);

      const again = await devices[0]!.post('/auth/password', change);

      expect(again.status).toBe(200);
      const after = await devices[0]!.jar.getCookieString(a.baseUrl);
      expect(await statusOn(b, devices[0]!, after)).toBe(200);
      expect(await statusOn(b, devices[0]!, first)).toBe(401);
      expect(await statusOn(a, phone)).toBe(401);
      expect((await new HttpClient(b.baseUrl).post('/auth/login', { email, password: change.newPassword })).status).toBe(200);
    });

    it('returns the new token in the body for a bearer session', async () => {
      const email = uniqueEmail();
      const api = new HttpClient(a.baseUrl);
      await api.post('/auth/register', { email, password: PASSWORD });
      const { token } = (await api.post('/auth/login', { email, password: PASSWORD, transport: 'bearer' })).body;

      const response = await api.post(
        '/auth/password',
        { currentPassword: PASSWORD, newPassword: 'a brand new secret' },
        { headers: { authorization: `Bearer ${token}` } },
      );

      expect(response.body.token).toMatch(/^[\w-]{43}$/);
      expect(response.headers.getSetCookie()).toEqual([]);
      expect((await new HttpClient(b.baseUrl).get('/auth/me', { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
      expect((await new HttpClient(b.baseUrl).get('/auth/me', { headers: { authorization: `Bearer ${response.body.token}` } })).status).toBe(200);
    });

    it('refuses a wrong current password with 403 and changes nothing', async () => {
      const { devices, email } = await userWithThreeDevices();

      const response = await devices[0]!.post('/auth/password', { currentPassword: 'wrong', newPassword: 'a brand new secret' });

      expect(response.status).toBe(403);
      expect(await statusOn(b, devices[1]!)).toBe(200);
      expect((await new HttpClient(b.baseUrl).post('/auth/login', { email, password: PASSWORD })).status).toBe(200);
    });
  });
});
