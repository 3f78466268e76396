import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpClient, uniqueEmail } from './support/http-client.js';
import { type KuraProcess, startKuraProcess } from './support/kura-process.js';

/**
 * `npm start` with no configuration: Kura starts its embedded engine (dynalite, on disk), creates its tables
 * and serves the whole flow; users and sessions survive a restart of the process.
 */
let dataDir: string;
let kura: KuraProcess;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'kura-embedded-'));
});
afterAll(async () => {
  await kura?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const embedded = () => ({ KURA_DATA_DIR: dataDir, KURA_PASSWORD_HASH_COST: '12' });

describe('the embedded engine (dynalite)', () => {
  it('runs the full flow with no configuration but a data folder, and keeps sessions across a restart', async () => {
    kura = await startKuraProcess(embedded(), 'dist');
    expect(kura.output()).toMatch(/embedded DynamoDB \(dynalite\)/);
    expect(kura.output()).toMatch(/table kura-sessions: created/);
    const browser = new HttpClient(kura.baseUrl);
    const email = uniqueEmail();
    const login = await browser.signUpAndLogIn(email);
    expect((await browser.get('/auth/me')).status).toBe(200);
    const cookie = await browser.jar.getCookieString(kura.baseUrl);

    await kura.stop();
    kura = await startKuraProcess(embedded(), 'dist');

    expect(kura.output()).toMatch(/table kura-sessions: exists/);
    const again = new HttpClient(kura.baseUrl);
    const me = await again.get('/auth/me', { headers: { cookie }, cookies: false });
    expect(me.status).toBe(200);
    expect(me.body.session.id).toBe(login.session.id);

    const logout = await again.post('/auth/logout', undefined, { headers: { cookie }, cookies: false });
    expect(logout.status).toBe(204);
    expect((await again.get('/auth/me', { headers: { cookie }, cookies: false })).status).toBe(401);
    expect((await again.post('/auth/login', { email, password: 'correct horse battery', transport: 'bearer' })).status).toBe(200);
  });
});

describe('starting with invalid configuration', () => {
  it('refuses to start and lists every problem in one message', async () => {
    const failure = await startKuraProcess({ PORT: 'eighty', KURA_SESSION_IDLE_TIMEOUT: '-5', KURA_STORE: 'nowhere' }, 'dist').catch(
      (error: Error) => error,
    );

    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/exited with 1[\s\S]*Invalid configuration:[\s\S]*PORT[\s\S]*KURA_STORE[\s\S]*KURA_SESSION_IDLE_TIMEOUT/);
  });

  it('says so in one JSON line with KURA_LOG_FORMAT=json, the problems listed, as every other line the server writes', async () => {
    const failure = (await startKuraProcess({ KURA_DATA_DIR: dataDir, KURA_LOG_FORMAT: 'json', PORT: 'eighty', KURA_STORE: 'nowhere' }, 'dist').catch((error: Error) => error)) as Error;

    const output = failure.message.slice(failure.message.indexOf('\n') + 1).trim().split('\n');
    expect(output).toHaveLength(1);
    expect(JSON.parse(output[0]!)).toEqual({
      level: 'fatal',
      pid: expect.any(Number),
      timestamp: expect.any(Number),
      message: 'Invalid configuration',
      context: 'Main',
      problems: [expect.stringMatching(/^PORT\b/), expect.stringMatching(/^KURA_STORE: must be one of/)],
    });
  });

  it.each([
    ['an origin without its scheme', { KURA_TRUSTED_ORIGINS: 'app.example.com' }, 'KURA_TRUSTED_ORIGINS'],
    ['a host name to listen on', { HOST: 'not-a-host' }, 'HOST'],
    ['a cookie name no browser accepts', { KURA_COOKIE_NAME: 'bad name;' }, 'KURA_COOKIE_NAME'],
    ['the metrics on the API port', { PORT: '3999', KURA_METRICS_PORT: '3999' }, 'KURA_METRICS_PORT'],
    // Both passed the configuration, and the session module refused them with a stack, in its options' names.
    ['an idle timeout of 1 s (no refresh interval fits under it)', { KURA_SESSION_IDLE_TIMEOUT: '1' }, 'KURA_SESSION_IDLE_TIMEOUT'],
    ['a signed-cache key id given twice', { KURA_SESSION_CACHE_SECONDS: '5', KURA_SESSION_CACHE_KEYS: `k1:${randomBytes(32).toString('base64url')},k1:${randomBytes(32).toString('base64url')}` }, 'KURA_SESSION_CACHE_KEYS'],
  ])('refuses %s before starting anything: exit 1, the one message, no stack', async (_case, env, variable) => {
    const failure = (await startKuraProcess({ KURA_DATA_DIR: dataDir, ...env }, 'dist').catch((error: Error) => error)) as Error;

    const output = failure.message.slice(failure.message.indexOf('\n') + 1).trim().split('\n');
    expect(failure.message).toMatch(/^Kura exited with 1 before listening/);
    expect(output[0]).toBe('Invalid configuration:');
    expect(output.slice(1)).toEqual([expect.stringMatching(new RegExp(`^- ${variable}\\b`))]);
  });
});
