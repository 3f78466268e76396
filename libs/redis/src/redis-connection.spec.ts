import type { StoreUnavailableError } from '@kura/common';
import { redisServerMissing, startRedisServer, type RedisServer } from '../../../test/support/redis-server.js';
import { type RedisSentinelSetup, startRedisSentinels } from '../../../test/support/redis-sentinel.js';
import { RedisSessionStore } from './redis-session.store.js';
import { createClient } from 'redis';
import { createRedisClient } from './redis-client.js';
import { connectRedis } from './redis-connection.js';
import { ReplicaAckError } from './redis-errors.js';
import { RedisScript } from './redis-script.js';

const missing = redisServerMissing();
if (missing) console.warn(`SKIPPING connectRedis on a real redis-server: ${missing}`);
const describeWithRedis = missing ? describe.skip : describe;

describeWithRedis('connectRedis on a real redis-server', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(() => server?.stop());

  it('closes within the command timeout when Redis stopped answering with a command in flight, which then fails', async () => {
    const connection = connectRedis({ url: server.url, commandTimeoutMs: 300 });
    await connection.open();
    process.kill(server.pid, 'SIGSTOP');
    try {
      const inFlight = connection.sendCommand(['PING']).then(
        () => 'answered',
        () => 'failed',
      );
      const started = Date.now();

      await connection.close();
      const ms = Date.now() - started;
      console.log(`closed in ${ms} ms with a command in flight to a paused Redis`);

      expect(ms).toBeGreaterThanOrEqual(250);
      expect(ms).toBeLessThan(2000);
      expect(await inFlight).toBe('failed');
    } finally {
      process.kill(server.pid, 'SIGCONT');
    }
  });

  it("speaks RESP2, the replies the stores read, whatever the installed node-redis's default (v6: RESP3)", async () => {
    const connection = connectRedis({ url: server.url });
    const client = await createRedisClient({ url: server.url });
    const theirs = createClient({ url: server.url });
    await Promise.all([connection.open(), client.connect(), theirs.connect()]);
    try {
      // CLIENT INFO describes the very connection that sends it, as Redis sees it.
      const protocolOf = async (sender: { sendCommand(args: string[]): Promise<unknown> }) => /\bresp=(\d)/.exec(String(await sender.sendCommand(['CLIENT', 'INFO'])))?.[1];

      expect(await protocolOf(connection)).toBe('2');
      expect(await protocolOf(client)).toBe('2');
      // What a client made with node-redis's defaults would have spoken (the repository installs v6).
      expect(await protocolOf(theirs)).toBe('3');
    } finally {
      client.destroy();
      theirs.destroy();
      await connection.close();
    }
  });

  it('sends a durable script whole: a server that has not loaded it (a master just promoted) makes it WAIT once, not twice', async () => {
    // No replica here, so every WAIT runs to its timeout: as on a master whose replica is down or lagging.
    const connection = connectRedis({ url: server.url, commandTimeoutMs: 5000, waitForReplicas: { replicas: 1, timeoutMs: 200 } });
    await connection.open();
    const calls = async (command: string) => Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(String(await connection.sendCommand(['INFO', 'commandstats'])))?.[1] ?? 0);
    try {
      await connection.sendCommand(['SCRIPT', 'FLUSH']);
      const [waits, evalshas] = [await calls('wait'), await calls('evalsha')];

      const outcome = await new RedisScript("return redis.call('SET', KEYS[1], ARGV[1])").run(connection, ['durable-once'], ['v'], true).catch((error: unknown) => error);

      expect(outcome).toBeInstanceOf(ReplicaAckError);
      // An EVALSHA refused with NOSCRIPT would have had its WAIT run to the timeout too, before the EVAL and its own:
      // twice the time, past a command deadline set at less than two WAIT timeouts (a deadline error, not the refusal).
      expect([(await calls('wait')) - waits, (await calls('evalsha')) - evalshas]).toEqual([1, 0]);
      expect(await connection.sendCommand(['GET', 'durable-once'])).toBe('v');
    } finally {
      await connection.close();
    }
  });

  it('closes at once when nothing is in flight', async () => {
    const connection = connectRedis({ url: server.url, commandTimeoutMs: 5000 });
    await connection.open();
    await connection.sendCommand(['PING']);
    const started = Date.now();

    await connection.close();

    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('connectRedis: how many replicas a durable write waits for', () => {
  const sentinels = [{ host: '127.0.0.1', port: 1 }];
  it('waits for one behind Sentinel unless told otherwise (an outside review: a planned failover undid 8 acknowledged logouts without it)', async () => {
    const behindSentinel = connectRedis({ sentinels });
    expect({ durable: typeof behindSentinel.sendDurable, replicas: behindSentinel.replicasToWait, description: behindSentinel.description }).toEqual({
      durable: 'function',
      replicas: 1,
      description: 'Redis master mymaster via sentinels 127.0.0.1:1, durable writes wait for 1 replica(s)',
    });
    await behindSentinel.close();
    const off = connectRedis({ sentinels, waitForReplicas: { replicas: 0, timeoutMs: 500 } });
    expect(off.sendDurable).toBeUndefined();
    await off.close();
  });

  it('waits for none on one server or a Cluster unless told to', async () => {
    for (const options of [{ url: 'redis://127.0.0.1:1' }, { url: 'redis://127.0.0.1:1', cluster: true }]) {
      const connection = connectRedis(options);
      expect(connection.sendDurable).toBeUndefined();
      await connection.close();
    }
    const told = connectRedis({ url: 'redis://127.0.0.1:1', waitForReplicas: { replicas: 2, timeoutMs: 500 } });
    expect(told.replicasToWait).toBe(2);
    await told.close();
  });
});

// node-redis refused these only when it connected, in the background: open() resolved, and every call was refused as
// "not connected" for good, without a reason; a database number with Sentinel or Cluster was ignored, putting apps
// kept apart by it into one keyspace (an outside review of KuraStore, 2026-12-07).
describe('connectRedis: a URL it cannot use is refused at the call, in one line', () => {
  it.each([
    ['another scheme', { url: 'http://kura:secret@127.0.0.1:6379' }, "Redis: the URL's scheme is http://, not redis:// (or rediss:// for TLS)"],
    ['a path that is no database', { url: 'redis://127.0.0.1:6379/abc' }, "Redis: the URL's path /abc is no database number (redis://host:6379/0)"],
    ['a database with a Cluster', { url: 'redis://127.0.0.1:6379/2', cluster: true }, 'Redis: the URL names database 2, which a Redis Cluster does not have (database 0 only): take it out, and keep apps apart by keyPrefix'],
    [
      'a database with Sentinel',
      { url: 'redis://default:pw@x/2', sentinels: [{ host: '127.0.0.1', port: 1 }] },
      "Redis: the URL names database 2, which is not used with Sentinel (only the URL's user, password and TLS are): take it out, and keep apps apart by keyPrefix",
    ],
  ])('refuses %s', (_case, options, message) => {
    expect(() => connectRedis(options)).toThrow(new Error(message));
  });

  it('takes a database number on one server, and none, / or /0 anywhere', async () => {
    for (const options of [{ url: 'redis://127.0.0.1:1/3' }, { url: 'redis://127.0.0.1:1/3/' }, { url: 'redis://127.0.0.1:1/', cluster: true }, { url: 'redis://127.0.0.1:1/0', sentinels: [{ host: '127.0.0.1', port: 1 }] }]) {
      await connectRedis(options).close();
    }
  });
});

// Behind Sentinel a wrong password was "not connected" with no reason (the master's refusal comes as the sentinel
// client's `client-error`), and a master name the sentinels do not know "the store could not be reached" (an outside
// review of KuraStore, 2026-12-07). The single-server table of docs/redis.md promised the reasons.
describeWithRedis('connectRedis behind Sentinel: why it does not connect', () => {
  let setup: RedisSentinelSetup;
  beforeAll(async () => {
    setup = await startRedisSentinels();
  }, 60_000);
  afterAll(() => setup?.stop());

  const reasonBehind = async (url: string, masterName: string) => {
    const redis = connectRedis({ sentinels: [...setup.sentinelNodes], masterName, url, waitForReplicas: { replicas: 0, timeoutMs: 500 } });
    void redis.open();
    try {
      const store = new RedisSessionStore(redis);
      let reason = '';
      for (let tries = 0; tries < 40 && !/last attempt/.test(reason); tries += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        reason = await store.ping().then(() => 'connected', (error: StoreUnavailableError) => error.reason ?? String(error));
      }
      return reason;
    } finally {
      await redis.close();
    }
  };

  it('names the credentials the master refused', async () => {
    expect(await reasonBehind('redis://nobody:secret@ignored', setup.masterName)).toMatch(/^Redis is not connected .*; the last attempt failed: Redis refused the credentials/);
  });

  it('names a master the sentinels do not know', async () => {
    expect(await reasonBehind('redis://ignored', 'nosuchmaster')).toMatch(/the last attempt failed: the sentinels know no master by that name \(masterName, KURA_REDIS_SENTINEL_MASTER\)/);
  });
});
