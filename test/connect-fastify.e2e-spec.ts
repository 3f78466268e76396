import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { KuraStore } from '@kura/connect';
import Fastify from 'fastify';
import { type ConnectStorage, connectAppSuite, type RunningApp, runningApp, type SessionFramework, type StoreOptionsHandle } from './contracts/connect-app.suite.js';
import { onEveryStorage } from './support/connect-storages.js';
import { fastifyApp } from './support/fastify-session-app.js';
import { HttpClient } from './support/http-client.js';

const fastifySessionFramework: SessionFramework = {
  name: '@fastify/session',
  errorHandler: 'setErrorHandler',
  start: fastifyApp,
  startWithoutHandler: (store) => fastifyApp(store, { errorHandler: false }),
  // @fastify/cookie signs as `<sid>.<signature>`.
  sessionIdOf: (signed) => signed.slice(0, signed.lastIndexOf('.')),
};

onEveryStorage('f', (storage) => connectAppSuite(fastifySessionFramework, storage));

/**
 * Races between two instances of a @fastify/session app (rolling: true, its default) on one storage, each request
 * held at a gate after its session was read and before @fastify/session saves it, so the other instance can act
 * in between: what a request that read the session before another's change writes when it is let go.
 */
function racesOn(storage: ConnectStorage): void {
  describe(`@fastify/session races on two instances, KuraStore on ${storage.name}`, () => {
    type Gate = { reached: Promise<void>; arrive(): void; released: Promise<void>; release(): void };
    const gates = new Map<string, Gate>();
    const gate = (name: string): Gate => {
      let found = gates.get(name);
      if (!found) {
        let arrive!: () => void;
        let release!: () => void;
        const reached = new Promise<void>((resolve) => (arrive = resolve));
        const released = new Promise<void>((resolve) => (release = resolve));
        gates.set(name, (found = { reached, arrive, released, release }));
      }
      return found;
    };
    const stores: KuraStore[] = [];
    const handles: StoreOptionsHandle[] = [];
    const apps: RunningApp[] = [];
    let first: string;
    let second: string;

    async function start(): Promise<string> {
      const handle = await storage.healthy();
      handles.push(handle);
      const store = new KuraStore({ ...handle.options, userOf: (session) => (session.user as { name?: unknown } | undefined)?.name });
      stores.push(store);
      const app = Fastify();
      await app.register(fastifyCookie);
      await app.register(fastifySession, { store, secret: 'a secret of at least 32 characters for @fastify/session', cookieName: 'sid', saveUninitialized: false, cookie: { maxAge: 20_000, secure: false } });
      type Query = { Querystring: Record<string, string | undefined>; Params: Record<string, string> };
      app.post<Query>('/login', async (request) => {
        await request.session.regenerate();
        request.session.set('user', { name: request.query.user ?? 'ada' });
        return {};
      });
      app.get('/session', async (request) => JSON.parse(JSON.stringify(request.session)) as unknown);
      // Held after the read; then sets a key, changes the cookie's maxAge or reloads, if asked; @fastify/session saves after.
      app.post<Query>('/held/:gate', async (request) => {
        const held = gate(request.params.gate!);
        held.arrive();
        await held.released;
        if (request.query.reload) await request.session.reload();
        if (request.query.key) request.session.set(request.query.key, request.query.value);
        if (request.query.maxAgeMs) request.session.options({ maxAge: Number(request.query.maxAgeMs) });
        return {};
      });
      app.post<Query>('/keys/:key', async (request) => {
        request.session.set(request.params.key!, request.query.value);
        return {};
      });
      app.post<Query>('/max-age', async (request) => {
        request.session.options({ maxAge: Number(request.query.ms) });
        return {};
      });
      app.post('/logout', async (request, reply) => {
        await request.session.destroy();
        return reply.code(204).send();
      });
      app.post('/logout-everywhere', async (request) => ({ ended: await store.destroySessionsOf((request.session.get('user') as { name: string }).name) }));
      await app.listen({ host: '127.0.0.1', port: 0 });
      const running = runningApp(app.server, () => app.close());
      apps.push(running);
      return running.url;
    }

    beforeAll(async () => {
      await storage.setUp();
      [first, second] = await Promise.all([start(), start()]);
    });
    afterAll(async () => {
      await Promise.all(apps.map((app) => app.close()));
      stores.forEach((store) => store.close());
      await Promise.all(handles.map((handle) => handle.close()));
      await storage.tearDown();
    });

    let count = 0;
    /** A logged-in browser (on the first instance), and its cookie as a header to replay from anywhere. */
    const loggedIn = async (user = 'ada') => {
      const browser = new HttpClient('http://127.0.0.1/');
      expect((await browser.post(`${first}/login?user=${user}`)).status).toBe(200);
      const cookie = await browser.jar.getCookieString(first);
      return { browser, as: { cookies: false, headers: { cookie } } as const };
    };
    /** Starts a request on `url` held after its read; resolves once it is held, with a release that gives its answer. */
    const held = async (url: string, as: object, query = '', client = new HttpClient('http://127.0.0.1/')) => {
      const name = `g${(count += 1)}`;
      const answer = client.post(`${url}/held/${name}${query}`, undefined, as);
      await gate(name).reached;
      return async () => {
        gate(name).release();
        return answer;
      };
    };
    const sessionOf = async (as: object) => (await new HttpClient('http://127.0.0.1/').get(`${second}/session`, as)).body as Record<string, any>;
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    describe('a cookie setting changed on one instance (session.options({ maxAge }))', () => {
      // Not a defect of the merge of data keys: the cookie is written whole by every save that writes, so a request
      // that read the session before the change and did not change the cookie puts back the maxAge it read.
      it('keeps it when a request that read the session before changes a data key on the other instance', async () => {
        const { as } = await loggedIn();
        const release = await held(first, as, '?key=cart&value=1');

        expect((await new HttpClient('http://127.0.0.1/').post(`${second}/max-age?ms=600000`, undefined, as)).status).toBe(200);
        expect((await release()).status).toBe(200);

        const session = await sessionOf(as);
        expect(session.cart).toBe('1');
        expect(session.cookie.originalMaxAge).toBe(600_000);
      });

      it('keeps it when a steady request (its rolling save) that read the session before is due to move the expiry', async () => {
        const { as } = await loggedIn();
        // A 20 s cookie: 2 s after the last write, the touch rule (0.1) moves the expiry on the next steady request.
        await sleep(2500);
        const release = await held(first, as);

        expect((await new HttpClient('http://127.0.0.1/').post(`${second}/max-age?ms=600000`, undefined, as)).status).toBe(200);
        expect((await release()).status).toBe(200);

        expect((await sessionOf(as)).cookie.originalMaxAge).toBe(600_000);
      });
    });

    describe('an answer of the old id racing a login in the same browser', () => {
      // @fastify/session (rolling: true) sets its cookie on every answer: the request in flight on the old id
      // answers, after the login, with that id's cookie, which the browser keeps over the login's. KuraStore found the
      // session gone and wrote nothing, but called back without an error (as documented), so @fastify/session set the
      // cookie. Not the store's alone to fix: see the review's report (an error for a save of a session gone, which
      // the app's error handler answers with `request.session = null`, or `rolling: false`).
      it.failing('leaves the browser logged in as the login said, whichever answer comes last', async () => {
        const { browser } = await loggedIn();
        const release = await held(first, {}, '', browser);

        expect((await browser.post(`${second}/login?user=linus`)).status).toBe(200);
        expect((await release()).status).toBe(200);

        expect((await browser.get(`${second}/session`)).body).toMatchObject({ user: { name: 'linus' } });
      });
    });

    describe('what held (a request that read the session before the other instance acted, then saved)', () => {
      it('a steady request does not bring back a session logged out on the other instance', async () => {
        const { as } = await loggedIn();
        const release = await held(first, as);

        expect((await new HttpClient('http://127.0.0.1/').post(`${second}/logout`, undefined, as)).status).toBe(204);
        expect((await release()).status).toBe(200);

        expect((await sessionOf(as)).user).toBeUndefined();
      });

      it('a steady request (due to move the expiry) does not bring back a session ended by destroySessionsOf', async () => {
        const { as } = await loggedIn('grace');
        await sleep(2500);
        const release = await held(first, as, '?key=cart&value=1');

        expect((await new HttpClient('http://127.0.0.1/').post(`${second}/logout-everywhere`, undefined, as)).body).toEqual({ ended: 1 });
        expect((await release()).status).toBe(200);

        expect(await sessionOf(as)).not.toHaveProperty('user');
      });

      it('a steady request writes no old value over a key changed on the other instance, and a change of another key keeps both', async () => {
        const { as } = await loggedIn();
        await new HttpClient('http://127.0.0.1/').post(`${first}/keys/x?value=1`, undefined, as);
        await sleep(2500);
        const steady = await held(first, as);
        const other = await held(first, as, '?key=y&value=2');

        expect((await new HttpClient('http://127.0.0.1/').post(`${second}/keys/x?value=3`, undefined, as)).status).toBe(200);
        await steady();
        await other();

        expect(await sessionOf(as)).toMatchObject({ user: { name: 'ada' }, x: '3', y: '2' });
      });

      it('a login (regenerate) ends the old id, also for a request on it still in flight', async () => {
        const { browser, as } = await loggedIn();
        const release = await held(first, as, '?key=cart&value=1');

        expect((await browser.post(`${second}/login?user=ada`)).status).toBe(200);
        await release();

        expect(await sessionOf(as)).not.toHaveProperty('user');
        expect(await sessionOf({ cookies: false, headers: { cookie: await browser.jar.getCookieString(first) } })).toMatchObject({ user: { name: 'ada' } });
      });

      it('session.reload() sees a change made on the other instance meanwhile, and keeps a logout', async () => {
        const { as } = await loggedIn();
        const release = await held(first, as, '?reload=1&key=y&value=2');
        await new HttpClient('http://127.0.0.1/').post(`${second}/keys/x?value=1`, undefined, as);
        await release();
        expect(await sessionOf(as)).toMatchObject({ user: { name: 'ada' }, x: '1', y: '2' });

        const again = await held(first, as, '?reload=1');
        await new HttpClient('http://127.0.0.1/').post(`${second}/logout`, undefined, as);
        await again();
        expect(await sessionOf(as)).not.toHaveProperty('user');
      });

      it('a tampered signature or another id is a new, unsaved session', async () => {
        const { as } = await loggedIn();
        const cookie = as.headers.cookie;
        for (const forged of [cookie.slice(0, -2) + (cookie.endsWith('A') ? 'BB' : 'AA'), cookie.replace(/sid=[^.]+/, 'sid=short'), 'sid=.', 'sid=%00.x']) {
          const answer = await new HttpClient('http://127.0.0.1/').get(`${second}/session`, { cookies: false, headers: { cookie: forged } });
          expect(answer.status).toBe(200);
          expect(answer.body).not.toHaveProperty('user');
        }
      });
    });
  });
}

onEveryStorage('fr', racesOn);
