import { readFile } from 'node:fs/promises';
import { connectRedis, fromIoredis, type IoredisClient, type RedisCommander, RedisConnectSessionStore, RedisSessionStore } from '@kura/redis';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Cluster } from 'ioredis';
import { connectSession } from './contracts/connect-session-store.contract.js';
import { idsInOneSlot, outcome, REFUSED_BY_WAIT, sessionRecord } from './support/cluster-sessions.js';
import { HttpClient, type TestResponse } from './support/http-client.js';
import { startKuraInProcess } from './support/kura-app.js';
import { clusterNodes, connectedIoredis, redisCli, type RedisCluster, reshard, startRedisCluster, until, whilePaused } from './support/redis-cluster.js';
import { possibleFlavours } from './support/redis-server.js';

/**
 * Kura on a Redis Cluster while the cluster moves slots (online resharding, as an operator scaling ElastiCache or
 * MemoryDB does): every slot of one master moves to another with `redis-cli --cluster reshard` (MIGRATE, key by key,
 * while the slot is MIGRATING on one node and IMPORTING on the other), under reads, session-data updates, logins
 * and logouts. The client follows MOVED and ASK; Kura's scripts each touch one key, so none spans a slot in transit.
 * Nothing acknowledged may be lost, and no request may fail for it.
 */
const USERS = 6;
const PASSWORD = 'correct horse battery';

/** One request as a bearer client (no cookies): JSON, or a merge patch. */
function call(baseUrl: string, method: string, path: string, options: { token?: string; json?: unknown; patch?: unknown } = {}): Promise<TestResponse> {
  return new HttpClient(baseUrl).request(method, path, {
    cookies: false,
    json: options.json ?? options.patch,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.patch !== undefined ? { 'content-type': 'application/merge-patch+json' } : {}),
    },
  });
}

interface User {
  readonly email: string;
  /** The session whose data is updated: 40 keys in turn, each update setting its key to the step's number. */
  readonly token: string;
  /** Each key's value as last acknowledged. */
  readonly written: Map<string, number>;
  /** Sessions logged in and out during the move: each must end up refused. */
  readonly ended: string[];
}

