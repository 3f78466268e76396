import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KuraStore, type KuraStoreOptions } from '@kura/connect';
import { HttpClient } from '../support/http-client.js';

/** A running app: express-session or @fastify/session with a KuraStore, on a loopback port. */
export interface RunningApp {
  readonly url: string;
  close(): Promise<void>;
}

/** A listening server as a running app; `close` ends the app (by default, the server) once its connections are cut. */
export function runningApp(server: Server, close: () => Promise<unknown> = () => new Promise((resolve) => server.close(resolve))): RunningApp {
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await close();
    },
  };
}

/** One framework as its README would have it: login, me, session, keys, logout, and a 503 for store outages. */
export interface SessionFramework {
  readonly name: string;
  /** Where the app turns `StoreUnavailableError` into a 503 ('the error middleware', 'setErrorHandler'). */
  readonly errorHandler: string;
  start(store: KuraStore): Promise<RunningApp>;
  /** The same app without that handler: the framework's own answers a store outage. */
  startWithoutHandler(store: KuraStore): Promise<RunningApp>;
  /** The session id inside the cookie's (URL-decoded, signed) value. */
  sessionIdOf(signed: string): string;
}

/** What the storage did for the counted stores since `reset()`, as counted by the storage's side. */
export interface StorageCosts {
  readonly reads: number;
  readonly writes: number;
  /** Reads that see every write already acknowledged anywhere (DynamoDB: capacity units of consistent reads). */
  readonly consistentReads: number;
  /** Every call or command the storage served (Redis: counted at the server, a script's own commands included). */
  readonly commands: number;
}

/** KuraStore options for one store, and how to release what they hold. */
export interface StoreOptionsHandle {
  readonly options: KuraStoreOptions;
  close(): Promise<void>;
}

/** A storage KuraStore runs on (DynamoDB Local, Redis), with its counters and its faults. */
export interface ConnectStorage {
  readonly name: string;
  /** Whether an expired session's item stays until the engine's TTL deletes it (DynamoDB), or is freed at once (Redis's PEXPIREAT). */
  readonly freedAtExpiry: boolean;
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  /** A store on the storage, its calls counted by `costs`. */
  healthy(): Promise<StoreOptionsHandle>;
  /** A store reaching the storage through a fault injector (`stall`, `pass`, `holdWrites`), 300 ms per call. */
  faulty(): Promise<StoreOptionsHandle>;
  /** A store whose storage address has nothing listening, 300 ms per call. */
  refused(): Promise<StoreOptionsHandle>;
  /** The fault injector: every call stalls, every call passes (what was held too), or writes stall for good. */
  stall(): void;
  pass(): void;
  holdWrites(): void;
  resetCosts(): Promise<void>;
  costs(): Promise<StorageCosts>;
  /** Whether the storage still holds a session's item (its key, whatever it holds: a deleted session's mark too). */
  holds(itemKey: string): Promise<boolean>;
  /** Everything stored, as text, to look for what must (not) be there. */
  dump(): Promise<string>;
}

/** The item key KuraStore keeps for a session id, computed here independently of the store. */
const hashOf = (sessionId: string) => createHash('sha256').update(sessionId).digest('base64url');

interface Instance extends RunningApp {
  readonly store: KuraStore;
}

async function startInstance(framework: SessionFramework, handle: StoreOptionsHandle, start = framework.start): Promise<Instance> {
  // Whose each session is, as the apps keep it (`{ user: { name } }`): the user index behind /sessions and /logout-everywhere.
  const store = new KuraStore({ ...handle.options, userOf: (session) => (session.user as { name?: unknown } | undefined)?.name });
  const app = await start(store);
  return {
    url: app.url,
    store,
    close: async () => {
      await app.close();
      store.close();
      await handle.close();
    },
  };
}

/**
 * KuraStore under one framework on one storage, over real HTTP: two instances of one app (each with its own
 * store and client) on one storage, as two replicas behind a balancer; then instances whose storage stalls or
 * refuses. The same checks for every framework and every storage.
 */
