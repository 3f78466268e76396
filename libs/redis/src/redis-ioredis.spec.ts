import { jest } from '@jest/globals';
import { EventEmitter, once } from 'node:events';
import { StoreUnavailableError } from '@kura/common';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { connectSession, connectSessionStoreContract, newConnectId } from '../../../test/contracts/connect-session-store.contract.js';
import { until } from '../../../test/support/redis-cluster.js';
import { answers, redisServerMissing, startRedisServer, type RedisServer } from '../../../test/support/redis-server.js';
import { RedisCommandLog } from './redis-command-log.js';
import { RedisConnectSessionStore } from './redis-connect-session.store.js';
import { fromIoredis, type IoredisClient } from './redis-ioredis.js';
import { RedisSessionStore } from './redis-session.store.js';

const missing = redisServerMissing();
if (missing) console.warn(`SKIPPING fromIoredis: ${missing}`);
const describeWithRedis = missing ? describe.skip : describe;

/** What an app on ioredis is told to set: no offline queue, so an outage fails commands at once. */
const FAIL_FAST: RedisOptions = { enableOfflineQueue: false, retryStrategy: () => 50 };

/** A new session of `userId`, an hour to live, as a login writes it. */
function sessionRecord(userId: string) {
  const now = Date.now();
  return { id: newConnectId(), user: { id: userId, name: null }, createdAt: now, lastSeenAt: now, idleExpiresAt: now + 60_000, absoluteExpiresAt: now + 3_600_000 };
}

/** An ioredis client on `url`, connected. */
async function ioredis(url: string, options: RedisOptions = {}): Promise<Redis> {
  const client = new Redis(url, { lazyConnect: true, ...options });
  await client.connect();
  return client;
}

if (!missing) {
  /** The adapter on a redis-server of its own, through an ioredis client made with `options`. */
  const onRedisServer = (options: RedisOptions) => async () => {
    const server = await startRedisServer();
    const client = await ioredis(server.url, options);
    return {
      sut: new RedisConnectSessionStore(fromIoredis(client)),
      close: async () => {
        client.disconnect();
        await server.stop();
      },
    };
  };
  // ioredis 6 speaks RESP3 by default (map replies as flat lists); RESP2 as ioredis 5 does; RESP3 with objects.
  connectSessionStoreContract("Redis through an app's own ioredis client (its defaults)", onRedisServer({}));
  connectSessionStoreContract('Redis through ioredis on RESP2 without an offline queue', onRedisServer({ ...FAIL_FAST, protocol: 2 }));
  connectSessionStoreContract("Redis through ioredis with RESP3's own reply shapes", onRedisServer({ ...FAIL_FAST, replyMapping: 'resp3' }));
}

describeWithRedis('fromIoredis when Redis goes away', () => {
  const session = () => ({ id: newConnectId(), item: connectSession({ user: 'ada' }) });
  const failureOf = async (work: Promise<unknown>) => {
    const started = Date.now();
    const error = await work.then(() => undefined, (thrown: unknown) => thrown);
    return { error: error as StoreUnavailableError, ms: Date.now() - started };
  };

  it('fails at once without an offline queue, says why, and serves again when Redis is back, on the same client', async () => {
    let server: RedisServer = await startRedisServer();
    const { port } = server;
    const client = await ioredis(server.url, FAIL_FAST);
    try {
      const sut = new RedisConnectSessionStore(fromIoredis(client), { commandTimeoutMs: 1000 });
      const { id, item } = session();
      await sut.replace(id, item);
      const refused = once(client, 'error');
      await server.stop();
      // The client's next attempt to connect is refused: that is the reason a command refused meanwhile gives.
      await refused;

      const { error, ms } = await failureOf(sut.read(id, Date.now()));

      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(error.reason).toMatch(/^Redis is not connected .*the last attempt failed: nothing accepts connections/);
      console.log(`  ioredis without an offline queue, Redis stopped: StoreUnavailableError after ${ms} ms (deadline 1000 ms)`);
      expect(ms).toBeLessThan(500);

      server = await startRedisServer({ port });
      await until('the same client to serve again', async () => (await sut.read(newConnectId(), Date.now()).then(() => true, () => false)));
      await sut.replace(id, item);
      expect(await sut.read(id, Date.now())).toEqual(item);
    } finally {
      client.disconnect();
      await server.stop();
    }
  });

  it("with ioredis's default offline queue, a command still fails within the store's deadline", async () => {
    const server = await startRedisServer();
    const client = await ioredis(server.url, { retryStrategy: () => 50 });
    try {
      const sut = new RedisConnectSessionStore(fromIoredis(client), { commandTimeoutMs: 300 });
      await server.stop();
      expect(await answers(server.port)).toBe(false);

      const { error, ms } = await failureOf(sut.read(newConnectId(), Date.now()));

      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(error.reason).toBe('Redis did not answer within the command timeout');
      console.log(`  ioredis with its offline queue, Redis stopped: StoreUnavailableError after ${ms} ms (deadline 300 ms)`);
      expect(ms).toBeGreaterThanOrEqual(290);
      expect(ms).toBeLessThan(1000);
    } finally {
      client.disconnect();
    }
  });
});

