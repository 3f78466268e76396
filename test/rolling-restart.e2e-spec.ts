import { Pool } from 'undici';
import { freshTables, kuraEnv } from './support/engine.js';
import { HttpClient, uniqueEmail } from './support/http-client.js';
import { type KuraProcess, startKuraProcess } from './support/kura-process.js';

/**
 * A replica restarted while a load balancer keeps its upstream connections alive (ingress-nginx's
 * `upstream-keepalive`, Envoy, most Node and Go proxies): requests arrive on connections opened long before the
 * SIGTERM, at any moment of the shutdown. Every request the replica reads must be answered in full, never with a
 * 5xx; the only failure allowed is a connection closed or refused before a request was read, which balancers retry
 * and which changes nothing (checked: no patch that failed that way was applied, every acknowledged one was).
 */
type Outcome = { kind: 'me' | 'patch'; key?: string; status?: number; error?: string; detail?: string; keepAlive?: string };
let signalledAt = Number.POSITIVE_INFINITY;

const USERS = 10;

async function loggedInTokens(baseUrl: string): Promise<string[]> {
  return Promise.all(
    Array.from({ length: USERS }, async () => {
      const http = new HttpClient(baseUrl);
      const email = uniqueEmail('restart');
      await http.post('/auth/register', { email, password: 'correct horse battery' });
      const login = await http.post('/auth/login', { email, password: 'correct horse battery', transport: 'bearer' });
      return (login.body as { token: string }).token;
    }),
  );
}

/** Each user alternates a read and a patch of a key of its own over the shared kept-alive connections. */
async function trafficUntilGone(pool: Pool, token: string, user: number, outcomes: Outcome[]): Promise<void> {
  const authorization = `Bearer ${token}`;
  for (let step = 0, deadline = Date.now() + 30_000; Date.now() < deadline; step += 1) {
    const key = `u${user}s${step}`;
    for (const kind of ['me', 'patch'] as const) {
      const outcome: Outcome = kind === 'patch' ? { kind, key } : { kind };
      try {
        const response = await pool.request(
          kind === 'me'
            ? { method: 'GET', path: '/auth/me', headers: { authorization } }
            : {
                method: 'PATCH',
                path: '/session/data',
                headers: { authorization, 'content-type': 'application/merge-patch+json' },
                body: JSON.stringify({ [key]: step }),
              },
        );
        await response.body.text();
        outcome.status = response.statusCode;
        outcome.keepAlive = response.headers['keep-alive'] as string | undefined;
      } catch (error) {
        outcome.error = (error as { code?: string }).code ?? String(error);
        outcome.detail = `${(error as Error).message} (${Date.now() - signalledAt} ms after SIGTERM)`;
      }
      outcomes.push(outcome);
      if (outcome.error === 'ECONNREFUSED') return; // the replica is gone: a balancer would now send elsewhere
    }
  }
}

describe.each([
  ['with no drain (the worst case: closing while requests arrive)', '0'],
  ['with a one-second drain', '1'],
])('a replica that gets SIGTERM under kept-alive traffic, %s', (_, drainSeconds) => {
  let tables: Awaited<ReturnType<typeof freshTables>>;
  let kura: KuraProcess;
  let after: KuraProcess | undefined;
  afterAll(async () => {
    await kura?.stop('SIGKILL');
    await after?.stop();
  });

  it('answers every request it read in full, without a 5xx, and loses no acknowledged patch', async () => {
    tables = await freshTables();
    kura = await startKuraProcess(kuraEnv(tables, undefined, { KURA_SHUTDOWN_DRAIN_SECONDS: drainSeconds }));
    const tokens = await loggedInTokens(kura.baseUrl);
    const pool = new Pool(kura.baseUrl, { connections: USERS, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 60_000 });
    const exited = new Promise((resolve) => kura.child.once('exit', resolve));
    const outcomes: Outcome[] = [];

    const traffic = Promise.all(tokens.map((token, user) => trafficUntilGone(pool, token, user, outcomes)));
    // SIGTERM once the traffic is under way: sixty answers (for a second and a half, until a CI run answered
    // exactly 50 in that time on a machine busy with two other test files, and the floor below failed), at most 20 s.
    const answered = () => outcomes.filter((o) => o.status === 200).length;
    for (const end = Date.now() + 20_000; answered() < 60 && Date.now() < end; ) await new Promise((resolve) => setTimeout(resolve, 50));
    signalledAt = Date.now();
    kura.child.kill('SIGTERM');
    await traffic;
    await exited;
    await pool.close();

    const tally = outcomes.reduce<Record<string, number>>((counts, o) => ({ ...counts, [o.status ?? o.error!]: (counts[o.status ?? o.error!] ?? 0) + 1 }), {});
    console.log(`drain ${drainSeconds}s: ${JSON.stringify(tally)}\n${outcomes.filter((o) => o.detail).map((o) => `${o.kind} ${o.error}: ${o.detail}`).join('\n')}`);
    expect(outcomes.filter((o) => o.status !== undefined && o.status >= 500)).toEqual([]);
    expect(outcomes.filter((o) => o.status !== undefined && o.status !== 200)).toEqual([]);
    expect(outcomes.filter((o) => o.status === 200).length).toBeGreaterThan(50);
    // Idle connections outlive a balancer's 60 s idle timeout, so the balancer is the one to close them.
    expect(outcomes[0]).toMatchObject({ status: 200, keepAlive: 'timeout=72' });

    // What a failed connection carried was never read: the data holds exactly the acknowledged patches.
    after = await startKuraProcess(kuraEnv(tables));
    const stored = new Set<string>();
    for (const token of tokens) {
      const read = await new HttpClient(after.baseUrl).get('/session/data', { headers: { authorization: `Bearer ${token}` } });
      expect(read.status).toBe(200);
      for (const key of Object.keys((read.body as { data: Record<string, unknown> }).data)) stored.add(key);
    }
    const patches = outcomes.filter((o) => o.kind === 'patch');
    expect(patches.filter((o) => o.status === 200 && !stored.has(o.key!)).map((o) => o.key)).toEqual([]);
    expect(patches.filter((o) => o.error !== undefined && stored.has(o.key!)).map((o) => `${o.key}: ${o.error}`)).toEqual([]);
  }, 60_000);
});
