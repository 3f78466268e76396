import { connect, createServer, type Server, type Socket } from 'node:net';
import { redisCli, until } from '../../../test/support/redis-cluster.js';
import { type RedisServer, redisServerMissing, startRedisServer } from '../../../test/support/redis-server.js';
import { connectRedis, type RedisConnection } from './redis-connection.js';

const missing = redisServerMissing();
if (missing) console.warn(`SKIPPING the endpoint that moves on failover: ${missing}`);
const describeWithRedis = missing ? describe.skip : describe;

/**
 * A managed Redis's primary endpoint (ElastiCache, MemoryDB) is a name the service points at the new primary on a
 * failover; connections made before stay on the demoted node, now a replica. Played here by a relay on loopback
 * whose target moves: new connections reach the new primary, old ones keep their old node.
 */
describeWithRedis('connectRedis when the address it was given moves to a new primary', () => {
  let first: RedisServer;
  let second: RedisServer;
  let target: number;
  let relay: Server;
  const sockets = new Set<Socket>();
  let connection: RedisConnection;
  beforeAll(async () => {
    [first, second] = await Promise.all([startRedisServer(), startRedisServer()]);
    target = first.port;
    relay = createServer((client) => {
      const upstream = connect(target, '127.0.0.1');
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('error', () => undefined).on('close', () => {
          sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    connection = connectRedis({ url: `redis://127.0.0.1:${(relay.address() as { port: number }).port}`, commandTimeoutMs: 1000, maxReconnectDelayMs: 200 });
    await connection.open();
  });
  afterAll(async () => {
    await connection?.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => relay?.close(resolve));
    await Promise.all([first?.stop(), second?.stop()]);
  });

  it('follows it after a READONLY: writes land on the new primary without a restart', async () => {
    expect(await connection.sendCommand(['SET', 'before', '1'])).toBe('OK');

    // The failover: the old primary becomes a replica of the new one, and the address now leads to the new one.
    await redisCli(first.port, 'REPLICAOF', '127.0.0.1', String(second.port));
    target = second.port;

    const refusals: string[] = [];
    let landed = false;
    for (const giveUpAt = Date.now() + 10_000; !landed && Date.now() < giveUpAt; ) {
      try {
        landed = (await connection.sendCommand(['SET', 'after', '1'])) === 'OK';
      } catch (error) {
        refusals.push((error as Error).message.split(' ')[0]!);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    expect(landed).toBe(true);
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.every((refusal) => refusal === 'READONLY')).toBe(true);
    expect((await redisCli(second.port, 'GET', 'after')).trim()).toBe('1');
    // The connection left on the demoted node is closed, not kept beside the new one (flags=M: its new master's link).
    const ours = async () => (await redisCli(first.port, 'CLIENT', 'LIST')).split('\n').filter((line) => line.includes('cmd=') && !line.includes('cmd=client') && !line.includes('flags=M'));
    await until('the old connection closed', async () => (await ours()).length === 0, 5000);
  });
});