export function connectAppSuite(framework: SessionFramework, storage: ConnectStorage): void {
  describe(`${framework.name} with KuraStore on ${storage.name}`, () => {
    let first: Instance;
    let second: Instance;
    beforeAll(async () => {
      await storage.setUp();
      [first, second] = await Promise.all([startInstance(framework, await storage.healthy()), startInstance(framework, await storage.healthy())]);
    });
    afterAll(async () => {
      await Promise.all([first?.close(), second?.close()]);
      await storage.tearDown();
    });

    /** A browser: one cookie jar for both instances, which share the host and differ only in port. */
    const browser = () => new HttpClient('http://127.0.0.1/');
    const logIn = async (user: HttpClient, on: Instance, query = '') => {
      const login = await user.post(`${on.url}/login?user=ada${query}`);
      if (login.status !== 200) throw new Error(`login: ${login.status} ${login.text}`);
    };
    const cookieOf = (user: HttpClient) => user.jar.getCookieString(first.url);
    const sessionIdOf = (cookie: string) => framework.sessionIdOf(decodeURIComponent(/sid=([^;]+)/.exec(cookie)![1]!));

    describe('on two instances', () => {
      it('logs in on one instance and is logged in on the other', async () => {
        const user = browser();

        await logIn(user, first);

        expect((await user.get(`${second.url}/me`)).body).toEqual({ user: { name: 'ada' } });
      });

      it('logs out on the second instance, and the first sees no session at once', async () => {
        const user = browser();
        await logIn(user, first);
        const stolen = await cookieOf(user);

        expect((await user.post(`${second.url}/logout`)).status).toBe(204);

        expect((await user.get(`${first.url}/me`, { cookies: false, headers: { cookie: stolen } })).status).toBe(401);
      });

      it('keeps only the SHA-256 of the session id in the storage, and never the marker of what was read', async () => {
        const user = browser();
        await logIn(user, first);
        await user.post(`${second.url}/keys/cart?value=1`);
        const sid = sessionIdOf(await cookieOf(user));

        const dump = await storage.dump();

        expect(dump).toContain(hashOf(sid));
        expect(dump).not.toContain(sid);
        expect(dump).not.toContain('__kura');
      });

      it(`finds an expired session absent on both instances, ${storage.freedAtExpiry ? 'its key freed by the storage' : 'though its item is still in the table'}`, async () => {
        const user = browser();
        await logIn(user, first, '&maxAgeMs=3000');
        const replayed = await cookieOf(user);
        expect((await user.get(`${second.url}/me`)).status).toBe(200);
        // That request may have moved the expiry (the touch rule, on a slow machine): wait from its end.
        const lastUsedAt = Date.now();

        await new Promise((resolve) => setTimeout(resolve, lastUsedAt + 3100 - Date.now()));

        for (const instance of [first, second]) {
          expect((await user.get(`${instance.url}/me`, { cookies: false, headers: { cookie: replayed } })).status).toBe(401);
        }
        expect(await storage.holds(hashOf(sessionIdOf(replayed)))).toBe(!storage.freedAtExpiry);
      });

      it('costs one consistent read and no write per authenticated GET at steady state, nothing else', async () => {
        const user = browser();
        await logIn(user, first);
        await storage.resetCosts();

        for (let request = 0; request < 10; request += 1) expect((await user.get(`${[first, second][request % 2]!.url}/me`)).status).toBe(200);

        expect(await storage.costs()).toEqual({ reads: 10, writes: 0, consistentReads: 10, commands: 10 });
      });

      it('loses none of 50 concurrent updates of different keys of one session, on both instances', async () => {
        const user = browser();
        await logIn(user, first);
        const cookie = await cookieOf(user);
        await storage.resetCosts();

        const answers = await Promise.all(
          Array.from({ length: 50 }, (_, index) => user.post(`${[first, second][index % 2]!.url}/keys/k${index}?value=${index}`, undefined, { cookies: false, headers: { cookie } })),
        );

        expect(answers.map(({ status }) => status)).toEqual(Array(50).fill(200));
        // One read and one write per request: no conflict to retry, whatever the contention.
        expect(await storage.costs()).toMatchObject({ reads: 50, writes: 50 });
        const stored = (await user.get(`${second.url}/session`)).body as Record<string, unknown>;
        const lost = Array.from({ length: 50 }, (_, index) => `k${index}`).filter((key) => stored[key] === undefined);
        expect(lost).toEqual([]);
        expect(stored.user).toEqual({ name: 'ada' });
      });
    });

    describe('every session of a user, on two instances', () => {
      let users = 0;
      /** A user of the test's own, logged in on each instance given, one browser per login. */
      const logInAs = async (instances: Instance[]) => {
        const name = `user-${framework.name.length}-${Date.now()}-${(users += 1)}`;
        const browsers: HttpClient[] = [];
        for (const instance of instances) {
          const user = browser();
          expect((await user.post(`${instance.url}/login?user=${name}`)).status).toBe(200);
          browsers.push(user);
        }
        return browsers;
      };
      const statusOf = async (user: HttpClient, instance: Instance) => (await user.get(`${instance.url}/me`)).status;

      it('lists them from either instance, and "log out my other sessions" ends them on both at once, keeping this one', async () => {
        const [laptop, phone, here] = await logInAs([first, second, first]);
        const [someoneElse] = await logInAs([second]);

        const listed = (await here!.get(`${second.url}/sessions`)).body as { handle: string; current: boolean }[];
        expect(listed.map(({ current }) => current).sort()).toEqual([false, false, true]);

        expect((await here!.post(`${second.url}/logout-everywhere?others=1`)).body).toEqual({ ended: 2 });

        for (const instance of [first, second]) {
          expect([await statusOf(laptop!, instance), await statusOf(phone!, instance), await statusOf(here!, instance), await statusOf(someoneElse!, instance)]).toEqual([401, 401, 200, 200]);
        }
        expect(((await here!.get(`${first.url}/sessions`)).body as unknown[]).length).toBe(1);
      });

      it('"log out everywhere" ends this session too', async () => {
        const [laptop, here] = await logInAs([second, first]);

        expect((await here!.post(`${first.url}/logout-everywhere`)).body).toEqual({ ended: 2 });

        expect([await statusOf(laptop!, first), await statusOf(here!, second)]).toEqual([401, 401]);
      });

      it('ends one session by the handle the list gave, and no other user can end it', async () => {
        const [laptop, phone] = await logInAs([first, second]);
        const [someoneElse] = await logInAs([first]);
        const phoneHandle = ((await laptop!.get(`${first.url}/sessions`)).body as { handle: string; current: boolean }[]).find(({ current }) => !current)!.handle;
        const laptopHandle = ((await phone!.get(`${first.url}/sessions`)).body as { handle: string; current: boolean }[]).find(({ current }) => !current)!.handle;

        expect((await someoneElse!.request('DELETE', `${second.url}/sessions/${laptopHandle}`)).status).toBe(404);
        expect((await laptop!.request('DELETE', `${second.url}/sessions/${phoneHandle}`)).status).toBe(204);

        expect([await statusOf(laptop!, second), await statusOf(phone!, first), await statusOf(someoneElse!, second)]).toEqual([200, 401, 200]);
      });
    });

    describe(`when ${storage.name} cannot answer`, () => {
      let stalled: Instance;
      let refused: Instance;
      beforeAll(async () => {
        [stalled, refused] = await Promise.all([startInstance(framework, await storage.faulty()), startInstance(framework, await storage.refused())]);
      });
      afterAll(async () => {
        storage.pass();
        await Promise.all([stalled?.close(), refused?.close()]);
      });

      /**
       * A 503 with Retry-After, and no new session: no cookie at all, or (`sameSession`: express-session sets the
       * cookie of a changed session even when its save failed) the cookie of the session the request came with.
       */
      const expectUnavailable = (response: { status: number; headers: Headers; body: unknown }, sameSession?: string) => {
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toBe('1');
        const cookie = response.headers.get('set-cookie');
        if (cookie === null || sameSession === undefined) expect(cookie).toBeNull();
        else expect(sessionIdOf(cookie)).toBe(sameSession);
        expect(response.body).toEqual({ title: 'Service Unavailable' });
      };

      it.each([
        ['a connection that stalls', () => stalled],
        ['a closed port', () => refused],
      ])(`answers 503 with Retry-After through ${framework.errorHandler} with %s, never 500 and never logged in`, async (_case, instance) => {
        storage.stall();
        const user = browser();
        await logIn(user, first);

        for (const call of [() => user.get(`${instance().url}/me`), () => user.post(`${instance().url}/login?user=eve`), () => user.post(`${instance().url}/logout`)]) {
          expectUnavailable(await call());
        }
        expect((await user.get(`${first.url}/me`)).body).toEqual({ user: { name: 'ada' } });
      });

      // A stranger's copy of the README's snippet, without the handler (2026-12-04), answered every visitor 500.
      it(`answers 503 with Retry-After through ${framework.name}'s own error handler, in an app without one of its own`, async () => {
        const bare = await startInstance(framework, await storage.refused(), framework.startWithoutHandler);
        try {
          storage.pass();
          const user = browser();
          await logIn(user, first);

          const response = await user.get(`${bare.url}/me`);

          expect({ status: response.status, retryAfter: response.headers.get('retry-after') }).toEqual({ status: 503, retryAfter: '1' });
        } finally {
          await bare.close();
        }
      });

      it('answers 503 when the save after the handler cannot be written, and writes nothing', async () => {
        storage.pass();
        const user = browser();
        await logIn(user, first);
        storage.holdWrites(); // never released before the check: the write times out

        expectUnavailable(await user.post(`${stalled.url}/keys/cart?value=lost`), sessionIdOf(await cookieOf(user)));

        expect(((await user.get(`${first.url}/session`)).body as Record<string, unknown>).cart).toBeUndefined();
      });

      it(`answers again once ${storage.name} is back`, async () => {
        storage.pass();
        const user = browser();
        await logIn(user, first);

        expect((await user.get(`${stalled.url}/me`)).status).toBe(200);
      });
    });
  });
}
