import { jest } from '@jest/globals';
import { StoreUnavailableError } from '@kura/common';
import { newConnectId } from '../../../test/contracts/connect-session-store.contract.js';
import { redisServerMissing, startRedisServer } from '../../../test/support/redis-server.js';
import { createRedisClient } from './redis-client.js';
import { RedisConnectSessionStore } from './redis-connect-session.store.js';

/**
 * RedisConnectSessionStore and Redis's eviction policy: a warning under `volatile-*`; under `allkeys-*` every call
 * refused, every write it makes (a session, a deletion's mark, a credential in force, `destroySessionsOf`'s endings)
 * whatever the process's first call was, and a refusal that never outlives the policy.
 */
const missing = redisServerMissing();
if (missing) console.warn(`SKIPPING RedisConnectSessionStore and an eviction policy: ${missing}`);
const describeWithRedis = missing ? describe.skip : describe;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const REFUSED = { status: 'rejected', reason: expect.any(StoreUnavailableError) };

describeWithRedis('RedisConnectSessionStore under an allkeys-* policy: every write refused, whatever the first call', () => {
  const onAllkeys = async () => {
    const server = await startRedisServer({ args: ['--maxmemory-policy', 'allkeys-lru'] });
    const client = await createRedisClient({ url: server.url });
    await client.connect();
    return {
      client,
      close: async () => {
        client.destroy();
        await server.stop();
      },
    };
  };

  // Only `read` asked for the policy: a process whose first calls write never asked, and wrote under allkeys-lru.
  // A login on a fresh replica (no cookie: express-session reads nothing; regenerate's destroy, then the save) and a
  // worker or an operator's script calling destroySessionsOf (credential, endings, deletions: no session read) do.
  it('refuses the writes of a process whose first calls write (a login, destroySessionsOf from a worker): nothing written', async () => {
    const { client, close } = await onAllkeys();
    try {
      const store = new RedisConnectSessionStore(client);
      const id = newConnectId();
      const first = await Promise.allSettled([store.addToUserIndex('credential-of-ada', { id: 'v2', addedAtMs: 1 }, undefined)]);
      const then = await Promise.allSettled([
        store.delete(id, Date.now()),
        store.replace(id, { data: new Map([['user', '"ada"']]), cookie: undefined, expiresAtMs: Date.now() + 60_000, generation: 'g' }),
        store.addToUserIndex('ada', { id, addedAtMs: 1 }, undefined),
        store.removeFromUserIndex('ada', [{ id: 'x', addedAtMs: 1 }]),
      ]);
      expect([...first, ...then]).toEqual([REFUSED, REFUSED, REFUSED, REFUSED, REFUSED]);
      expect(await client.sendCommand(['DBSIZE'])).toBe(0); // observed: the credential, a mark, the session, an index
    } finally {
      await close();
    }
  });

  // The re-check took a NOPERM (an ACL user that lost `info`) as "not checked" and kept the refusal it had: every call
  // refused for good, the policy fixed or not. A user without `info` is not checked (README): not refused either.
  it('a refusal does not outlive the policy when the re-check is refused by the ACL (the user is then not checked, as one without info from the start)', async () => {
    const { client, close } = await onAllkeys();
    try {
      const store = new RedisConnectSessionStore(client);
      const id = newConnectId();
      await store.read(id, Date.now());
      await client.sendCommand(['PING']);
      await new Promise((resolve) => setImmediate(resolve));
      await expect(store.read(id, Date.now())).rejects.toBeInstanceOf(StoreUnavailableError);

      await client.sendCommand(['CONFIG', 'SET', 'maxmemory-policy', 'noeviction']);
      await client.sendCommand(['ACL', 'SETUSER', 'default', '-info']);
      await sleep(1100);
      await expect(store.read(id, Date.now())).rejects.toBeInstanceOf(StoreUnavailableError); // reads the policy again
      await client.sendCommand(['PING']);
      await new Promise((resolve) => setImmediate(resolve));
      expect(await store.read(id, Date.now())).toBeUndefined(); // observed: refused, and on every call after
    } finally {
      await close();
    }
  });

  // The re-check was timed by the wall clock: one stepped back (NTP, a VM resumed) held the refusal that much longer.
  it('a wall clock stepped back does not hold the refusal past the policy', async () => {
    const { client, close } = await onAllkeys();
    const realNow = Date.now.bind(Date);
    let offset = 0;
    const now = jest.spyOn(Date, 'now').mockImplementation(() => realNow() - offset);
    try {
      const store = new RedisConnectSessionStore(client);
      const id = newConnectId();
      await store.read(id, realNow());
      await client.sendCommand(['PING']);
      await new Promise((resolve) => setImmediate(resolve));
      await expect(store.read(id, realNow())).rejects.toBeInstanceOf(StoreUnavailableError);

      offset = 60 * 60_000; // the clock steps an hour back
      await client.sendCommand(['CONFIG', 'SET', 'maxmemory-policy', 'noeviction']);
      await sleep(1100);
      await expect(store.read(id, realNow())).rejects.toBeInstanceOf(StoreUnavailableError);
      await client.sendCommand(['PING']);
      await new Promise((resolve) => setImmediate(resolve));
      expect(await store.read(id, realNow())).toBeUndefined(); // observed: refused for the hour
    } finally {
      now.mockRestore();
      await close();
    }
  });
});

