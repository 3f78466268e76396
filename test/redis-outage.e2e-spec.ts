import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './support/free-port.js';
import { HttpClient, uniqueEmail } from './support/http-client.js';
import { type KuraProcess, startKuraProcess } from './support/kura-process.js';
import { possibleFlavours, type RedisServer, startRedisServer } from './support/redis-server.js';

/**
 * Kura on Redis when Redis goes away, hangs, crashes and comes back, with its own redis-server (append-only
 * persistence, on disk) and Kura as its own process, so a crash of Kura would show. The complaints this answers,
 * from connect-redis's and others' trackers: the app hangs when Redis is down, piles commands into an offline
 * queue, crashes on the client's error event, does not recover without a restart, and loses sessions on a
 * Redis restart.
 */
const TIMEOUT_MS = 500;
/** How much later than the command timeout a 503 may come: the HTTP round trip and Kura's own work. */
const SLACK_MS = 400;
const PASSWORD = 'correct horse battery';

const ROUTES: [string, (client: HttpClient, email: string) => Promise<{ status: number; headers: Headers; body: any }>][] = [
  ['GET /auth/me', (client) => client.get('/auth/me')],
  ['GET /session/data', (client) => client.get('/session/data')],
  ['PATCH /session/data', (client) => client.request('PATCH', '/session/data', { body: '{"theme":"dark"}', headers: { 'content-type': 'application/merge-patch+json' } })],
  ['GET /auth/sessions', (client) => client.get('/auth/sessions')],
  ['POST /auth/login', (client, email) => client.post('/auth/login', { email, password: PASSWORD })],
  ['POST /auth/register', (client) => client.post('/auth/register', { email: uniqueEmail(), password: PASSWORD })],
  ['POST /auth/logout', (client) => client.post('/auth/logout')],
];

/**
 * Every route, timed: each must answer 503 + Retry-After within the command timeout (plus slack). A route over the
 * bound is timed once more and its faster answer kept: a hang, or a second wait for Redis, shows both times, where
 * a loaded machine's stall does not (a CI run saw one registration of seven answer in 1030 ms, once).
 */