describe.each(possibleFlavours((name) => `Kura on a ${name} Cluster while its slots move`))('Kura on a $name Cluster while every slot of one master moves to another', ({ flavour, name }) => {
  let cluster: RedisCluster;
  let app: NestFastifyApplication;
  let baseUrl: string;
  beforeAll(async () => {
    cluster = await startRedisCluster(3, { flavour });
    ({ app, baseUrl } = await startKuraInProcess({
      KURA_STORE: 'redis',
      REDIS_URL: cluster.url,
      KURA_REDIS_CLUSTER: 'true',
      KURA_PASSWORD_HASH_COST: '10',
      KURA_LOGIN_MAX_FAILURES_PER_CLIENT: '10000',
      KURA_REGISTRATION_MAX_PER_CLIENT: '10000',
      // What is tested is how the client follows the moving slots (MOVED, ASK), not latency: on a machine loaded
      // enough to stall a node past Kura's 1 s bound, that bound is test/redis-outage's subject, not this one's.
      KURA_REDIS_TIMEOUT_MS: '10000',
      // A 503's reason is logged as a warning: a failure is then explained in the test's output.
      KURA_LOG_LEVEL: 'warn',
    }));
    await until('Kura to be ready on the cluster', async () => (await fetch(`${baseUrl}/health/ready`)).status === 200);
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await cluster?.stop();
  });

  it('serves every request meanwhile, and loses no session, no logout and no acknowledged update', async () => {
    const users: User[] = [];
    for (let index = 0; index < USERS; index += 1) {
      const email = `reshard-${flavour}-${index}-${Date.now()}@example.com`;
      expect((await call(baseUrl, 'POST', '/auth/register', { json: { email, password: PASSWORD } })).status).toBe(201);
      const login = await call(baseUrl, 'POST', '/auth/login', { json: { email, password: PASSWORD, transport: 'bearer' } });
      users.push({ email, token: login.body.token, written: new Map(), ended: [] });
    }
    const seedPort = cluster.nodes[0]!.port;
    const masters = (await clusterNodes(seedPort)).filter((node) => node.role === 'master');
    const from = masters.find((node) => node.port !== seedPort)!;
    const to = masters.find((node) => node.port === seedPort)!;
    const slotsOf = async (id: string) => (await clusterNodes(seedPort)).find((node) => node.id === id)!.slots;
    const moving = await slotsOf(from.id);

    const failures: string[] = [];
    const counts = { reads: 0, updates: 0, logins: 0, logouts: 0 };
    let moved = false;
    const work = async (user: User, index: number) => {
      for (let step = 0; !moved || step < 20; step += 1) {
        const me = await call(baseUrl, 'GET', '/auth/me', { token: user.token });
        counts.reads += 1;
        if (me.status !== 200) failures.push(`GET /auth/me ${me.status}`);
        const key = `k${index}x${step % 40}`;
        const patched = await call(baseUrl, 'PATCH', '/session/data', { token: user.token, patch: { [key]: step } });
        counts.updates += 1;
        if (patched.status === 200) user.written.set(key, step);
        else failures.push(`PATCH /session/data ${patched.status}`);
        if (step % 5 === 0) {
          const login = await call(baseUrl, 'POST', '/auth/login', { json: { email: user.email, password: PASSWORD, transport: 'bearer' } });
          counts.logins += 1;
          if (login.status !== 200) {
            failures.push(`POST /auth/login ${login.status}`);
            continue;
          }
          const logout = await call(baseUrl, 'POST', '/auth/logout', { token: login.body.token });
          counts.logouts += 1;
          if (logout.status === 204) user.ended.push(login.body.token);
          else failures.push(`POST /auth/logout ${logout.status}`);
        }
      }
    };
    const load = Promise.all(users.map(work));
    // Every slot of `from`, to the seed node, a few keys per MIGRATE: the move spans the whole load. The load stops
    // however the move ends: a move that failed or outlasted its time left it running after the test, and the file
    // never finished (a CI run on a loaded machine, 2026-12-05).
    let movedInMs: number;
    try {
      movedInMs = await reshard(seedPort, { from: from.id, to: to.id, slots: moving, pipeline: 5, timeoutMs: 180_000 });
    } finally {
      moved = true;
      await load;
    }

    // Afterwards: each session holds each key as its last acknowledged update left it; each logout stays a logout.
    let missing = 0;
    let undone = 0;
    for (const user of users) {
      const data = (await call(baseUrl, 'GET', '/session/data', { token: user.token })).body?.data ?? {};
      missing += [...user.written].filter(([key, value]) => data[key] !== value).length;
      for (const token of user.ended) if ((await call(baseUrl, 'GET', '/auth/me', { token })).status !== 401) undone += 1;
    }
    const left = await slotsOf(from.id);
    console.log(
      `${name} Cluster, ${moving} slots moved from one master to another in ${movedInMs} ms under load: ` +
        `${counts.reads} reads, ${counts.updates} updates, ${counts.logins} logins, ${counts.logouts} logouts; ` +
        `failed ${failures.length}${failures.length ? ` (${[...new Set(failures)].join(', ')})` : ''}; keys not as last acknowledged ${missing}; logouts undone ${undone}`,
    );

    expect(left).toBe(0);
    expect(counts.updates).toBeGreaterThan(100);
    expect(failures).toEqual([]);
    expect({ missing, undone }).toEqual({ missing: 0, undone: 0 });
  }, 300_000);
});

/**
 * How long each durable write's WAIT may take: long enough that a replica on a loaded machine confirms in time (at
 * 300 ms, the first write after the Valkey cluster started was refused twice in full CI runs, 2026-12-06, passing
 * alone), as the writes refused here are refused by a paused replica, whatever the bound.
 */
const WAIT_MS = 1000;

