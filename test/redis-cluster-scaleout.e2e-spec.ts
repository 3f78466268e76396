import { StoreUnavailableError } from '@kura/common';
import { connectRedis, fromIoredis, type IoredisClient, type RedisCommander, RedisConnectSessionStore, RedisSessionStore } from '@kura/redis';
import { Cluster, type ClusterOptions } from 'ioredis';
import { connectSession } from './contracts/connect-session-store.contract.js';
import { idsInOneSlot, outcome, REFUSED_BY_WAIT, sessionRecord } from './support/cluster-sessions.js';
import { type AddedShard, addShard, type ClusterNode, clusterNodes, connectedIoredis, hashSlotOf, redisCli, type RedisCluster, reshard, startRedisCluster, until, whilePaused } from './support/redis-cluster.js';
import { possibleFlavours } from './support/redis-server.js';

/**
 * Kura on a Redis Cluster scaled out while it serves logins and logouts, as an operator adds a shard (ElastiCache's
 * or MemoryDB's online resharding, `redis-cli --cluster add-node`, then `reshard`): the clients connected before
 * the new master existed, so the first redirections to it (ASK while a slot moves there) name a node they have never
 * heard of. Nothing acknowledged may be lost or undone, and a durable write is acknowledged only once the replica of
 * the master that made it has it.
 */
/** How long each durable write's WAIT may take. */
const WAIT_MS = 300;

/** A client as an app makes it for Kura's stores, connected to a cluster. */
interface Opened {
  readonly client: string;
  readonly redis: RedisCommander;
  /**
   * Whether the client reaches a master that serves no slot yet. node-redis learns the masters only from CLUSTER
   * SLOTS, which names none that serves no slot: while the first slot moves to a new master, every command of that
   * slot fails (`Cannot find node`), its own reads as well; ioredis connects to whatever node a redirection names.
   */
  readonly reachesSlotlessMasters: boolean;
  /**
   * What the client's own routing refuses while slots move, which a retry serves: node-redis, every command of a
   * slot moving to a master it cannot reach yet (above); ioredis with a natMap, a command MOVED to a node it then
   * looks up by the announced address, finds no connection by, and sends to a random master instead, up to its
   * redirection limit (redis/ioredis#1582), until its next slot refresh.
   */
  readonly ownRefusals: readonly RegExp[];
  /** Has an ioredis Cluster refresh its slots now (as it does on a MOVED, and every `slotsRefreshInterval`). */
  refreshSlots?(): Promise<void>;
  close(): Promise<unknown>;
}