async function expectEveryRouteUnavailable(user: HttpClient, email: string, server: string) {
  const outcomes = [];
  const timed = async (route: string, call: (typeof ROUTES)[number][1]) => {
    const started = performance.now();
    const response = await call(user, email);
    return { route, status: response.status, retryAfter: response.headers.get('retry-after'), ms: Math.round(performance.now() - started), type: response.body?.type };
  };
  for (const [route, call] of ROUTES) {
    const first = await timed(route, call);
    const again = first.ms < TIMEOUT_MS + SLACK_MS ? undefined : await timed(route, call);
    outcomes.push(again && again.ms < first.ms ? { ...again, route: `${route} (${first.ms} ms, then)` } : first);
  }
  console.log(`${server} unavailable: ${outcomes.map((o) => `${o.route} ${o.status} in ${o.ms} ms`).join('; ')}`);
  for (const outcome of outcomes) {
    expect(outcome).toMatchObject({ status: 503, type: 'urn:kura:problem:store-unavailable' });
    expect(Number(outcome.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(outcome.ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
  }
}

/** Asks again every 100 ms until the answer is 200 or `ms` have passed; the last status. */
async function statusWithin(ms: number, ask: () => Promise<{ status: number }>): Promise<number> {
  const giveUpAt = Date.now() + ms;
  let status = (await ask()).status;
  while (status !== 200 && Date.now() < giveUpAt) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    status = (await ask()).status;
  }
  return status;
}

// Redis and Valkey, each where its server is installed (`.ci/run` installs both).
describe.each(possibleFlavours((name) => `Kura on ${name}, when it goes away`))('Kura on $name', ({ flavour, name }) => {
  let dataDir: string;
  let redis: RedisServer;
  let kura: KuraProcess;
  let env: Record<string, string>;
  let metricsUrl: string;
  const browser = () => new HttpClient(kura.baseUrl);

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kura-redis-outage-'));
    redis = await startRedisServer({ dir: dataDir, appendOnly: true, flavour });
    env = { KURA_STORE: 'redis', REDIS_URL: redis.url, KURA_REDIS_TIMEOUT_MS: String(TIMEOUT_MS), KURA_PASSWORD_HASH_COST: '12', KURA_LOG_LEVEL: 'warn' };
    const metricsPort = await freePort();
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    kura = await startKuraProcess({ ...env, KURA_METRICS_PORT: String(metricsPort) });
  }, 60_000);
  afterAll(async () => {
    await kura?.stop();
    await redis?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  let user: HttpClient;
  const email = uniqueEmail();

  beforeAll(async () => {
    expect((await browser().get('/health/ready')).status).toBe(200);
    user = browser();
    await user.signUpAndLogIn(email);
    await user.request('PATCH', '/session/data', { body: '{"cart":["tea"]}', headers: { 'content-type': 'application/merge-patch+json' } });
  });

  it('answers 503 with Retry-After within the timeout on every route while Redis hangs (SIGSTOP), and serves again when it resumes', async () => {
    process.kill(redis.pid, 'SIGSTOP');
    try {
      await expectEveryRouteUnavailable(user, email, name);
    } finally {
      process.kill(redis.pid, 'SIGCONT');
    }
    expect((await user.get('/auth/me')).status).toBe(200);
  });

  // The stores give up on a command at their deadline and answer 503; its reply, if Redis sends it later, is dropped.
  // Counted by its reply, such a command was `ok`: a 503 for a hung Redis showed in the metrics as a success.
  it('counts a command a hung Redis answered after the deadline as an error, as the 503 it caused, never as ok', async () => {
    const outcomes = async () => {
      const text = await (await fetch(metricsUrl)).text();
      const total = (outcome: string) => [...text.matchAll(new RegExp(`^kura_redis_commands_total\\{[^}]*outcome="${outcome}"[^}]*\\} (\\d+)`, 'gm'))].reduce((sum, match) => sum + Number(match[1]), 0);
      return { ok: total('ok'), error: total('error') };
    };
    const before = await outcomes();

    process.kill(redis.pid, 'SIGSTOP');
    try {
      expect((await user.get('/auth/me')).status).toBe(503);
    } finally {
      process.kill(redis.pid, 'SIGCONT');
    }
    await new Promise((resolve) => setTimeout(resolve, 300)); // the late reply arrives

    const after = await outcomes();
    expect(after.ok - before.ok).toBe(0);
    expect(after.error - before.error).toBeGreaterThanOrEqual(1);
  });

  // A client that gives up before the 503 (its own timeout, or a balancer's, shorter than the store's) gets no response,
  // and Fastify runs no onResponse hook for it: the 503 went uncounted and unlogged, and KuraStoreFailing, which divides
  // 503s by requests, did not see an outage whose clients gave up first.
  it('counts the 503 of a request whose client gave up waiting for it, as the store-failing alert needs', async () => {
    const unavailable = async () => Number(/^kura_http_requests_total\{method="GET",route="\/auth\/me",status="503",service="kura"\} (\d+)/m.exec(await (await fetch(metricsUrl)).text())?.[1] ?? 0);
    const before = await unavailable();
    const cookie = await user.jar.getCookieString(kura.baseUrl);

    process.kill(redis.pid, 'SIGSTOP');
    try {
      await expect(fetch(`${kura.baseUrl}/auth/me`, { headers: { cookie }, signal: AbortSignal.timeout(TIMEOUT_MS / 5) })).rejects.toThrow();
      await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS + SLACK_MS)); // Kura answers, to nobody
    } finally {
      process.kill(redis.pid, 'SIGCONT');
    }

    expect((await unavailable()) - before).toBe(1);
  });

  it('fails at once, with no offline queue, while Redis is down: 100 concurrent requests, all 503, none hanging', async () => {
    await redis.kill();

    await expectEveryRouteUnavailable(user, email, name);
    const started = performance.now();
    const burst = await Promise.all(Array.from({ length: 100 }, () => user.get('/auth/me')));
    const ms = Math.round(performance.now() - started);
    console.log(`100 concurrent GET /auth/me with ${name} down: ${burst.filter((r) => r.status === 503).length} x 503 in ${ms} ms`);
    expect(burst.map((response) => response.status)).toEqual(Array(100).fill(503));
    expect(ms).toBeLessThan(TIMEOUT_MS + 5 * SLACK_MS);
  });

  it('stays alive and ready, with /health/store naming the problem', async () => {
    expect(kura.child.exitCode).toBeNull();
    expect((await browser().get('/health/live')).status).toBe(200);
    expect((await browser().get('/health/ready')).status).toBe(200);
    const store = await browser().get('/health/store');
    expect(store.status).toBe(503);
    expect(store.body.checks.store.message).toMatch(/Redis is not connected/);
  });

  it('holds a process that starts while Redis is down out of the Service: it starts, is not ready, and becomes ready when Redis appears', async () => {
    const late = await startKuraProcess(env);
    try {
      const ready = await new HttpClient(late.baseUrl).get('/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.checks.lifecycle.message).toMatch(/^starting: the session store has not answered yet: Redis is not connected/);
      expect((await new HttpClient(late.baseUrl).get('/auth/me')).status).toBe(401); // no cookie: needs no store

      // Redis comes back after the crash: same port, same data folder, the append-only file replayed.
      redis = await startRedisServer({ dir: dataDir, port: redis.port, appendOnly: true, flavour });

      expect(await statusWithin(10_000, () => new HttpClient(late.baseUrl).get('/health/ready'))).toBe(200);
      // The late process serves the session made before the crash: nothing was lost with Redis's restart.
      const me = await new HttpClient(late.baseUrl).get('/auth/me', { headers: { cookie: await user.jar.getCookieString(kura.baseUrl) }, cookies: false });
      expect(me.status).toBe(200);
      expect(me.body.user.email).toBe(email);
    } finally {
      await late.stop();
    }
  });

  it('recovers without a restart once Redis is back, with the session, its data and the account intact', async () => {
    expect(await statusWithin(10_000, () => browser().get('/health/store'))).toBe(200);
    expect((await user.get('/auth/me')).body.user.email).toBe(email);
    expect((await user.get('/session/data')).body).toMatchObject({ data: { cart: ['tea'] } });
    expect((await browser().post('/auth/login', { email, password: PASSWORD })).status).toBe(200);
    expect(kura.child.exitCode).toBeNull();
  });

  it('counts every Redis command for Prometheus, by name and outcome, with its round trip: the outage shows as errors', async () => {
    const text = await (await fetch(metricsUrl)).text();
    const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? Number.NaN);
    console.log(text.split('\n').filter((line) => line.startsWith('kura_redis_commands_total')).join('\n'));

    expect(value(/^kura_redis_commands_total\{command="HGETALL",outcome="ok",service="kura"\} (\d+)/m)).toBeGreaterThanOrEqual(3);
    expect(value(/^kura_redis_commands_total\{command="HGETALL",outcome="error",service="kura"\} (\d+)/m)).toBeGreaterThanOrEqual(100);
    expect(value(/^kura_redis_commands_total\{command="EVALSHA",outcome="ok",service="kura"\} (\d+)/m)).toBeGreaterThanOrEqual(1);
    expect(value(/^kura_redis_command_duration_seconds_count\{[^}]*command="HGETALL"[^}]*\} (\d+)/m)).toBeGreaterThanOrEqual(103);
  });
});