describeWithRedis('RedisConnectSessionStore and an eviction policy', () => {
  const warningsAfterOneRead = async (args: string[]) => {
    const server = await startRedisServer({ args });
    const client = await createRedisClient({ url: server.url });
    await client.connect();
    const warnings: string[] = [];
    const emit = jest.spyOn(process, 'emitWarning').mockImplementation(((warning: string, options?: { code?: string }) => {
      warnings.push(`${options?.code}: ${warning}`);
    }) as typeof process.emitWarning);
    try {
      const store = new RedisConnectSessionStore(client);
      for (let read = 0; read < 3; read += 1) await store.read(newConnectId(), Date.now());
      // The check is not awaited by the read: let its INFO come back.
      await client.sendCommand(['PING']);
      return warnings;
    } finally {
      emit.mockRestore();
      client.destroy();
      await server.stop();
    }
  };

  it('warns once when Redis may evict what keeps ended sessions ended (volatile-lru, ElastiCache\'s default)', async () => {
    expect(await warningsAfterOneRead(['--maxmemory-policy', 'volatile-lru'])).toEqual([
      expect.stringMatching(/^KURA_REDIS_EVICTION: Redis's maxmemory-policy is volatile-lru: .* KuraStore needs noeviction/),
    ]);
  });

  it('says nothing under noeviction, Redis\'s default', async () => {
    expect(await warningsAfterOneRead([])).toEqual([]);
  });

  it('refuses every call under an allkeys-* policy (it may evict a credential in force, undoing a password change), and serves again once the policy is noeviction, without a restart', async () => {
    const server = await startRedisServer({ args: ['--maxmemory-policy', 'allkeys-lru'] });
    const client = await createRedisClient({ url: server.url });
    await client.connect();
    try {
      const store = new RedisConnectSessionStore(client);
      // The policy is read beside a call, not awaited by it: its answer lands before the next PING's, and a turn of the loop more.
      const policyRead = async () => {
        await client.sendCommand(['PING']);
        await new Promise((resolve) => setImmediate(resolve));
      };
      const id = newConnectId();
      await store.read(id, Date.now()); // the first read asks for the policy beside it
      await policyRead();

      const refused = await Promise.allSettled([
        store.read(id, Date.now()),
        store.replace(id, { data: new Map(), cookie: undefined, expiresAtMs: Date.now() + 60_000, generation: 'g' }),
        store.delete(id, Date.now()),
        store.userIndex('u'),
        store.addToUserIndex('u', { id, addedAtMs: 1 }, undefined),
      ]);
      for (const outcome of refused) {
        expect(outcome).toMatchObject({ status: 'rejected', reason: expect.any(StoreUnavailableError) });
        expect(String((outcome as PromiseRejectedResult).reason.reason)).toMatch(/maxmemory-policy is allkeys-lru, which may evict a user's credential in force .* KuraStore needs noeviction/);
      }
      expect(await client.sendCommand(['DBSIZE'])).toBe(0); // nothing written

      await client.sendCommand(['CONFIG', 'SET', 'maxmemory-policy', 'noeviction']);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await expect(store.read(id, Date.now())).rejects.toBeInstanceOf(StoreUnavailableError); // this one reads the policy again
      await policyRead();
      expect(await store.read(id, Date.now())).toBeUndefined();
    } finally {
      client.destroy();
      await server.stop();
    }
  });
});