/** connectRedis on the cluster seeded by `url`, with WAIT for one replica or without. */
const nodeRedis = (wait: boolean) => async (url: string): Promise<Opened> => {
  const connection = connectRedis({ url, cluster: true, ...(wait ? { waitForReplicas: { replicas: 1, timeoutMs: WAIT_MS } } : {}) });
  await connection.open();
  return { client: `node-redis (connectRedis)${wait ? ', WAIT 1' : ''}`, redis: connection, reachesSlotlessMasters: false, ownRefusals: [/\(Cannot find node /], close: () => connection.close() };
};

/** An ioredis Cluster made as fromIoredis asks (no offline queue, nothing resent), with WAIT for one replica or without. */
const ioredis = (wait: boolean, options: ClusterOptions = {}) => async (url: string): Promise<Opened> => {
  const seed = new URL(url);
  const cluster = new Cluster([{ host: seed.hostname, port: Number(seed.port) }], { enableOfflineQueue: false, lazyConnect: true, redisOptions: { autoResendUnfulfilledCommands: false }, ...options });
  await connectedIoredis(cluster);
  return {
    client: `an ioredis Cluster${options.natMap ? ' with a natMap' : ''}${wait ? ', WAIT 1' : ''}`,
    redis: fromIoredis(cluster as unknown as IoredisClient, wait ? { waitForReplicas: { replicas: 1, timeoutMs: WAIT_MS } } : {}),
    reachesSlotlessMasters: true,
    ownRefusals: options.natMap ? [/\(Too many Cluster redirections\. Last error: ReplyError: MOVED /] : [],
    refreshSlots: () => new Promise<void>((resolve) => cluster.refreshSlotsCache(() => resolve())),
    close: async () => cluster.disconnect(),
  };
};

/** The master serving `slot`, as the node on `port` sees it. */
async function ownerOf(port: number, slot: number): Promise<ClusterNode> {
  return (await clusterNodes(port)).find((node) => node.role === 'master' && node.ranges.some(([first, last]) => slot >= first && slot <= last))!;
}

/** Starts moving `slot` from `source` to `target` as `redis-cli --cluster reshard` does, and moves `keys` already. */
async function startMoving(slot: number, source: ClusterNode, target: ClusterNode, keys: string[]): Promise<void> {
  await redisCli(target.port, 'CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', source.id);
  await redisCli(source.port, 'CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', target.id);
  expect(await redisCli(source.port, 'MIGRATE', '127.0.0.1', String(target.port), '', '0', '5000', 'KEYS', ...keys)).toMatch(/OK/);
}

/** Ends the move: `target` serves `slot`, as every master is told (the new owner first). */
async function finishMoving(slot: number, target: ClusterNode, masters: readonly ClusterNode[]): Promise<void> {
  for (const master of [target, ...masters.filter((node) => node.id !== target.id)]) await redisCli(master.port, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', target.id);
}


/** Nodes that announce 127.0.0.2 (as nodes behind NAT announce an address of their own) and listen on 127.0.0.1 too. */
const ANNOUNCING = ['--bind', '127.0.0.1', '127.0.0.2', '--cluster-announce-ip', '127.0.0.2'];
/** What an app behind the NAT gives ioredis: each announced address, mapped to the one it reaches the node at. */
const natMap = (key: string) => (key.startsWith('127.0.0.2:') ? { host: '127.0.0.1', port: Number(key.split(':')[1]) } : null);

/** How many of the source's slots move to the new master, and how many keys each holds meanwhile (so it moves slowly). */
const MOVING_SLOTS = 12;
const KEYS_PER_SLOT = 300;

/**
 * On Redis, the nodes announce another address than the one the clients reach them at, which ioredis maps (natMap);
 * Valkey's announce the one they are reached at.
 */
const FLAVOURS = possibleFlavours((name) => `Kura on a ${name} Cluster scaled out`).map((flavour) => ({ ...flavour, nat: flavour.flavour === 'redis' ? ', announcing 127.0.0.2 (an ioredis natMap maps it)' : '' }));

describe.each(FLAVOURS)('Kura on a $name Cluster (3 masters, a replica each$nat) scaled out after its clients connected: a master and its replica added', ({ flavour, nat }) => {
  let cluster: RedisCluster;
  const settings = { flavour, replicas: 1, ...(nat ? { args: ANNOUNCING } : {}) };
  const ioredisNatMapped = (wait: boolean) => ioredis(wait, nat ? { natMap } : {});
  const shards: AddedShard[] = [];
  const connected: Opened[] = [];
  /** `clients` connected now, then a shard added (which they do not know of). */
  const scaleOut = async (clients: ((url: string) => Promise<Opened>)[]) => {
    const now = await Promise.all(clients.map((open) => open(cluster.url)));
    connected.push(...now);
    const shard = await addShard(cluster, settings);
    shards.push(shard);
    return { opened: now, shard };
  };
  beforeAll(async () => {
    cluster = await startRedisCluster(3, settings);
    if (nat) await until('the nodes to announce 127.0.0.2', async () => (await redisCli(cluster.nodes[0]!.port, 'CLUSTER', 'NODES')).split('\n').filter((line) => line.includes('127.0.0.2:')).length === 6);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(connected.map(({ close }) => close()));
    await Promise.all(shards.map((shard) => shard.stop()));
    await cluster?.stop();
  });

  it('makes each durable login and logout of a slot moving to the new master there, acknowledged once its replica has it; refused only where the client cannot reach that master, and served when retried', async () => {
    const { opened, shard } = await scaleOut([nodeRedis(true), ioredisNatMapped(true)]);
    const seedPort = cluster.nodes[0]!.port;
    const [first, next] = [idsInOneSlot(5 * opened.length), idsInOneSlot(5 * opened.length)];
    expect(first.slot).not.toBe(next.slot);
    const added = (await clusterNodes(seedPort)).find((node) => node.id === shard.id)!;
    const masters = (await clusterNodes(seedPort)).filter((node) => node.role === 'master');
    const stores = opened.map(({ redis }) => ({ sessions: new RedisSessionStore(redis), connect: new RedisConnectSessionStore(redis) }));
    /** Client `c`'s five ids in `slot`: the session that moves ahead of its slot, then four fresh ones. */
    const idsOf = ({ ids }: { ids: string[] }, c: number) => ids.slice(c * 5, c * 5 + 5) as [string, string, string, string, string];
    const keysOf = (ids: { ids: string[] }) => opened.flatMap((_, c) => [`kura:session:{${idsOf(ids, c)[0]}}`, `kura:connect:{${idsOf(ids, c)[0]}}`]);
    /** The writes of a slot on the move, each named; then two logins while the new master's replica is paused. */
    const writesOf = (ids: { ids: string[] }, c: number) => {
      const [moving, login, connectLogin, unreplicated, connectUnreplicated] = idsOf(ids, c);
      const { sessions, connect } = stores[c]!;
      return {
        writes: {
          logout: () => sessions.end(moving, Date.now()),
          login: () => sessions.insert(sessionRecord(login, 'ada')),
          connectLogout: () => connect.delete(moving, Date.now()),
          connectLogin: () => connect.replace(connectLogin, connectSession({ user: 'ada' })),
        },
        unreplicated: {
          login: () => sessions.insert(sessionRecord(unreplicated, 'ada')),
          connectLogin: () => connect.replace(connectUnreplicated, connectSession({ user: 'ada' })),
        },
        // After the writes: a read follows the ASK the client's own way, and may have it meet the new master.
        read: () => sessions.find(login, Date.now()),
      };
    };
    /**
     * In turn, or all at once as requests come: connectRedis spreads these over its durable connections, each a client
     * of its own that has to learn of the new master by itself.
     */
    const runAll = async (writes: Record<string, () => Promise<unknown>>, together = false): Promise<Record<string, string>> => {
      if (together) return Object.fromEntries(await Promise.all(Object.entries(writes).map(async ([name, write]) => [name, await outcome(write())])));
      const outcomes: Record<string, string> = {};
      for (const [name, write] of Object.entries(writes)) outcomes[name] = await outcome(write());
      return outcomes;
    };
    const movingSlot = async (ids: { slot: number; ids: string[] }, together: boolean) => {
      for (const [c, { sessions, connect }] of stores.entries()) {
        await sessions.insert(sessionRecord(idsOf(ids, c)[0], 'ada'));
        await connect.replace(idsOf(ids, c)[0], connectSession({ user: 'ada' }));
      }
      await startMoving(ids.slot, await ownerOf(seedPort, ids.slot), added, keysOf(ids));
      const results = [];
      for (const c of opened.keys()) {
        const { writes, unreplicated, read } = writesOf(ids, c);
        const asked: Record<string, string> = { ...(await runAll(writes, together)), read: await outcome(read()) };
        results.push({ writes: { ...writes, read }, asked, unreplicated: await whilePaused(shard.replica, shard.master, () => runAll(unreplicated)) });
      }
      await finishMoving(ids.slot, added, masters);
      // Once moved, what was refused meanwhile is sent again (as a client retries a 503).
      return Promise.all(results.map(async ({ writes, asked, unreplicated }) => ({ asked, unreplicated, retried: await runAll(Object.fromEntries(Object.entries(writes).filter(([name]) => asked[name] !== 'acknowledged'))) })));
    };

    // The first slot the new master gets: none of its own yet. Then a second one, once it serves the first, with
    // writes all at once (not so for the first: several ASKs at once to a master serving no slot have ioredis refuse
    // some of them, "Too many Cluster redirections", each served when retried, which this test does not pin; what
    // ioredis dropping its connection there does to its ASKING replies is the next test's).
    const firstSlot = await movingSlot(first, false);
    const nextSlot = await movingSlot(next, true);
    console.log(`${flavour} Cluster scaled out, writes of a slot moving to the new master:\n${opened.map(({ client }, c) => `  ${client}: first slot ${JSON.stringify(firstSlot[c])}\n    next slot ${JSON.stringify(nextSlot[c])}`).join('\n')}`);

    const ACKNOWLEDGED = { logout: 'acknowledged', login: 'acknowledged', connectLogout: 'acknowledged', connectLogin: 'acknowledged', read: 'acknowledged' };
    const CANNOT_FIND = expect.stringMatching(/^refused: .*\(Cannot find node /);
    for (const [c, { reachesSlotlessMasters }] of opened.entries()) {
      expect(firstSlot[c]).toEqual(
        reachesSlotlessMasters
          ? { asked: ACKNOWLEDGED, unreplicated: { login: REFUSED_BY_WAIT, connectLogin: REFUSED_BY_WAIT }, retried: {} }
          : {
              asked: Object.fromEntries(Object.keys(ACKNOWLEDGED).map((name) => [name, CANNOT_FIND])),
              unreplicated: { login: CANNOT_FIND, connectLogin: CANNOT_FIND },
              retried: ACKNOWLEDGED,
            },
      );
      expect(nextSlot[c]).toEqual({ asked: ACKNOWLEDGED, unreplicated: { login: REFUSED_BY_WAIT, connectLogin: REFUSED_BY_WAIT }, retried: {} });
      // What the cluster holds now, read once the client knows where the slots went: an ioredis Cluster with a natMap
      // that has not refreshed its slots since the move follows a MOVED to no connection (its own refusal, above:
      // "Too many Cluster redirections", seen on a loaded machine), which says nothing of what was kept.
      await opened[c]!.refreshSlots?.();
      for (const ids of [first, next]) {
        const [moving, login] = idsOf(ids, c);
        expect(await stores[c]!.sessions.find(moving, Date.now())).toBeUndefined();
        expect(await stores[c]!.connect.read(moving, Date.now())).toBeUndefined();
        expect(await stores[c]!.sessions.find(login, Date.now())).toMatchObject({ id: login });
      }
    }
  }, 60_000);

  it('keeps the app up when ioredis drops its connection to the new master with an ASKING in flight, and refuses only what a retry serves', async () => {
    // ioredis sends ASKING ahead of each command an ASK sends to the new master, and never handles its reply; a
    // slots refresh meanwhile drops its connection to that master (it serves no slot yet), and the reply's
    // "Connection is closed." used to be an unhandled rejection: the end of a Node process, a failure here.
    // fromIoredis handles it (handleAskingReplies); without it this test fails on that rejection.
    const { opened, shard } = await scaleOut([ioredisNatMapped(false)]);
    const { redis, refreshSlots } = opened[0]!;
    const seedPort = cluster.nodes[0]!.port;
    const { slot, ids } = idsInOneSlot(20);
    const sessions = new RedisSessionStore(redis);
    for (const id of ids) await sessions.insert(sessionRecord(id, 'ada'));
    const added = (await clusterNodes(seedPort)).find((node) => node.id === shard.id)!;
    await startMoving(slot, await ownerOf(seedPort, slot), added, ids.map((id) => `kura:session:{${id}}`));

    const outcomes = new Map<string, number>();
    const count = (what: string) => outcomes.set(what, (outcomes.get(what) ?? 0) + 1);
    for (let round = 0; round < 10; round += 1) {
      const reads = ids.map((id) =>
        sessions.find(id, Date.now()).then(
          (found) => count(found?.id === id ? 'served' : `served wrong: ${JSON.stringify(found)}`),
          (error: unknown) => count(error instanceof StoreUnavailableError ? `503: ${error.reason} (${error.cause instanceof Error ? error.cause.message : ''})` : `not a 503: ${String(error)}`),
        ),
      );
      await refreshSlots!();
      await Promise.all(reads);
    }
    await finishMoving(slot, added, (await clusterNodes(seedPort)).filter((node) => node.role === 'master'));
    console.log(`${flavour} Cluster, reads of a slot moving to a new master while ioredis refreshes its slots:\n${[...outcomes].map(([what, times]) => `  ${times} x ${what}`).join('\n')}`);

    // The path was taken: reads were in flight on the connection ioredis dropped (each refused: a 503 to the app).
    expect([...outcomes.keys()].some((what) => what.startsWith('503: ') && what.includes('Connection is closed.'))).toBe(true);
    expect([...outcomes.keys()].filter((what) => what !== 'served' && !what.startsWith('503: '))).toEqual([]);
    // Once the slot has moved, every session is there, read where it now lives (once ioredis knows where: see above).
    await refreshSlots!();
    for (const id of ids) expect(await sessions.find(id, Date.now())).toMatchObject({ id });
  }, 60_000);

  it('loses no acknowledged login or logout while redis-cli --cluster reshard gives it slots, with WAIT 1 and without; refuses none but what the clients\' own routing refuses, each served when retried', async () => {
    // ioredis without a natMap here (the nodes listen on the announced address too): under load, ioredis with one
    // follows a MOVED to no connection (redis/ioredis#1582); Kura's natMap handling is the tests above's. (Two CI
    // rehearsals failed here, with a natMap and without, on ioredis's unhandled ASKING reply, "Connection is
    // closed.": fromIoredis handles it now, and the test above holds it to that.)
    const { opened, shard } = await scaleOut([nodeRedis(true), ioredis(true), nodeRedis(false), ioredis(false)]);
    const seedPort = cluster.nodes[0]!.port;
    const source = (await clusterNodes(seedPort)).filter((node) => node.role === 'master').sort((a, b) => b.slots - a.slots)[0]!;
    // redis-cli --cluster reshard takes a source's slots lowest first: the load goes to those, where the moves are.
    const moving = new Set<number>();
    for (const [low, high] of [...source.ranges].sort(([a], [b]) => a - b)) for (let slot = low; slot <= high && moving.size < MOVING_SLOTS; slot += 1) moving.add(slot);
    const tags = new Map<number, string>();
    for (let n = 0; tags.size < moving.size; n += 1) if (moving.has(hashSlotOf(`t${n}`)) && !tags.has(hashSlotOf(`t${n}`))) tags.set(hashSlotOf(`t${n}`), `t${n}`);
    const filler = opened.find(({ redis }) => !redis.sendDurable)!.redis;
    await Promise.all([...tags.values()].flatMap((tag) => Array.from({ length: KEYS_PER_SLOT }, (_, n) => filler.sendCommand(['SET', `filler:{${tag}}:${n}`, 'x']))));
    let serial = 0;
    /** A new session id whose keys hash to a slot about to move. */
    const movingId = () => {
      for (;;) {
        const id = `scale-${Date.now()}-${(serial += 1)}`;
        if (moving.has(hashSlotOf(id))) return id;
      }
    };

    let moved = false;
    const counts: Record<string, { acknowledged: number; refused: number; reasons: Set<string>; unserved: number; lost: number; undone: number }> = {};
    const kept: { name: string; found: (id: string) => Promise<boolean>; id: string }[] = [];
    const ended: { name: string; found: (id: string) => Promise<boolean>; id: string }[] = [];
    /** Logs in (and every other time out) again and again until a while after the move; each refusal retried. */
    const work = async (name: string, login: (id: string) => Promise<unknown>, logout: (id: string) => Promise<unknown>, found: (id: string) => Promise<boolean>) => {
      const count = (counts[name] = { acknowledged: 0, refused: 0, reasons: new Set<string>(), unserved: 0, lost: 0, undone: 0 });
      /** `call` until it is served (a client retrying a 503), each refusal counted: its result, or undefined if never. */
      const served = async <T>(call: () => Promise<T>): Promise<{ value: T } | undefined> => {
        for (let tries = 0; tries < 30; tries += 1) {
          try {
            return { value: await call() };
          } catch (error) {
            count.refused += 1;
            count.reasons.add((await outcome(Promise.reject(error))).replace(/\d+/g, 'N'));
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
        count.unserved += 1;
        return undefined;
      };
      for (let step = 0, after = 0; !moved || after < 20; step += 1, after += moved ? 1 : 0) {
        // A login sent again is a new login, with a session id of its own (one refused may have been written).
        let id = '';
        if (!(await served(() => login((id = movingId()))))) continue;
        count.acknowledged += 1;
        if ((await served(() => found(id)))?.value === false) count.lost += 1;
        if (step % 2 === 0) {
          kept.push({ name, found, id });
          continue;
        }
        if (!(await served(() => logout(id)))) continue;
        count.acknowledged += 1;
        ended.push({ name, found, id });
        if ((await served(() => found(id)))?.value === true) count.undone += 1;
      }
    };
    const load = Promise.all(
      opened.flatMap(({ client, redis }) => {
        // Five seconds, not the default one, for a reply: the move is what is under test, and a CI rehearsal with four
        // test files at once on two cores (2026-12-06) had one command wait longer than a second behind it, refused
        // as a timeout. A reply within five seconds is served and checked like any other; a refusal of any kind but
        // the clients' own routing still fails the test.
        const sessions = new RedisSessionStore(redis, { commandTimeoutMs: 5000 });
        const connect = new RedisConnectSessionStore(redis, { commandTimeoutMs: 5000 });
        return [
          work(`${client}, RedisSessionStore`, (id) => sessions.insert(sessionRecord(id, 'ada')), (id) => sessions.end(id, Date.now()), async (id) => (await sessions.find(id, Date.now())) !== undefined),
          work(`${client}, RedisConnectSessionStore`, (id) => connect.replace(id, connectSession({ user: 'ada' })), (id) => connect.delete(id, Date.now()), async (id) => (await connect.read(id, Date.now())) !== undefined),
        ];
      }),
    );
    const movedInMs = await reshard(seedPort, { from: source.id, to: shard.id, slots: MOVING_SLOTS, pipeline: 1, timeoutMs: 60_000 });
    moved = true;
    await load;

    // Afterwards, each session kept is there and each one ended stays ended, as the client that wrote it reads it.
    for (const { name, found, id } of kept) if (!(await found(id))) counts[name]!.lost += 1;
    for (const { name, found, id } of ended) if (await found(id)) counts[name]!.undone += 1;
    const newMaster = (await clusterNodes(seedPort)).find((node) => node.id === shard.id)!;
    console.log(
      `${flavour} Cluster scaled out: ${MOVING_SLOTS} slots (${KEYS_PER_SLOT} keys each) moved to a new master in ${movedInMs} ms under logins and logouts to those slots:\n` +
        Object.entries(counts)
          .map(([name, { acknowledged, refused, reasons, unserved, lost, undone }]) => `  ${name}: ${acknowledged} acknowledged, ${refused} refused${reasons.size ? ` (${[...reasons].join('; ')})` : ''}, ${unserved} never served, ${lost} logins lost, ${undone} logouts undone`)
          .join('\n'),
    );

    expect(newMaster.ranges.flatMap(([low, high]) => Array.from({ length: high - low + 1 }, (_, n) => low + n))).toEqual([...moving]);
    for (const { client, ownRefusals } of opened) {
      for (const store of ['RedisSessionStore', 'RedisConnectSessionStore']) {
        const { acknowledged, refused, reasons, unserved, lost, undone } = counts[`${client}, ${store}`]!;
        expect(acknowledged).toBeGreaterThan(20);
        expect({ unserved, lost, undone }).toEqual({ unserved: 0, lost: 0, undone: 0 });
        // Refused because of the move, and served when retried: what the client's own routing refuses (see Opened).
        // (A script that deleted its key and wrote it again, RedisConnectSessionStore's logout and replace, was
        // refused halfway on the old owner, "a non local key": no script deletes its key any more, and
        // test/redis-cluster-reshard holds them to it.)
        const explained = ownRefusals;
        expect({ refused, unexplained: [...reasons].filter((reason) => !explained.some((known) => known.test(reason))) }).toEqual({ refused, unexplained: [] });
      }
    }
  }, 60_000);
});
