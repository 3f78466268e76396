import { once } from 'node:events';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { StoreUnavailableError } from '@kura/common';
import { connectRedis, fromIoredis, type RedisConnection, RedisSessionStore, RedisUserStore } from '@kura/redis';
import { Redis } from 'ioredis';
import { generateSessionToken, sessionIdOf } from '@kura/session';
import { startKuraInProcess } from './support/kura-app.js';
import { percentile } from './support/percentile.js';
import { CLUSTER_NODE_ARGS, clusterNodes, redisCli, startRedisCluster, until } from './support/redis-cluster.js';
import { FLAVOUR_NAMES, possibleFlavours, type RedisFlavour, redisRunsPossible, type RedisServer, startRedisServer } from './support/redis-server.js';
import { startRedisSentinels, type RedisSentinelSetup } from './support/redis-sentinel.js';
import { masterWithLaggingReplica, startReplicationLink } from './support/replication-link.js';

/**
 * Kura on Redis Sentinel (a master, one replica, three sentinels), under load through its HTTP API: logins,
 * logouts, logout-all and password changes run continuously on several accounts; the replica falls behind (its
 * link stops passing the master's stream) and then the master is SIGKILLed, as when a master dies with writes
 * not yet replicated. The sentinels promote the replica, Kura follows it, the old master comes back as a replica,
 * and every operation acknowledged before the kill is checked against what the new master holds. The same load
 * runs on a Redis Cluster with a replica per master (ElastiCache's cluster mode, MemoryDB), one master SIGKILLed,
 * and on Valkey 8 both ways.
 */

const LAG_AT_MS = 2000;
/**
 * The master dies once this many operations on its keys were acknowledged while its replica lagged (or after
 * KILL_WITHIN_MS): all of them behind Sentinel, about a third of all those acknowledged in a cluster of three.
 */
const ACKNOWLEDGED_WHILE_LAGGING = 16;
const KILL_WITHIN_MS = 3000;
/**
 * Without WAIT (the contrast, which must see a write undone or lost), twice as many, all begun after the replica
 * fell behind, and no deadline short of the test's: on CI's loaded machine (stop 67) 3 s of lag once held too few
 * for any acknowledged write on the failed master to be among those checked, and the contrast saw nothing lost.
 * Locally, 49 such operations in a cluster left 7 undone or lost, 15 behind Sentinel 6.
 */
const BEGUN_WHILE_LAGGING_WITHOUT_WAIT = 2 * ACKNOWLEDGED_WHILE_LAGGING;
const KILL_WITHIN_MS_WITHOUT_WAIT = 60_000;
/** Accounts that log in, log out, log out everywhere and change password in turn. */
const WORKERS = 6;
/** Accounts that only log in: their sessions stay live unless a failover loses them. */
const WITNESSES = 2;
const OPERATIONS = ['login', 'login', 'logout', 'login', 'logout-all', 'login', 'password'] as const;
type Operation = (typeof OPERATIONS)[number];

interface Token {
  readonly token: string;
  /** `live`: acknowledged login, not ended by us; `ended`: a logout, logout-all or password change acknowledged it ended; `uncertain`: one that ends it failed. */
  state: 'live' | 'ended' | 'uncertain';
}

interface Account {
  readonly email: string;
  password: string;
  /** After an unacknowledged password change: either password may hold, to the end of the run. */
  candidates: string[] | undefined;
  /** Passwords an acknowledged change replaced: each must stay refused. */
  readonly replaced: string[];
  readonly tokens: Token[];
}

interface Figures {
  operations: number;
  acknowledged: Record<Operation, number>;
  /**
   * Operations begun after the replica fell behind and acknowledged before the kill. Behind Sentinel every write
   * goes to the master whose replica lags, and WAIT must refuse them all; in a cluster, the other masters' count.
   */
  acknowledgedAfterTheLag: number;
  /** Whether every key lives on the master that fails (Sentinel), or a share of them (a cluster). */
  everyKeyOnTheMaster: boolean;
  /** 503 answers (StoreUnavailableError), from the replica falling behind to the end of the load. */
  unavailable: number;
  /** Answers that are neither an acknowledgement nor a 503: there must be none. */
  unexpected: string[];
  /** From the kill to the last 503 (Kura then answered everything for at least a second, or the load ended). */
  recoveredAfterMs: number | undefined;
  /** From the kill to the sentinels naming the replica as master (Redis Sentinel's time, not Kura's). */
  promotedAfterMs: number;
  /** When SENTINEL FAILOVER was sent, if the sentinels had not promoted the replica on their own by then. */
  failoverForcedAfterMs?: number;
  /** Sessions whose ending was acknowledged that authenticate again. */
  undone: number;
  /** Sessions whose login was acknowledged, never ended by us, that no longer authenticate. */
  lost: number;
  /** Passwords replaced by an acknowledged change that log in again. */
  passwordsBack: number;
  checkedSessions: number;
  checkedPasswords: number;
  /** Latency of acknowledged logins and logouts before the replica fell behind (ms). */
  latency: Record<'login' | 'logout', { p50: number; p99: number; count: number }>;
}