/** A commander on a cluster with WAIT for one replica, as each client Kura supports makes it, and its closing. */
interface DurableClient {
  readonly client: string;
  /** `waitMs`: how long each WAIT may take (WAIT_MS unless given). */
  open(url: string, waitMs?: number): Promise<{ redis: RedisCommander; close(): Promise<unknown> }>;
}

/** An ioredis Cluster seeded by `url`, made as fromIoredis asks (no offline queue, nothing resent), connected. */
async function ioredisCluster(url: string): Promise<Cluster> {
  const seed = new URL(url);
  const cluster = new Cluster([{ host: seed.hostname, port: Number(seed.port) }], { enableOfflineQueue: false, lazyConnect: true, redisOptions: { autoResendUnfulfilledCommands: false } });
  await connectedIoredis(cluster);
  return cluster;
}

const DURABLE_CLIENTS: DurableClient[] = [
  {
    client: 'node-redis (connectRedis)',
    async open(url, waitMs = WAIT_MS) {
      const connection = connectRedis({ url, cluster: true, waitForReplicas: { replicas: 1, timeoutMs: waitMs } });
      await connection.open();
      return { redis: connection, close: () => connection.close() };
    },
  },
  {
    client: 'an ioredis Cluster',
    async open(url, waitMs = WAIT_MS) {
      const cluster = await ioredisCluster(url);
      return { redis: fromIoredis(cluster as unknown as IoredisClient, { waitForReplicas: { replicas: 1, timeoutMs: waitMs } }), close: async () => cluster.disconnect() };
    },
  },
  {
    client: 'an ioredis Cluster with durable writes on a duplicate of their own',
    async open(url, waitMs = WAIT_MS) {
      const cluster = await ioredisCluster(url);
      const lane = cluster.duplicate();
      await lane.connect();
      const connections = [lane as unknown as IoredisClient];
      return {
        redis: fromIoredis(cluster as unknown as IoredisClient, { waitForReplicas: { replicas: 1, timeoutMs: waitMs, connections } }),
        close: async () => {
          lane.disconnect();
          cluster.disconnect();
        },
      };
    },
  },
];

