import { Redis } from 'ioredis';
import { fromIoredis, RedisSessionDataStore, RedisSessionStore } from '@kura/redis';
import { resolveSessionSettings, SessionCache, SessionDataService, SessionService } from '@kura/session';
import { redisRunsPossible, type RedisServer, startRedisServer } from './support/redis-server.js';
import { startTcpFaultProxy, type TcpFaultProxy } from './support/tcp-fault-proxy.js';

/**
 * An app's own ioredis client with its default `autoResendUnfulfilledCommands`: when a connection drops with a
 * command in flight, ioredis sends it again once reconnected, and the store reads the second reply. Found by the
 * review of 2026-12-02: a data update whose reply was lost answered 412 though it was made, and a
 * re-authentication whose ending's reply was lost answered 401 and left its user with no session. Each write now
 * recognises itself when it meets its own effect.
 */
const describeWithRedis = redisRunsPossible('a write sent twice by ioredis') ? describe : describe.skip;

describeWithRedis('Kura on an ioredis client that resends a write whose reply was lost', () => {
  let server: RedisServer;
  let proxy: TcpFaultProxy;
  let client: Redis;
  let sessions: SessionService;
  let data: SessionDataService;
  beforeAll(async () => {
    server = await startRedisServer();
    proxy = await startTcpFaultProxy(server.port);
    client = new Redis({ port: proxy.port, host: '127.0.0.1', enableOfflineQueue: false, lazyConnect: true });
    client.on('error', () => undefined);
    await client.connect();
    const redis = fromIoredis(client);
    const settings = resolveSessionSettings({ store: new RedisSessionStore(redis), dataStore: new RedisSessionDataStore(redis) });
    sessions = new SessionService(settings, new SessionCache(settings));
    data = new SessionDataService(settings);
  });
  afterAll(async () => {
    client?.disconnect();
    await proxy?.close();
    await server?.stop();
  });

  it('applies an If-Match data update once and answers it, not a 412 against its own write', async () => {
    const { record } = await sessions.create({ id: 'resent-data', name: null });
    await data.patch(record, { warm: true }); // and Redis has the script
    const { lost } = proxy.loseReplyOf((chunk) => chunk.includes('"cart"'));

    const patched = await data.patch(record, { cart: ['book'] }, 1);

    await lost;
    expect(patched).toEqual({ data: { warm: true, cart: ['book'] }, version: 2 });
    expect(await data.read(record)).toEqual({ data: { warm: true, cart: ['book'] }, version: 2 });
  });

  it('re-authenticates (a new session) when the reply to its ending was lost, instead of refusing and logging out', async () => {
    const first = await sessions.create({ id: 'resent-reauth', name: null });
    const current = await sessions.authenticate(first.token);
    // Another session ended first, so that Redis has the script: the reply lost is then the ending's own.
    await sessions.revoke((await sessions.create({ id: 'resent-warm', name: null })).token);
    const { lost } = proxy.loseReplyOf((chunk) => chunk.includes(current.record.id) && chunk.includes('createdAt'));

    const renewed = await sessions.reauthenticated(current);

    await lost;
    expect((await sessions.authenticate(renewed.token)).record.user.id).toBe('resent-reauth');
    await expect(sessions.authenticate(first.token)).rejects.toThrow();
  });
});