describeWithRedis('fromIoredis with a commandLog', () => {
  it('counts each command the stores send, by name and outcome, as connectRedis does', async () => {
    const server = await startRedisServer();
    const client = await ioredis(server.url, FAIL_FAST);
    try {
      const log = new RedisCommandLog();
      const seen: string[] = [];
      log.onCommand(({ name, failed }) => seen.push(`${name}${failed ? ' failed' : ''}`));
      const sut = new RedisConnectSessionStore(fromIoredis(client, { commandLog: log }));
      const id = newConnectId();

      await sut.replace(id, connectSession({ user: 'ada' }));
      await sut.read(id, Date.now());
      await sut.delete(id, Date.now());

      // The store's first call reads the eviction policy, once (INFO; a write, as here, waits for its answer). The
      // first script run meets NOSCRIPT (counted as a failed EVALSHA), then loads it with EVAL.
      expect(seen).toEqual(['INFO', 'EVALSHA failed', 'EVAL', 'HGETALL', 'EVALSHA failed', 'EVAL']);
      expect(log.snapshot()).toEqual({ EVALSHA: { calls: 2, failures: 2 }, EVAL: { calls: 2, failures: 0 }, INFO: { calls: 1, failures: 0 }, HGETALL: { calls: 1, failures: 0 } });
    } finally {
      client.disconnect();
      await server.stop();
    }
  });
});

