import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { readFile } from 'node:fs/promises';
import { createClient } from 'redis';
import { HttpClient, uniqueEmail } from './support/http-client.js';
import { startKuraInProcess } from './support/kura-app.js';
import { type RedisServer, startRedisServer } from './support/redis-server.js';

/**
 * What each request costs in Redis commands, seen by Redis itself (MONITOR: every command a client sent, the
 * commands scripts run inside excluded), not counted by Kura: the steady state is one read and no write, the
 * idle extension one script per refresh interval, and nothing scans or lists keys on a request path.
 */
let redis: RedisServer;
let observer: ReturnType<typeof createClient>;
let monitor: ReturnType<typeof createClient>;
const seen: string[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  observer = createClient({ url: redis.url });
  monitor = createClient({ url: redis.url });
  await Promise.all([observer.connect(), monitor.connect()]);
  // Lines look like `1700000000.123456 [0 127.0.0.1:50000] "hgetall" "kura:session:{...}"`; a script's own
  // commands show as `[0 lua]` and are not what the client sent.
  await monitor.monitor((line: string) => {
    if (!line.includes(' lua]')) seen.push(line.toLowerCase());
  });
});
afterAll(async () => {
  monitor?.destroy();
  observer?.destroy();
  await redis?.stop();
});

let marks = 0;
/** The commands clients sent while `act` ran, counted by name (the observer's ECHO markers excluded). */
async function commandsDuring(act: () => Promise<unknown>): Promise<Record<string, number>> {
  const [start, end] = [`"echo" "start-${(marks += 1)}"`, `"echo" "end-${marks}"`];
  await observer.echo(`start-${marks}`);
  await act();
  await observer.echo(`end-${marks}`);
  for (const giveUpAt = Date.now() + 5000; !seen.some((line) => line.endsWith(end)) && Date.now() < giveUpAt; ) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const from = seen.findIndex((line) => line.endsWith(start));
  const to = seen.findIndex((line) => line.endsWith(end));
  const counts: Record<string, number> = {};
  for (const line of seen.slice(from + 1, to)) {
    const command = /\] "([^"]+)"/.exec(line)?.[1]?.toLowerCase() ?? '?';
    counts[command] = (counts[command] ?? 0) + 1;
  }
  return counts;
}

async function kuraWith(extra: Record<string, string> = {}) {
  const { app, baseUrl } = await startKuraInProcess({
    KURA_STORE: 'redis',
    REDIS_URL: redis.url,
    KURA_REDIS_KEY_PREFIX: `t${Math.random().toString(36).slice(2, 8)}:`,
    KURA_PASSWORD_HASH_COST: '12',
    KURA_LOG_LEVEL: 'warn',
    ...extra,
  });
  return { app, baseUrl, measure: commandsDuring };
}