describe.each(possibleFlavours((name) => `durable writes on a ${name} Cluster while a slot moves`))('Durable writes (WAIT) on a $name Cluster with a replica per master, while a slot moves', ({ flavour }) => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster(3, { flavour, replicas: 1 });
  }, 60_000);
  afterAll(() => cluster?.stop());

  /** The master serving `slot`, another master to move it to, and that master's replica. */
  const placesOf = async (slot: number) => {
    const nodes = await clusterNodes(cluster.nodes[0]!.port);
    const source = nodes.find((node) => node.role === 'master' && node.ranges.some(([first, last]) => slot >= first && slot <= last))!;
    const target = nodes.find((node) => node.role === 'master' && node.id !== source.id)!;
    const targetReplica = nodes.find((node) => node.masterId === target.id)!;
    return { source, target, masters: nodes.filter((node) => node.role === 'master'), targetReplica: cluster.nodes.find((node) => node.port === targetReplica.port)! };
  };

  it.each(DURABLE_CLIENTS)(
    '$client: a write sent to the old owner (ASK while the slot moves, MOVED once it has) is made on the new one, and acknowledged only once its replica has it',
    async ({ open }) => {
      const { redis, close } = await open(cluster.url);
      try {
        // Where each write lands is judged here, not how fast: a write after MOVED waits for the client to learn the
        // slots again, and on a loaded CI machine an ioredis write took over the stores' 1 s (2026-12-06; it passes
        // alone). The refusals expected come from WAIT (WAIT_MS), inside this bound.
        const options = { commandTimeoutMs: 3000 };
        const sessions = new RedisSessionStore(redis, options);
        const connect = new RedisConnectSessionStore(redis, options);
        const { slot, ids } = idsInOneSlot(9);
        const [moving, ...fresh] = ids as [string, ...string[]];
        await sessions.insert(sessionRecord(moving, 'ada'));
        await connect.replace(moving, connectSession({ user: 'ada' }));
        const { source, target, masters, targetReplica } = await placesOf(slot);

        // As redis-cli --cluster reshard moves a slot: importing, migrating, then its keys, a few at a time.
        await redisCli(target.port, 'CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', source.id);
        await redisCli(source.port, 'CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', target.id);
        expect(await redisCli(source.port, 'MIGRATE', '127.0.0.1', String(target.port), '', '0', '5000', 'KEYS', `kura:session:{${moving}}`, `kura:connect:{${moving}}`)).toMatch(/OK/);
        // The old owner answers ASK for keys it no longer has (or never had): the new one makes the write.
        const asked = {
          logout: await outcome(sessions.end(moving, Date.now())),
          login: await outcome(sessions.insert(sessionRecord(fresh[0]!, 'ada'))),
          connectLogout: await outcome(connect.delete(moving, Date.now())),
          connectLogin: await outcome(connect.replace(fresh[1]!, connectSession({ user: 'ada' }))),
        };
        const askedUnreplicated = await whilePaused(targetReplica, target, async () => ({
          login: await outcome(sessions.insert(sessionRecord(fresh[2]!, 'ada'))),
          connectLogin: await outcome(connect.replace(fresh[3]!, connectSession({ user: 'ada' }))),
        }));

        for (const master of [target, source, ...masters.filter((node) => node.id !== target.id && node.id !== source.id)]) {
          await redisCli(master.port, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', target.id);
        }
        // The slot has moved: the old owner answers MOVED.
        const moved = {
          login: await outcome(sessions.insert(sessionRecord(fresh[4]!, 'ada'))),
          connectLogin: await outcome(connect.replace(fresh[5]!, connectSession({ user: 'ada' }))),
        };
        const movedUnreplicated = await whilePaused(targetReplica, target, async () => ({
          login: await outcome(sessions.insert(sessionRecord(fresh[6]!, 'ada'))),
          connectLogin: await outcome(connect.replace(fresh[7]!, connectSession({ user: 'ada' }))),
        }));

        expect({ asked, moved }).toEqual({
          asked: { logout: 'acknowledged', login: 'acknowledged', connectLogout: 'acknowledged', connectLogin: 'acknowledged' },
          moved: { login: 'acknowledged', connectLogin: 'acknowledged' },
        });
        // Its WAIT ran where the write was made: with that node's replica paused, nothing is acknowledged.
        expect({ askedUnreplicated, movedUnreplicated }).toEqual({
          askedUnreplicated: { login: REFUSED_BY_WAIT, connectLogin: REFUSED_BY_WAIT },
          movedUnreplicated: { login: REFUSED_BY_WAIT, connectLogin: REFUSED_BY_WAIT },
        });
        expect(await sessions.find(moving, Date.now())).toBeUndefined();
        expect(await connect.read(moving, Date.now())).toBeUndefined();
        expect(await sessions.find(fresh[4]!, Date.now())).toMatchObject({ id: fresh[4] });
      } finally {
        await close();
      }
    },
    60_000,
  );

  // A script that deleted its key before writing it again (a whole write, a logout's mark) lost it mid-script on the
  // old owner of a slot on the move: the key gone, the next command was refused ("a non local key") with the DEL
  // already made, and a whole write of a live session deleted it with a 503 (a scale-out review, 2026-12-04).
  it.each([
    { wait: 'with WAIT 1', waitForReplicas: { replicas: 1, timeoutMs: WAIT_MS } },
    { wait: 'without WAIT', waitForReplicas: undefined },
  ])('$wait: a whole write and a logout of a session still on the old owner of a moving slot are made there, the key never deleted mid-script', async ({ waitForReplicas }) => {
    const redis = connectRedis({ url: cluster.url, cluster: true, ...(waitForReplicas ? { waitForReplicas } : {}) });
    await redis.open();
    try {
      const connect = new RedisConnectSessionStore(redis, { commandTimeoutMs: 3000 }); // beyond WAIT_MS: judged here is where, not how fast
      const { slot, ids } = idsInOneSlot(3);
      const [rewritten, loggedOut, migrated] = ids as [string, string, string];
      for (const id of ids) await connect.replace(id, connectSession({ user: 'ada', cart: 'before' }));
      const { source, target, masters } = await placesOf(slot);
      await redisCli(target.port, 'CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', source.id);
      await redisCli(source.port, 'CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', target.id);
      // One key of the slot already moved, as redis-cli --cluster reshard moves them a few at a time; the others still here.
      expect(await redisCli(source.port, 'MIGRATE', '127.0.0.1', String(target.port), '', '0', '5000', 'KEYS', `kura:connect:{${migrated}}`)).toMatch(/OK/);

      const written = connectSession({ user: 'ada', cart: 'after' });
      const outcomes = { replace: await outcome(connect.replace(rewritten, written)), logout: await outcome(connect.delete(loggedOut, Date.now())) };
      const [afterReplace, afterLogout] = [await connect.read(rewritten, Date.now()), await connect.read(loggedOut, Date.now())];

      for (const id of [rewritten, loggedOut]) await redisCli(source.port, 'MIGRATE', '127.0.0.1', String(target.port), '', '0', '5000', 'KEYS', `kura:connect:{${id}}`);
      for (const master of [target, source, ...masters.filter((node) => node.id !== target.id && node.id !== source.id)]) {
        await redisCli(master.port, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', target.id);
      }
      expect(outcomes).toEqual({ replace: 'acknowledged', logout: 'acknowledged' });
      expect({ afterReplace: afterReplace?.data, afterLogout }).toEqual({ afterReplace: written.data, afterLogout: undefined });
    } finally {
      await redis.close();
    }
  }, 60_000);

  it('refuses no login or logout while redis-cli --cluster reshard moves slots, on either client, through either store', async () => {
    // What this counts is the refusals that routing a write of a moving slot causes. Each WAIT may take 2 s here, not
    // 300 ms: with Valkey migrating 1,500 slots beside two other test files on two cores, a replica once confirmed a
    // write later than 300 ms (1 refusal of 3,700 writes, "only 0 of 1 replica(s) confirmed"): WAIT's timeout, not a
    // redirection.
    const opened = await Promise.all(DURABLE_CLIENTS.slice(0, 2).map(async ({ client, open }) => ({ client, ...(await open(cluster.url, 2000)) })));
    try {
      const seedPort = cluster.nodes[0]!.port;
      const masters = (await clusterNodes(seedPort)).filter((node) => node.role === 'master');
      const [from, to] = [masters.find((node) => node.port !== seedPort)!, masters.find((node) => node.port === seedPort)!];
      let moved = false;
      const counts: Record<string, { acknowledged: number; refused: number; refusedOnceMoved: number; reasons: Set<string>; undone: number }> = {};
      /** Logs in and out, again and again, until a while after the move: each step counted, each logout checked. */
      const work = async (name: string, login: (id: string) => Promise<unknown>, logout: (id: string) => Promise<unknown>, ended: (id: string) => Promise<boolean>) => {
        const count = (counts[name] = { acknowledged: 0, refused: 0, refusedOnceMoved: 0, reasons: new Set<string>(), undone: 0 });
        for (let step = 0, after = 0; !moved || after < 30; step += 1, after += moved ? 1 : 0) {
          const id = `${name.replace(/\W+/g, '-')}-${step}-${Math.random().toString(36).slice(2)}`;
          for (const write of [login, logout]) {
            const result = await outcome(write(id));
            if (result === 'acknowledged') count.acknowledged += 1;
            else {
              count.refused += 1;
              // A client that never learns where the moved slots went goes on refusing their writes.
              if (moved) count.refusedOnceMoved += 1;
              count.reasons.add(result);
              break;
            }
            if (write === logout && !(await ended(id))) count.undone += 1;
          }
        }
      };
      const load = Promise.all(
        opened.flatMap(({ client, redis }) => {
          const sessions = new RedisSessionStore(redis);
          const connect = new RedisConnectSessionStore(redis);
          return [
            work(`${client}, RedisSessionStore`, (id) => sessions.insert(sessionRecord(id, 'ada')), (id) => sessions.end(id, Date.now()), async (id) => (await sessions.find(id, Date.now())) === undefined),
            work(`${client}, RedisConnectSessionStore`, (id) => connect.replace(id, connectSession({ user: 'ada' })), (id) => connect.delete(id, Date.now()), async (id) => (await connect.read(id, Date.now())) === undefined),
          ];
        }),
      );
      // Valkey moved these slots in 28-49 s in CI's runs beside two other files, near the 60 s it was given: a move
      // past it left the four loops running after the test, and the file never finished (twice on 2026-12-05, once
      // this session's new tests ran beside it). It has 150 s now, and the load stops however the move ends.
      let movedInMs: number;
      try {
        movedInMs = await reshard(seedPort, { from: from.id, to: to.id, slots: 1500, pipeline: 5, timeoutMs: 150_000 });
      } finally {
        moved = true;
        await load;
      }

      const lines = Object.entries(counts).map(
        ([name, { acknowledged, refused, refusedOnceMoved, reasons, undone }]) =>
          `  ${name}: ${acknowledged} acknowledged, ${refused} refused (${refusedOnceMoved} once moved)${reasons.size ? ` (${[...reasons].join('; ')})` : ''}, ${undone} logouts undone`,
      );
      console.log(`${flavour} Cluster, 1500 slots moved in ${movedInMs} ms under durable logins and logouts (WAIT 1):\n${lines.join('\n')}`);
      for (const { acknowledged, refused, undone } of Object.values(counts)) {
        expect(acknowledged).toBeGreaterThan(60);
        expect({ refused, undone }).toEqual({ refused: 0, undone: 0 });
      }
    } finally {
      await Promise.all(opened.map(({ close }) => close()));
    }
  }, 240_000);
});