describeWithRedis('fromIoredis with waitForReplicas (WAIT on the durable writes)', () => {
  let master: RedisServer;
  let replica: RedisServer;
  let client: Redis;
  let lane: Redis;
  beforeAll(async () => {
    master = await startRedisServer();
    replica = await startRedisServer({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
    client = await ioredis(master.url, FAIL_FAST);
    lane = client.duplicate();
    await lane.connect();
    const onReplica = await ioredis(replica.url);
    try {
      await until('the replica to be in sync', async () => /master_link_status:up/.test(await onReplica.info('replication')));
    } finally {
      onReplica.disconnect();
    }
  });
  afterAll(async () => {
    client?.disconnect();
    lane?.disconnect();
    await replica?.stop();
    await master?.stop();
  });

  it('acknowledges a login once the replica has it, on a connection of its own', async () => {
    const sut = new RedisSessionStore(fromIoredis(client, { waitForReplicas: { replicas: 1, timeoutMs: 1000, connections: [lane] } }));
    const record = sessionRecord('u1');

    await sut.insert(record);

    const onReplica = await ioredis(replica.url);
    try {
      expect(await onReplica.exists(`kura:session:{${record.id}}`)).toBe(1);
    } finally {
      onReplica.disconnect();
    }
  });

  it('fails a durable write that no replica confirmed in time, with a reason that says so', async () => {
    const sut = new RedisSessionStore(fromIoredis(client, { waitForReplicas: { replicas: 2, timeoutMs: 200, connections: [lane] } }));
    const error = await sut
      .insert(sessionRecord('u2'))
      .then(() => undefined, (thrown: unknown) => thrown as StoreUnavailableError);

    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error!.reason).toMatch(/^only 1 of 2 replica\(s\) confirmed the write within 200 ms/);
  });
});

describe('fromIoredis: how many replicas a durable write waits for', () => {
  const made: Redis[] = [];
  afterAll(() => made.forEach((client) => client.disconnect()));
  const client = (options: RedisOptions) => {
    const redis = new Redis({ lazyConnect: true, enableOfflineQueue: false, autoResendUnfulfilledCommands: false, ...options });
    made.push(redis);
    return redis;
  };

  it('waits for one behind Sentinel unless told otherwise, as connectRedis does (a planned failover undid acknowledged logouts without it)', () => {
    const sentinels = [{ host: '127.0.0.1', port: 1 }];
    const behindSentinel = fromIoredis(client({ sentinels, name: 'mymaster' }));
    expect({ durable: typeof behindSentinel.sendDurable, replicas: behindSentinel.replicasToWait }).toEqual({ durable: 'function', replicas: 1 });
    expect(fromIoredis(client({ sentinels, name: 'mymaster' }), { waitForReplicas: { replicas: 0, timeoutMs: 0 } }).sendDurable).toBeUndefined();
  });

  it('waits for none on one server unless told to', () => {
    expect(fromIoredis(client({ port: 1 })).sendDurable).toBeUndefined();
    expect(fromIoredis(client({ port: 1 }), { waitForReplicas: { replicas: 2, timeoutMs: 500 } }).replicasToWait).toBe(2);
  });
});

describe('fromIoredis and client settings that weaken what the stores promise', () => {
  it('warns once per client that resends (a write could land after its request failed), or whose Cluster reads from replicas', () => {
    const warnings: string[] = [];
    const emit = jest.spyOn(process, 'emitWarning').mockImplementation(((warning: string, options?: { code?: string }) => {
      warnings.push(`${options?.code}: ${warning}`);
    }) as typeof process.emitWarning);
    const clients: { disconnect(): void }[] = [];
    const client = (options: RedisOptions) => {
      const made = new Redis({ lazyConnect: true, enableOfflineQueue: false, ...options });
      clients.push(made);
      return made;
    };
    try {
      const resending = client({});
      fromIoredis(resending);
      fromIoredis(resending);
      fromIoredis(client({ autoResendUnfulfilledCommands: false }));

      expect(warnings).toEqual([expect.stringMatching(/^KURA_IOREDIS_RESENDS: .*autoResendUnfulfilledCommands: false/)]);

      // A Cluster reading from replicas could miss a logout the master acknowledged.
      warnings.length = 0;
      const replicaReads = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true, scaleReads: 'slave', redisOptions: { autoResendUnfulfilledCommands: false } });
      const masterReads = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true, redisOptions: { autoResendUnfulfilledCommands: false } });
      clients.push(replicaReads, masterReads);
      fromIoredis(replicaReads);
      fromIoredis(masterReads);
      expect(warnings).toEqual([expect.stringMatching(/^KURA_IOREDIS_REPLICA_READS: .*scaleReads: "slave"/)]);
    } finally {
      emit.mockRestore();
      for (const made of clients) made.disconnect();
    }
  });
});

describe("fromIoredis on a Cluster: the replies to ioredis's own ASKING", () => {
  /** A node of a fake Cluster whose ASKING reply is rejected, as when ioredis drops its connection with it in flight. */
  const dropped = () => ({ asking: () => Promise.reject(new Error('Connection is closed.')) });

  it('are handled on every node, those there already and those ioredis adds later, and still rejected to whoever awaits them', async () => {
    const events = new EventEmitter();
    const existing = dropped();
    const cluster = Object.assign(events, {
      isCluster: true,
      options: { redisOptions: { autoResendUnfulfilledCommands: false } },
      nodes: () => [existing],
      call: async () => 'OK',
      pipeline: () => { throw new Error('not used'); },
    }) as unknown as IoredisClient;
    fromIoredis(cluster);
    fromIoredis(cluster); // given to the stores twice: handled once
    const added = dropped();
    events.emit('+node', added);

    // As ioredis calls it: the reply dropped. An unhandled rejection would fail this test (and end a Node process).
    for (const node of [existing, added]) void node.asking();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(existing.asking()).rejects.toThrow('Connection is closed.');
    await expect(added.asking()).rejects.toThrow('Connection is closed.');
  });
});