describe('Redis commands per request, counted at the server', () => {
  let kura: Awaited<ReturnType<typeof kuraWith>>;
  let app: NestFastifyApplication;
  beforeAll(async () => {
    kura = await kuraWith({ KURA_SESSION_IDLE_TIMEOUT: '60', KURA_SESSION_REFRESH_INTERVAL: '1' });
    app = kura.app;
  });
  afterAll(() => app.close());

  it('serves GET /auth/me at steady state with exactly one HGETALL and no write', async () => {
    const steady = await kuraWith();
    try {
      const browser = new HttpClient(steady.baseUrl);
      await browser.signUpAndLogIn(uniqueEmail());

      const counts = await steady.measure(async () => {
        for (let i = 0; i < 20; i += 1) expect((await browser.get('/auth/me')).status).toBe(200);
      });

      expect(counts).toEqual({ hgetall: 20 });
    } finally {
      await steady.app.close();
    }
  });

  it('extends the idle expiry with one script once the refresh interval has passed', async () => {
    const [warmUp, browser] = [new HttpClient(kura.baseUrl), new HttpClient(kura.baseUrl)];
    await warmUp.signUpAndLogIn(uniqueEmail());
    await browser.signUpAndLogIn(uniqueEmail());
    await new Promise((resolve) => setTimeout(resolve, 1100));
    // The first extension on a fresh server also loads the script (NOSCRIPT, then EVAL): not the steady cost.
    await warmUp.get('/auth/me');

    const counts = await kura.measure(() => browser.get('/auth/me'));

    expect(counts).toEqual({ hgetall: 1, evalsha: 1 });
  });

  it('reads the session with its data in one script, and changes the data with one more: PATCH /session/data is two round trips', async () => {
    const browser = new HttpClient(kura.baseUrl);
    await browser.signUpAndLogIn(uniqueEmail());
    // Each patch changes the data: one that changes nothing writes nothing (one script).
    let round = 0;
    const patch = () => browser.request('PATCH', '/session/data', { body: JSON.stringify({ cart: ['tea'], round: (round += 1) }), headers: { 'content-type': 'application/merge-patch+json' } });
    await patch(); // loads the scripts on a fresh server (NOSCRIPT, then EVAL): not the steady cost

    // MONITOR shows what clients send, not what the scripts run inside (the read: HGETALL + HMGET of two keys in one slot).
    expect(await kura.measure(async () => expect((await patch()).status).toBe(200))).toEqual({ evalsha: 2 });
    expect(await kura.measure(async () => expect((await browser.get('/session/data')).status).toBe(200))).toEqual({ evalsha: 1 });
  });

  it('logs in with single-key steps only: no KEYS, no SCAN, no MULTI spanning keys', async () => {
    const api = new HttpClient(kura.baseUrl);
    const email = uniqueEmail();
    await api.post('/auth/register', { email, password: 'correct horse battery' });

    const counts = await kura.measure(() => api.post('/auth/login', { email, password: 'correct horse battery' }));

    console.log(`a login on Redis: ${JSON.stringify(counts)}`);
    expect(Object.keys(counts).filter((command) => ['keys', 'scan', 'multi', 'exec', 'watch'].includes(command))).toEqual([]);
    expect(counts).toEqual({
      scard: 6, // the failed-login counters (this window's and the last): this account from this client, the account's total, the client's
      hgetall: 1, // the account
      // Scripts: reserving the attempt in the three counters, the session, its listing index, the user's register.
      evalsha: 6,
      // Withdrawing the attempt from the account's total and the client's once the password was right (the other
      // failures there are not the owner's to forgive: since 2026-12-05, so that one address cannot lock the owner out).
      srem: 2,
      unlink: 1, // clearing this account's failures from this client
    });
  });

  // GET /health/store is public wherever every route is (Lambda): each request sent INFO and a write, so a client
  // asking in a loop set Redis's load (a review's leftover, session 57).
  it('checks the store for GET /health/store at most once a second while it passes, however many ask', async () => {
    const anonymous = new HttpClient(kura.baseUrl);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // no pass from an earlier check to reuse

    let took = 0;
    const counts = await kura.measure(async () => {
      const began = performance.now();
      const answers = await Promise.all(Array.from({ length: 20 }, () => anonymous.get('/health/store')));
      for (let request = 0; request < 20; request += 1) answers.push(await anonymous.get('/health/store'));
      took = performance.now() - began;
      expect(answers.map((answer) => answer.status)).toEqual(Array(40).fill(200));
    });

    // A check is an INFO and the health key's HSET (the eviction guard sends an INFO memory of its own now and then):
    // one, unless a loaded machine took over a second for the 40 (a check then for each second begun).
    expect(counts.hset).toBeGreaterThanOrEqual(1);
    expect(counts.hset).toBeLessThanOrEqual(Math.ceil(took / 1000));
  });

  it('rejects an unknown but well-formed token with one read and no write, a malformed one with no command', async () => {
    const unknown = await kura.measure(() => new HttpClient(kura.baseUrl).get('/auth/me', { headers: { authorization: `Bearer ${'A'.repeat(43)}` } }));
    const malformed = await kura.measure(() => new HttpClient(kura.baseUrl).get('/auth/me', { headers: { authorization: 'Bearer nope' } }));

    expect(unknown).toEqual({ hgetall: 1 });
    expect(malformed).toEqual({});
  });
});

/**
 * Connections count against Redis's `maxclients` (ElastiCache's is fixed at 65,000): an operator sizes it, or learns why
 * new pods are refused, from how many each Kura process opens. docs/redis.md gives the numbers; Redis counts them here.
 */
describe('the connections a Kura process opens, counted at the server', () => {
  /** docs/redis.md's numbers: connections per process, and how many more KURA_REDIS_WAIT_REPLICAS adds. */
  async function documented(): Promise<{ base: number; durable: number }> {
    const docs = await readFile(new URL('../docs/redis.md', import.meta.url), 'utf8');
    const stated = /each Kura process[^.]*? opens (\d+) connection[^.]*?, and (\d+) more with `KURA_REDIS_WAIT_REPLICAS`/.exec(docs.replace(/\s+/g, ' '));
    if (!stated) throw new Error('docs/redis.md does not say how many connections each Kura process opens');
    return { base: Number(stated[1]), durable: Number(stated[2]) };
  }

  /** How many connections Redis holds that are not the test's own. */
  const clients = async () => String(await observer.sendCommand(['CLIENT', 'LIST'])).trim().split('\n').length;

  it.each([
    ['without WAIT', {}, false],
    ['with KURA_REDIS_WAIT_REPLICAS=1', { KURA_REDIS_WAIT_REPLICAS: '1' }, true],
  ])('%s: as many as docs/redis.md says', async (_case, extra, durable) => {
    const { base, durable: more } = await documented();
    const before = await clients();
    const { app } = await kuraWith(extra);
    try {
      expect((await clients()) - before).toBe(base + (durable ? more : 0));
    } finally {
      await app.close();
    }
  });
});
