import { createClient } from 'redis';
import { freePort } from './support/free-port.js';
import { HttpClient, uniqueEmail } from './support/http-client.js';
import { type KuraProcess, startKuraProcess } from './support/kura-process.js';
import { type RedisServer, startRedisServer } from './support/redis-server.js';

/**
 * Kura on a Redis that is full under `noeviction` (docs/redis.md, "Where accounts live"): Redis refuses every write
 * that may grow memory. What must write answers 503 with Retry-After (a login); what only reads goes on, and so
 * does a signed-in request whose session is due for its idle extension, a write: the session was read live, and
 * the extension is upkeep. Before, every request of a session due for one answered 503, log out everywhere
 * included (an outside review, 2026-12-07).
 */
const PASSWORD = 'correct horse battery';
let redis: RedisServer;
let kura: KuraProcess;
let metricsUrl: string;

beforeAll(async () => {
  redis = await startRedisServer();
  // A refresh interval of a second: a session used two seconds after its login is due for its extension.
  const metricsPort = await freePort();
  metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  kura = await startKuraProcess({ KURA_STORE: 'redis', REDIS_URL: redis.url, KURA_PASSWORD_HASH_COST: '12', KURA_SESSION_REFRESH_INTERVAL: '1', KURA_METRICS_PORT: String(metricsPort) });
}, 60_000);
afterAll(async () => {
  await kura?.stop();
  await redis?.stop();
});

/**
 * Makes Redis full under `noeviction`: its `maxmemory` below what it uses, so that it refuses every write that may
 * grow memory from then on (a limit just above the use, filled up, frees a little as clients' buffers shrink, and
 * lets a small write through again). Returns Redis's answer to a write.
 */
async function fillRedis(): Promise<string> {
  const client = createClient({ url: redis.url });
  await client.connect();
  try {
    await client.configSet({ 'maxmemory-policy': 'noeviction', maxmemory: '1' });
    return await client.set('another-app:key', 'value').then(
      () => 'OK',
      (error: Error) => error.message,
    );
  } finally {
    await client.quit();
  }
}

it('goes on serving signed-in sessions due for their idle extension, and logs out everywhere, while logins answer 503', async () => {
  const email = uniqueEmail('full');
  const ada = new HttpClient(kura.baseUrl);
  expect((await ada.post('/auth/register', { email, password: PASSWORD })).status).toBe(201);
  expect((await ada.post('/auth/login', { email, password: PASSWORD })).status).toBe(200);
  const other = new HttpClient(kura.baseUrl);
  expect((await other.post('/auth/login', { email, password: PASSWORD })).status).toBe(200);

  expect(await fillRedis()).toMatch(/^OOM /);
  await new Promise((resolve) => setTimeout(resolve, 2_000));

  // Due for the extension, which Redis refuses: answered all the same.
  const me = await ada.get('/auth/me');
  expect(me.status).toBe(200);
  expect((await ada.get('/session/data')).status).toBe(200);
  expect((await ada.get('/auth/sessions')).status).toBe(200);
  // A login writes: refused, with the reason and when to try again.
  const login = await new HttpClient(kura.baseUrl).post('/auth/login', { email, password: PASSWORD });
  expect(login.status).toBe(503);
  expect(Number(login.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  // Log out everywhere ends both sessions (its first steps delete, which Redis allows when full).
  expect((await ada.post('/auth/logout-all')).status).toBe(200);
  expect((await other.get('/auth/me')).status).toBe(401);
  expect((await ada.get('/auth/me')).status).toBe(401);
  // Counted, and said with Redis's reason, for an operator to see why sessions go unextended.
  expect(await (await fetch(metricsUrl)).text()).toMatch(/kura_session_events_total\{[^}]*event="extension-failed"[^}]*\} [1-9]/);
  expect(kura.output()).toMatch(/event=extension-failed reason=.*(OOM|memory)/);
}, 60_000);