/** The ACL line of docs/redis.md, for user `kura` with password `kura-pass`. */
async function documentedAcl(): Promise<string> {
  const docs = await readFile(new URL('../docs/redis.md', import.meta.url), 'utf8');
  return docs.split('\n').find((text) => text.startsWith('user kura on '))!.replace('>PASSWORD', '>kura-pass');
}

describe.each(possibleFlavours((name) => `a ${name} Cluster's moving slot, as the documented ACL user`))('A $name Cluster while a slot moves, as the ACL user docs/redis.md gives', ({ flavour }) => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    const acl = await documentedAcl();
    cluster = await startRedisCluster(3, { flavour, config: async () => () => `${acl}\n` });
  }, 60_000);
  afterAll(() => cluster?.stop());

  it('reads a session whose key has moved on ahead of its slot: the client may send ASKING, which Redis asks of it then', async () => {
    const connection = connectRedis({ url: cluster.url.replace('redis://', 'redis://kura:kura-pass@'), cluster: true });
    await connection.open();
    try {
      const sessions = new RedisSessionStore(connection);
      const { slot, ids } = idsInOneSlot(1);
      await sessions.insert(sessionRecord(ids[0]!, 'ada'));
      const masters = (await clusterNodes(cluster.nodes[0]!.port)).filter((node) => node.role === 'master');
      const source = masters.find((node) => node.ranges.some(([first, last]) => slot >= first && slot <= last))!;
      const target = masters.find((node) => node.id !== source.id)!;
      await redisCli(target.port, 'CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', source.id);
      await redisCli(source.port, 'CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', target.id);
      await redisCli(source.port, 'MIGRATE', '127.0.0.1', String(target.port), '', '0', '5000', 'KEYS', `kura:session:{${ids[0]}}`);

      expect(await outcome(sessions.find(ids[0]!, Date.now()))).toBe('acknowledged');
    } finally {
      await connection.close();
    }
  });
});