describe('fromIoredis on a Cluster: where a durable write and its WAIT go', () => {
  /** A master of a fake Cluster at `port`: its pipelines recorded, each answered OK then one replica confirming. */
  const master = (port: number) => {
    const sent: string[][][] = [];
    const node = {
      options: { host: '127.0.0.1', port },
      sent,
      pipeline() {
        const commands: string[][] = [];
        const pipeline = {
          call: (...command: string[]) => (commands.push(command), pipeline),
          exec: async () => (sent.push(commands), commands.map((command) => [null, command[0] === 'WAIT' ? 1 : 'OK'] as [null, unknown])),
        };
        return pipeline;
      },
    };
    return node;
  };
  /** A fake Cluster whose slot map names `owner` for every slot; `relearnt` is what a read through its routing learns. */
  const cluster = (pool: ReturnType<typeof master>[], owner: number, relearnt = owner) => {
    const slots: string[][] = Array.from({ length: 16384 }, () => []);
    const name = (port: number) => slots.fill([`127.0.0.1:${port}`]);
    name(owner);
    const reads: string[][] = [];
    const client = Object.assign(new EventEmitter(), {
      isCluster: true,
      options: { redisOptions: { autoResendUnfulfilledCommands: false } },
      slots,
      nodes: () => pool,
      call: async (...command: string[]) => (reads.push(command), name(relearnt), 0),
      // ioredis 6.1's Cluster pipeline resends a redirected write away from its WAIT: never used for the pair.
      pipeline: () => { throw new Error("the Cluster's pipeline"); },
    });
    return { client: client as unknown as IoredisClient, reads };
  };

  it("go together on ioredis's connection to the master its slot map names for the key, not through the Cluster", async () => {
    const [a, b] = [master(7001), master(7002)];
    const { client, reads } = cluster([a, b], 7002);
    const commander = fromIoredis(client, { waitForReplicas: { replicas: 1, timeoutMs: 300 } });

    await expect(commander.sendDurable!(['SET', '{ada}', 'x'])).resolves.toBe('OK');
    expect({ a: a.sent, b: b.sent, reads }).toEqual({ a: [], b: [[['SET', '{ada}', 'x'], ['WAIT', '1', '300']]], reads: [] });
  });

  it('to a master the map names and ioredis has no connection to (one that failed), only once a read through its routing has found the owner', async () => {
    const [gone, promoted] = [master(7001), master(7002)];
    const { client, reads } = cluster([promoted], gone.options.port, promoted.options.port);
    const commander = fromIoredis(client, { waitForReplicas: { replicas: 1, timeoutMs: 300 } });

    await expect(commander.sendDurable!(['SET', '{ada}', 'x'])).resolves.toBe('OK');
    expect({ reads, promoted: promoted.sent }).toEqual({ reads: [['EXISTS', '{ada}']], promoted: [[['SET', '{ada}', 'x'], ['WAIT', '1', '300']]] });
  });

  it("is refused, a 503 from the stores, when even that read leaves the key's slot with no master ioredis is connected to", async () => {
    const { client } = cluster([master(7002)], 7001);
    const store = new RedisConnectSessionStore(fromIoredis(client, { waitForReplicas: { replicas: 1, timeoutMs: 300 } }));

    const refusal = await store.replace(newConnectId(), connectSession({ user: 'ada' })).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(StoreUnavailableError);
    expect(((refusal as Error).cause as Error).message).toMatch(/^Redis Cluster: this ioredis client knows no master for the slot of kura:/);
  });
});