async function call(baseUrl: string, method: string, path: string, options: { token?: string; json?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.json !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(new URL(path, baseUrl), {
    method,
    headers,
    ...(options.json !== undefined ? { body: JSON.stringify(options.json) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  // A 503's Warning header says why the store did not answer.
  return { status: response.status, body: text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text, warning: response.headers.get('warning') };
}

/** Where the scenario runs: how Kura reaches the master, how its replica falls behind, and how the master fails. */
interface FailoverSetup {
  /** For the figures: "Redis Sentinel", "Valkey Cluster", ... */
  readonly name: string;
  /** Kura's settings to reach it. */
  readonly env: Record<string, string>;
  /** Stops passing the master's stream to the replica that will be promoted; absent where that cannot be done. */
  readonly lag?: () => void;
  /** The share of Kura's keys on the master that fails: 1 behind Sentinel, a third in a cluster of three. */
  readonly shareOfKeys: number;
  /** SIGKILLs the master. */
  kill(): void;
  /** Resolves once the replica is master; says after how long it had to be forced, if it was. */
  promotion(killAt: number): Promise<number | undefined>;
  /** After the promotion: the old master's place filled by a replica of the new one (as an operator or Kubernetes would). */
  rejoin(): Promise<void>;
}

/** A master, one replica (through a relay that can lag) and three sentinels. */
async function behindSentinels(flavour: RedisFlavour, cleanups: (() => Promise<unknown>)[]): Promise<FailoverSetup> {
  const redis: RedisSentinelSetup = await startRedisSentinels({ flavour });
  cleanups.push(() => redis.stop());
  return {
    name: `${FLAVOUR_NAMES[flavour]} Sentinel`,
    env: {
      // With sentinels, only the URL's user, password and TLS count: the sentinels say where the master is.
      REDIS_URL: 'redis://127.0.0.1:6379',
      KURA_REDIS_SENTINELS: redis.sentinelNodes.map(({ host, port }) => `${host}:${port}`).join(','),
      KURA_REDIS_SENTINEL_MASTER: redis.masterName,
    },
    lag: () => redis.link.lag(),
    shareOfKeys: 1,
    kill: () => process.kill(redis.master.pid, 'SIGKILL'),
    async promotion(killAt) {
      // Usually 2-3 s. A sentinel that voted for another one which then did not fail over waits twice the
      // failover-timeout (2 x 30 s, see startRedisSentinels) before it tries again: once in about five CI runs
      // (2026-12-01) the promotion outlasted 30 s, and once (2026-12-02) 75 s. This test is about Kura following a
      // promotion, not about the sentinels' election: after 20 s without one, each sentinel is asked as an operator
      // would, with SENTINEL FAILOVER (which needs no agreement), again every 10 s. The figures say when it was.
      let nudgedAt = 0;
      let forcedAfterMs: number | undefined;
      await until(
        'the sentinels to promote the replica',
        async () => {
          if ((await redis.currentMasterPort()) === redis.replica.port) return true;
          const now = performance.now();
          if (now - killAt > 20_000 && now - nudgedAt > 10_000) {
            nudgedAt = now;
            forcedAfterMs ??= Math.round(now - killAt);
            for (const sentinel of redis.sentinels) await redisCli(sentinel.port, 'SENTINEL', 'FAILOVER', redis.masterName).catch(() => undefined);
          }
          return false;
        },
        75_000,
      );
      return forcedAfterMs;
    },
    async rejoin() {
      // The old master comes back as a replica of the new one (the sentinels would demote it too, on their next
      // INFO round, up to 10 s later). Until then WAIT 1 has no replica to count.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const restarted = await startRedisServer({ flavour, port: redis.master.port, args: ['--appendonly', 'yes', '--replicaof', '127.0.0.1', String(redis.replica.port)] });
      cleanups.push(() => restarted.stop());
    },
  };
}

/**
 * A Redis Cluster of three masters with `replicas` replicas each (ElastiCache's cluster mode, MemoryDB): the master
 * that fails is not the seed node Kura was given (a configuration endpoint stays up). The cluster promotes one of
 * its replicas after the node timeout (2 s) on the other masters' votes. With one replica, the promoted master has
 * none until an operator adds one (`rejoin` does); with two, the other follows the promoted one by itself and
 * nothing is added. The master that fails announces a relay's port (`cluster-announce-port`), so its replicas
 * replicate through the relay, which can make them lag as behind Sentinel.
 */
async function inACluster(flavour: RedisFlavour, cleanups: (() => Promise<unknown>)[], replicas: 1 | 2 = 1): Promise<FailoverSetup> {
  const cluster = await startRedisCluster(3, { flavour, replicas });
  cleanups.push(() => cluster.stop());
  const seedPort = cluster.nodes[0]!.port;
  const nodes = await clusterNodes(seedPort);
  const master = nodes.find((node) => node.role === 'master' && node.port !== seedPort)!;
  const itsReplicas = nodes.filter((node) => node.masterId === master.id);
  const masterServer = cluster.nodes.find((node) => node.port === master.port)!;
  const link = await startReplicationLink(master.port);
  cleanups.push(() => link.close());
  await redisCli(master.port, 'CONFIG', 'SET', 'cluster-announce-port', String(link.port));
  for (const replica of itsReplicas) {
    // The cluster's gossip carries the new port, and a replica whose master moved reconnects to it.
    await until(`replica ${replica.port} to replicate through the relay`, async () => {
      const replication = await redisCli(replica.port, 'INFO', 'replication');
      return replication.includes(`master_port:${link.port}`) && replication.includes('master_link_status:up');
    });
  }
  let promoted: string | undefined;
  return {
    name: `${FLAVOUR_NAMES[flavour]} Cluster (three masters, ${replicas === 1 ? 'a replica' : 'two replicas'} each)`,
    env: { REDIS_URL: cluster.url, KURA_REDIS_CLUSTER: 'true' },
    lag: () => link.lag(),
    shareOfKeys: 1 / 3,
    kill: () => process.kill(masterServer.pid, 'SIGKILL'),
    async promotion() {
      await until(
        'the cluster to promote a replica',
        async () => {
          for (const replica of itsReplicas) {
            if ((await clusterNodes(replica.port)).find((node) => node.id === replica.id)?.role === 'master') promoted = replica.id;
          }
          return promoted !== undefined;
        },
        75_000,
      );
      return undefined;
    },
    async rejoin() {
      if (replicas === 2) {
        // Nothing is added: the other replica must follow the promoted master on its own (the cluster tells it to).
        const other = itsReplicas.find((replica) => replica.id !== promoted)!;
        await until('the other replica to follow the promoted master', async () => (await clusterNodes(other.port)).find((node) => node.id === other.id)?.masterId === promoted);
        return;
      }
      // A new, empty node takes the dead master's place as a replica of the promoted one.
      const node = await startRedisServer({ flavour, args: CLUSTER_NODE_ARGS });
      cleanups.push(() => node.stop());
      await redisCli(node.port, 'CLUSTER', 'MEET', '127.0.0.1', String(seedPort));
      await until('the new node to know the promoted master', async () => (await clusterNodes(node.port)).some((known) => known.id === promoted));
      await until('the new node to replicate the promoted master', async () => (await redisCli(node.port, 'CLUSTER', 'REPLICATE', promoted!)).trim() === 'OK');
    },
  };
}

/** Runs the scenario on `setup` with `WAIT waitReplicas` on the durable writes (0: none) and returns what it measured. */
async function killTheMasterUnderLoad(setup: FailoverSetup, waitReplicas: number, cleanups: (() => Promise<unknown>)[]): Promise<Figures> {
  const { app, baseUrl }: { app: NestFastifyApplication; baseUrl: string } = await startKuraInProcess({
    KURA_STORE: 'redis',
    ...setup.env,
    KURA_REDIS_WAIT_REPLICAS: String(waitReplicas),
    KURA_REDIS_WAIT_TIMEOUT_MS: '300',
    KURA_REDIS_TIMEOUT_MS: '1000',
    KURA_PASSWORD_HASH_COST: '10',
    KURA_LOGIN_MAX_FAILURES_PER_ACCOUNT: '10000',
    KURA_LOGIN_MAX_FAILURES_PER_CLIENT: '10000',
    KURA_REGISTRATION_MAX_PER_CLIENT: '10000',
    KURA_LOG_LEVEL: 'error',
  });
  cleanups.push(() => app.close());

  const accounts: Account[] = [];
  for (let index = 0; index < WORKERS + WITNESSES; index += 1) {
    const account: Account = { email: `failover-${waitReplicas}-${index}-${Date.now()}@example.com`, password: 'password-0 correct horse', candidates: undefined, replaced: [], tokens: [] };
    let answer: Awaited<ReturnType<typeof call>> | undefined;
    await until('Kura to register an account on Redis', async () => (answer = await call(baseUrl, 'POST', '/auth/register', { json: { email: account.email, password: account.password } })).status === 201, 15_000).catch((error: Error) => {
      throw new Error(`${error.message}; the last answer: ${answer?.status} ${answer?.warning ?? JSON.stringify(answer?.body)}`);
    });
    accounts.push(account);
  }

  const figures: Figures = {
    operations: 0,
    acknowledgedAfterTheLag: 0,
    everyKeyOnTheMaster: setup.shareOfKeys === 1,
    acknowledged: { login: 0, logout: 0, 'logout-all': 0, password: 0 },
    unavailable: 0,
    unexpected: [],
    recoveredAfterMs: undefined,
    promotedAfterMs: 0,
    undone: 0,
    lost: 0,
    passwordsBack: 0,
    checkedSessions: 0,
    checkedPasswords: 0,
    latency: { login: { p50: 0, p99: 0, count: 0 }, logout: { p50: 0, p99: 0, count: 0 } },
  };
  const latencies = { login: [] as number[], logout: [] as number[] };
  // Every instant below is performance.now().
  const start = performance.now();
  let lagAt = Infinity;
  let killAt = Infinity;
  let stopAt = Infinity;
  let passwords = 0;
  let lastUnavailableAt = -Infinity;
  let acknowledgedSinceUnavailable = 0;

  const note = (operation: Operation, status: number, acknowledged: boolean, began: number) => {
    figures.operations += 1;
    if (acknowledged) {
      figures.acknowledged[operation] += 1;
      if (began > lagAt && killAt === Infinity) figures.acknowledgedAfterTheLag += 1;
      if ((operation === 'login' || operation === 'logout') && began < start + LAG_AT_MS - 200) latencies[operation].push(performance.now() - began);
      acknowledgedSinceUnavailable += 1;
    } else if (status === 503) {
      figures.unavailable += 1;
      lastUnavailableAt = performance.now();
      acknowledgedSinceUnavailable = 0;
    } else figures.unexpected.push(`${operation}: ${status}`);
  };

  const login = async (account: Account) => {
    for (const password of account.candidates ?? [account.password]) {
      const began = performance.now();
      const answer = await call(baseUrl, 'POST', '/auth/login', { json: { email: account.email, password, transport: 'bearer' } });
      if (answer.status === 401 && account.candidates) continue;
      note('login', answer.status, answer.status === 200, began);
      if (answer.status !== 200) return;
      // A login with the new password does not settle a change answered 503: in a cluster, the account's key may
      // be on a master whose replicas lag, and the failover may still undo that change (Kura never acknowledged
      // it). Once in doubt, an account stays so: it only logs in, with either password.
      account.tokens.push({ token: (answer.body as { token: string }).token, state: 'live' });
      return;
    }
  };

  const work = async (account: Account, operations: readonly Operation[]) => {
    for (let step = 0; performance.now() < stopAt; step += 1) {
      const operation = operations[step % operations.length]!;
      const live = account.tokens.filter((token) => token.state === 'live');
      const current = live.at(-1);
      if (operation === 'login' || !current || account.candidates) {
        await login(account);
        continue;
      }
      const began = performance.now();
      if (operation === 'logout') {
        const answer = await call(baseUrl, 'POST', '/auth/logout', { token: current.token });
        note('logout', answer.status, answer.status === 204, began);
        current.state = answer.status === 204 ? 'ended' : 'uncertain';
      } else if (operation === 'logout-all') {
        const answer = await call(baseUrl, 'POST', '/auth/logout-all', { token: current.token });
        note('logout-all', answer.status, answer.status === 200, began);
        for (const token of live) token.state = answer.status === 200 ? 'ended' : 'uncertain';
      } else {
        const next = `password-${(passwords += 1)} correct horse`;
        const answer = await call(baseUrl, 'POST', '/auth/password', { token: current.token, json: { currentPassword: account.password, newPassword: next } });
        note('password', answer.status, answer.status === 200, began);
        for (const token of live) token.state = answer.status === 200 ? 'ended' : 'uncertain';
        if (answer.status === 200) {
          account.replaced.push(account.password);
          account.password = next;
          account.tokens.push({ token: (answer.body as { token: string }).token, state: 'live' });
        } else {
          account.candidates = [account.password, next];
        }
      }
    }
  };

  const load = Promise.all(accounts.map((account, index) => work(account, index < WORKERS ? OPERATIONS : ['login'])));
  await new Promise((resolve) => setTimeout(resolve, LAG_AT_MS));
  const acknowledgedAtLag = Object.values(figures.acknowledged).reduce((sum, count) => sum + count, 0);
  if (setup.lag) {
    lagAt = performance.now();
    setup.lag();
    await until(
      'operations acknowledged while the replica lags',
      async () =>
        waitReplicas === 0
          ? figures.acknowledgedAfterTheLag >= BEGUN_WHILE_LAGGING_WITHOUT_WAIT / setup.shareOfKeys
          : Object.values(figures.acknowledged).reduce((sum, count) => sum + count, 0) - acknowledgedAtLag >= ACKNOWLEDGED_WHILE_LAGGING / setup.shareOfKeys ||
            performance.now() - lagAt > KILL_WITHIN_MS,
      waitReplicas === 0 ? KILL_WITHIN_MS_WITHOUT_WAIT : undefined,
    );
  }
  const acknowledgedBeforeKill = accounts.map((account) => ({
    tokens: account.tokens.filter((token) => token.state !== 'uncertain').map((token) => ({ ...token })),
    replaced: [...account.replaced],
  }));
  const acknowledgedWhileLagging = Object.values(figures.acknowledged).reduce((sum, count) => sum + count, 0) - acknowledgedAtLag;
  killAt = performance.now();
  setup.kill();
  const forcedAfterMs = await setup.promotion(killAt);
  if (forcedAfterMs !== undefined) figures.failoverForcedAfterMs = forcedAfterMs;
  figures.promotedAfterMs = Math.round(performance.now() - killAt);
  await setup.rejoin();
  // Served again: a full second, and a few operations acknowledged, without a 503 (in a cluster, the masters that
  // did not fail keep answering, so a single success says nothing of the failed one's slots).
  await until('Kura to answer a second without a 503 after the failover', async () => performance.now() - lastUnavailableAt > 1000 && acknowledgedSinceUnavailable >= 10, 30_000);
  figures.recoveredAfterMs = Math.max(0, Math.round(lastUnavailableAt - killAt));
  stopAt = performance.now() + 500;
  await load;

  // Afterwards: every session and password as acknowledged before the kill, read through Kura (retrying a 503).
  const answered = async (path: string, options: Parameters<typeof call>[3]) => {
    for (let attempt = 0; ; attempt += 1) {
      const answer = await call(baseUrl, path === '/auth/me' ? 'GET' : 'POST', path, options);
      if (answer.status !== 503 || attempt > 50) return answer.status;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  for (const [index, before] of acknowledgedBeforeKill.entries()) {
    const account = accounts[index]!;
    for (const token of before.tokens) {
      // Still live then, and ended or put in doubt by us after: only what we know is checked.
      const now = account.tokens.find((other) => other.token === token.token)!;
      if (token.state === 'live' && now.state !== 'live') continue;
      figures.checkedSessions += 1;
      const status = await answered('/auth/me', { token: token.token });
      if (token.state === 'ended' && status === 200) figures.undone += 1;
      if (token.state === 'live' && status === 401) figures.lost += 1;
    }
    for (const password of before.replaced) {
      figures.checkedPasswords += 1;
      if ((await answered('/auth/login', { json: { email: account.email, password, transport: 'bearer' } })) === 200) figures.passwordsBack += 1;
    }
  }
  for (const operation of ['login', 'logout'] as const) {
    figures.latency[operation] = { p50: percentile(latencies[operation], 50), p99: percentile(latencies[operation], 99), count: latencies[operation].length };
  }
  console.log(
    [
      `${setup.name} failover, WAIT ${waitReplicas === 0 ? 'off' : `${waitReplicas} replica (300 ms)`}: ${setup.lag ? `replica lagging ${Math.round(killAt - lagAt)} ms (${acknowledgedWhileLagging} operations acknowledged meanwhile, ${figures.acknowledgedAfterTheLag} of them begun after it fell behind${figures.everyKeyOnTheMaster ? '' : ', on any master'})` : 'replica in step'} before the master was SIGKILLed; promoted after ${figures.promotedAfterMs} ms${figures.failoverForcedAfterMs === undefined ? '' : ` (SENTINEL FAILOVER sent after ${figures.failoverForcedAfterMs} ms)`}`,
      `  operations ${figures.operations} (acknowledged ${JSON.stringify(figures.acknowledged)}), 503s ${figures.unavailable}, other answers ${figures.unexpected.length}`,
      `  Kura's last 503 came ${figures.recoveredAfterMs} ms after the kill (${(figures.recoveredAfterMs ?? NaN) - figures.promotedAfterMs} ms after the promotion); it answered everything for a second after that`,
      `  checked ${figures.checkedSessions} sessions and ${figures.checkedPasswords} replaced passwords acknowledged before the kill:` +
        ` undone logouts/revocations ${figures.undone}, lost logins ${figures.lost}, replaced passwords accepted again ${figures.passwordsBack}`,
      `  before the kill: login p50 ${figures.latency.login.p50} ms p99 ${figures.latency.login.p99} ms (n=${figures.latency.login.count}),` +
        ` logout p50 ${figures.latency.logout.p50} ms p99 ${figures.latency.logout.p99} ms (n=${figures.latency.logout.count})`,
    ].join('\n'),
  );
  return figures;
}

/** What a failover with WAIT must leave: every acknowledged write in place, and Kura serving again on the new master. */
function expectNothingAcknowledgedUndone(figures: Figures): void {
  expect(figures.unexpected).toEqual([]);
  if (figures.everyKeyOnTheMaster) expect(figures.acknowledgedAfterTheLag).toBe(0);
  expect(figures.acknowledged.login).toBeGreaterThan(20);
  expect(figures.acknowledged.logout + figures.acknowledged['logout-all']).toBeGreaterThan(5);
  expect(figures.acknowledged.password).toBeGreaterThan(0);
  expect(figures.checkedSessions).toBeGreaterThan(10);
  expect({ undone: figures.undone, lost: figures.lost, passwordsBack: figures.passwordsBack }).toEqual({ undone: 0, lost: 0, passwordsBack: 0 });
  // Kura's part: following the new master once the sentinels name it (how long they take to elect is theirs).
  expect(figures.recoveredAfterMs! - figures.promotedAfterMs).toBeLessThan(15_000);
}

/** The cleanups a block's tests push, run after each test, last pushed first. */
function cleanedAfterEach(): (() => Promise<unknown>)[] {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });
  return cleanups;
}

// Redis where `redis-server` is installed, and Valkey where `valkey-server` is (`.ci/run` installs both).
describe.each(possibleFlavours((name) => `Kura on ${name}, its master SIGKILLed under load`))('Kura on $name: the master is SIGKILLed under load', ({ flavour }) => {
  const cleanups = cleanedAfterEach();

  it('behind Sentinel, its replica lagging, with WAIT for one replica: follows the new master and undoes no acknowledged logout, revocation or password change, and loses no login', async () => {
    expectNothingAcknowledgedUndone(await killTheMasterUnderLoad(await behindSentinels(flavour, cleanups), 1, cleanups));
  }, 180_000);

  it('in a Cluster with a replica per master, that replica lagging, with WAIT for one replica: follows the promoted replica without a restart, and undoes or loses nothing it acknowledged', async () => {
    expectNothingAcknowledgedUndone(await killTheMasterUnderLoad(await inACluster(flavour, cleanups), 1, cleanups));
  }, 180_000);

  it('in a Cluster with two replicas per master, both lagging, with WAIT for one replica: keeps taking durable writes through the failover with no node added, and undoes or loses nothing it acknowledged', async () => {
    // docs/redis.md's advice for WAIT on a cluster: the promoted master keeps a replica (the other one follows it),
    // so its durable writes wait for no new node and no first full sync.
    expectNothingAcknowledgedUndone(await killTheMasterUnderLoad(await inACluster(flavour, cleanups, 2), 1, cleanups));
  }, 180_000);

  // The contrast, once (on Redis): the same failovers without WAIT.
  if (flavour === 'redis') {
    it('behind Sentinel, without WAIT, the same failover undoes or loses writes Kura acknowledged (why WAIT is there)', async () => {
      const figures = await killTheMasterUnderLoad(await behindSentinels(flavour, cleanups), 0, cleanups);

      // (Its other answers are 401s: logins with a password whose acknowledged change the failover undid.)
      expect(figures.acknowledgedAfterTheLag).toBeGreaterThan(0);
      expect(figures.undone + figures.lost + figures.passwordsBack).toBeGreaterThan(0);
    }, 180_000);

    it('in a Cluster, without WAIT, the same failover undoes or loses writes Kura acknowledged', async () => {
      const figures = await killTheMasterUnderLoad(await inACluster(flavour, cleanups), 0, cleanups);

      expect(figures.undone + figures.lost + figures.passwordsBack).toBeGreaterThan(0);
    }, 180_000);
  }
});

if (redisRunsPossible('Kura on Redis: a demoted master, and the cost of WAIT')) {
  describe('a demoted master (READONLY) and a manual failover, through connectRedis', () => {
    const cleanups: (() => Promise<unknown>)[] = [];
    afterAll(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    });
    const newRecord = () => {
      const now = Date.now();
      return { id: sessionIdOf(generateSessionToken()), user: { id: 'readonly-user', name: null }, createdAt: now, lastSeenAt: now, idleExpiresAt: now + 60_000, absoluteExpiresAt: now + 120_000 };
    };

    it('answers a write on a replica (a demoted master) with StoreUnavailableError naming read-only, never a raw error', async () => {
      const redis = await startRedisSentinels({ relay: false });
      cleanups.push(() => redis.stop());
      const direct = connectRedis({ url: redis.replica.url });
      cleanups.push(() => direct.close());
      await direct.open();

      const refused = await new RedisSessionStore(direct).insert(newRecord()).catch((error: unknown) => error);

      expect(refused).toBeInstanceOf(StoreUnavailableError);
      expect((refused as StoreUnavailableError).reason).toMatch(/read-only replica/);

      // Through the sentinels, the same store follows SENTINEL FAILOVER (the master demoted, the replica promoted)
      // without a restart: writes fail with StoreUnavailableError at most while it switches, then land on the new master.
      const followed = connectRedis({ sentinels: redis.sentinelNodes, masterName: redis.masterName });
      cleanups.push(() => followed.close());
      await followed.open();
      await followsAManualFailover(redis, new RedisSessionStore(followed), 'connectRedis');
    }, 60_000);

    it("follows the same failover through an app's own ioredis Sentinel client (fromIoredis)", async () => {
      const redis = await startRedisSentinels({ relay: false });
      cleanups.push(() => redis.stop());
      // As ioredis's README has it for Sentinel: reconnect (asking the sentinels again) when a write meets READONLY,
      // and watch the sentinels' +switch-master (without it, measured before WAIT was fromIoredis's default behind
      // Sentinel: 78 writes went to the old master before it was demoted, against 1 with it; all acknowledged, then wiped).
      const client = new Redis({
        sentinels: redis.sentinelNodes.map(({ host, port }) => ({ host, port })),
        name: redis.masterName,
        enableOfflineQueue: false,
        lazyConnect: true,
        reconnectOnError: (error) => error.message.startsWith('READONLY'),
        failoverDetector: true,
      });
      cleanups.push(async () => {
        const ended = once(client, 'end');
        client.disconnect();
        await ended;
        // The failover detector's sentinel connections, replaced after the failover, are ended with a 2 s timer
        // to destroy them (ioredis's disconnectTimeout) that their close does not always clear: let it run out.
        await new Promise((resolve) => setTimeout(resolve, 2100));
      });
      await client.connect();
      await followsAManualFailover(redis, new RedisSessionStore(fromIoredis(client)), 'ioredis');
    }, 60_000);

    /** `store` writes on the master, SENTINEL FAILOVER is sent, and `store` goes on writing until the new master holds a write. */
    async function followsAManualFailover(redis: RedisSentinelSetup, store: RedisSessionStore, client: string) {
      await store.insert(newRecord());
      expect(await redisCli(redis.sentinels[0]!.port, 'SENTINEL', 'FAILOVER', redis.masterName)).toBe('OK\n');
      const failures: unknown[] = [];
      let overwritten = 0;
      let landed: string | undefined;
      await until('a write on the new master', async () => {
        const record = newRecord();
        try {
          await store.insert(record);
        } catch (error) {
          failures.push(error);
          return false;
        }
        if ((await redis.currentMasterPort()) !== redis.replica.port) return false;
        // The sentinels may name the new master while the client still writes to the old one, not yet demoted: without
        // WAIT (the default behind Sentinel, for both clients) that write would be acknowledged, then wiped when the old
        // master resyncs as a replica. Only a write the new master holds shows the client has followed.
        if ((await redisCli(redis.replica.port, 'HGET', `kura:session:{${record.id}}`, 'userId')) !== 'readonly-user\n') {
          overwritten += 1;
          return false;
        }
        landed = record.id;
        return true;
      }, 30_000);
      console.log(
        `SENTINEL FAILOVER (${client}): ${failures.length} write(s) refused while switching, as ${[...new Set(failures.map((error) => (error as StoreUnavailableError).reason))].join('; ') || 'none'}; ` +
          `${overwritten} acknowledged by the old master as it was demoted`,
      );
      expect(overwritten).toBe(0); // WAIT 1, the default behind Sentinel: the old master's replica never confirms them

      expect(failures.every((error) => error instanceof StoreUnavailableError)).toBe(true);
      expect(await redisCli(redis.replica.port, 'HGET', `kura:session:{${landed}}`, 'userId')).toBe('readonly-user\n');
    }
  });

  describe('WAIT on the durable writes, on a master and a replica', () => {
    const servers: RedisServer[] = [];
    const connections: RedisConnection[] = [];
    let master: RedisServer;
    let replica: RedisServer;
    beforeAll(async () => {
      master = await startRedisServer();
      servers.push(master);
      replica = await startRedisServer({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
      servers.push(replica);
      await until('the replica to sync', async () => (await redisCli(replica.port, 'INFO', 'replication')).includes('master_link_status:up'));
    });
    afterAll(async () => {
      for (const connection of connections) await connection.close();
      for (const server of servers) await server.stop();
    });
    const storeOn = async (replicas: number) => {
      const connection = connectRedis({ url: master.url, waitForReplicas: { replicas, timeoutMs: 300 } });
      connections.push(connection);
      await connection.open();
      return new RedisSessionStore(connection);
    };
    const waits = async () => Number(/cmdstat_wait:calls=(\d+)/.exec(await redisCli(master.port, 'INFO', 'commandstats'))?.[1] ?? 0);

    it('costs this much per login (session write + register) and logout (tombstone), one at a time and 16 at once', async () => {
      const ROUNDS = 800;
      const rows: string[] = [];
      for (const concurrency of [1, 16]) {
        for (const replicas of [0, 1, 0, 1]) {
          const store = await storeOn(replicas);
          const waitsBefore = await waits();
          const times = { login: [] as number[], logout: [] as number[] };
          const client = async (worker: number) => {
            for (let round = 0; round < ROUNDS / concurrency; round += 1) {
              const now = Date.now();
              const record = { id: sessionIdOf(generateSessionToken()), user: { id: `bench-${worker}-${round % 20}`, name: null }, createdAt: now, lastSeenAt: now, idleExpiresAt: now + 60_000, absoluteExpiresAt: now + 120_000 };
              let began = performance.now();
              await store.insert(record);
              await store.register(record.user.id, { id: record.id, absoluteExpiresAt: record.absoluteExpiresAt, credentialVersion: 0 }, now);
              times.login.push(performance.now() - began);
              began = performance.now();
              await store.end(record.id, now);
              times.logout.push(performance.now() - began);
            }
          };
          await Promise.all(Array.from({ length: concurrency }, (_, worker) => client(worker)));
          // Three durable writes per round with WAIT on (insert, register, end), none with it off.
          expect((await waits()) - waitsBefore).toBe(replicas === 0 ? 0 : 3 * ROUNDS);
          rows.push(
            `  ${String(concurrency).padStart(2)} at once, WAIT ${replicas === 0 ? 'off' : '1  '}: login p50 ${percentile(times.login, 50)} ms p99 ${percentile(times.login, 99)} ms;` +
              ` logout p50 ${percentile(times.logout, 50)} ms p99 ${percentile(times.logout, 99)} ms`,
          );
        }
      }
      console.log(`The latency of WAIT 1 (Redis 7.0.15, master and replica on loopback, ${ROUNDS} logins and logouts per row, store level):\n${rows.join('\n')}`);
    }, 180_000);

    it('refuses a durable write no replica confirmed in time, as StoreUnavailableError saying so, and accepts it again once the replica answers', async () => {
      const store = await storeOn(1);
      const now = Date.now();
      const record = (id: string) => ({ id, user: { id: 'wait-user', name: null }, createdAt: now, lastSeenAt: now, idleExpiresAt: now + 60_000, absoluteExpiresAt: now + 120_000 });
      process.kill(replica.pid, 'SIGSTOP');
      try {
        const refused = await store.insert(record(sessionIdOf(generateSessionToken()))).catch((error: unknown) => error);
        expect(refused).toBeInstanceOf(StoreUnavailableError);
        expect((refused as StoreUnavailableError).reason).toMatch(/0 of 1 replica\(s\) confirmed the write within 300 ms.*retrying is safe/);
      } finally {
        process.kill(replica.pid, 'SIGCONT');
      }
      await expect(store.insert(record(sessionIdOf(generateSessionToken())))).resolves.toBeUndefined();
    });
  });
}

// Found by the review of 2026-12-02 on Valkey 8: there, as on Redis 7.2+, WAIT counts only what its own connection
// wrote, and a retry that found its write already made wrote nothing, so its WAIT confirmed at once.
describe.each(possibleFlavours((name) => `Kura on ${name}: a durable write retried after WAIT refused it`))('Kura on $name: a durable write retried on another connection after WAIT refused it', ({ flavour }) => {
  const cleanups = cleanedAfterEach();

  it('is refused again while no replica has it: a logout, a login, a registration and a password change', async () => {
    const { master, link } = await masterWithLaggingReplica(flavour, cleanups);
    // Two of Kura's replicas (pods): the client retries a 503 and another one serves it.
    const pod = async (timeoutMs = 200) => {
      const connection = connectRedis({ url: master.url, waitForReplicas: { replicas: 1, timeoutMs } });
      cleanups.push(() => connection.close());
      await connection.open();
      return { sessions: new RedisSessionStore(connection), users: new RedisUserStore(connection) };
    };
    const [first, second] = [await pod(), await pod()];
    // What exists before the replica lags is written by a pod that waits longer for it: on a busy machine the
    // replica may take more than 200 ms to confirm a write it does get (seen beside two other Redis test files, 2026-12-06).
    const setup = await pod(5000);
    const now = Date.now();
    const record = () => ({ id: sessionIdOf(generateSessionToken()), user: { id: 'retried', name: null }, createdAt: now, lastSeenAt: now, idleExpiresAt: now + 60_000, absoluteExpiresAt: now + 120_000 });
    const account = (email: string) => ({ id: `id-${email}`, email, name: null, passwordHash: '$scrypt$first', createdAt: now, credentialVersion: 0 });
    const live = record();
    await setup.sessions.insert(live);
    await setup.users.insert(account('ada@example.com'));

    link.lag();
    const login = record();
    const writes: [string, (stores: typeof first) => Promise<unknown>][] = [
      ['logout', (stores) => stores.sessions.end(live.id, now)],
      ['login', (stores) => stores.sessions.insert(login)],
      ['registration', (stores) => stores.users.insert(account('grace@example.com'))],
      ['password change', (stores) => stores.users.replacePasswordHash('ada@example.com', '$scrypt$first', '$scrypt$second')],
    ];
    const outcomes: Record<string, string[]> = {};
    for (const [name, write] of writes) {
      outcomes[name] = [];
      for (const stores of [first, second]) {
        outcomes[name]!.push(await write(stores).then(() => 'acknowledged', (error: unknown) => (error instanceof StoreUnavailableError ? 'refused' : String(error))));
      }
    }

    expect(outcomes).toEqual({ logout: ['refused', 'refused'], login: ['refused', 'refused'], registration: ['refused', 'refused'], 'password change': ['refused', 'refused'] });
  });
});
