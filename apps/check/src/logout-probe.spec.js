// The logout probe (VirtualUser.logoutProbe, then logoutOf) against apps that make it easy to be wrong, each case
// found by a review (2026-12-04). A balancer in this process stands in for nginx's cookie affinity: a valid
// kura_route cookie picks the replica, none picks one in turn and sets the cookie (as @pin does), and
// X-Kura-Upstream names the replica that answered. Each "replica" is a handler of its own.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from '@jest/globals';
import { checkScenario } from './scenario.js';
import { Recorder, VirtualUser } from './users.js';
import { logoutOf } from './verdict.js';

const ROUTES = ['127.0.0.11:1', '127.0.0.12:1', '127.0.0.13:1'];
const cookiesOf = (req) => Object.fromEntries((req.headers.cookie ?? '').split(/;\s*/).filter(Boolean).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
const body = async (req) => JSON.parse((await req.toArray()).join('') || '{}');
const id = () => randomBytes(8).toString('hex');

let server;
afterEach(() => server && new Promise((resolve) => server.close(resolve)));

/** `replicas[i](req, cookies) -> { status, headers, body }`; returns the balancer's base URL. */
async function balancer(replicas) {
  let next = 0;
  server = createServer(async (req, res) => {
    const cookies = cookiesOf(req);
    let index = ROUTES.indexOf(cookies.kura_route);
    const headers = {};
    const setCookies = [];
    if (index === -1) {
      index = next++ % replicas.length;
      setCookies.push(`kura_route=${ROUTES[index]}; Path=/; HttpOnly`);
    }
    const answer = await replicas[index](req, cookies);
    setCookies.push(...(answer.cookies ?? []));
    if (setCookies.length) headers['set-cookie'] = setCookies;
    res.writeHead(answer.status, { 'content-type': 'application/json', 'x-kura-upstream': ROUTES[index], ...headers });
    res.end(JSON.stringify(answer.body ?? {}));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${server.address().port}`;
}

async function probe(scenario, base) {
  const loaded = checkScenario({ start: 'x', ...scenario });
  const user = new VirtualUser({ id: 1, name: 'logout-abc', scenario: loaded, base, recorder: new Recorder('logout probe'), replicaOf: (h) => ROUTES.indexOf(h) + 1 || null, thinkMs: 0 });
  try {
    return logoutOf(await user.logoutProbe(ROUTES));
  } finally {
    user.close();
  }
}

describe('the logout probe, where it was once wrong', () => {
  it('finds a signed token the page sends from a cookie in a header ({cookie:NAME}) still valid after the logout: NOT effective', async () => {
    // A JWT app (as fixture jwt-cookie) whose SPA reads the non-HttpOnly cookie and sends it as Authorization.
    // The logout only clears the cookie: the token from before the logout stays valid on every replica.
    const app = async (req) => {
      if (req.url === '/login') return { status: 200, body: { ok: true }, cookies: [`token=signed.${(await body(req)).user}; Path=/`] };
      if (req.url === '/logout') return { status: 204, cookies: ['token=; Path=/; Max-Age=0'] };
      const token = /^Bearer signed\.(.+)$/.exec(req.headers.authorization ?? '')?.[1];
      return token ? { status: 200, body: { user: token } } : { status: 401, body: { error: 'no token' } };
    };
    const base = await balancer([app, app, app]);
    const result = await probe(
      { login: { method: 'POST', path: '/login', json: { user: '{user}' } }, check: { path: '/me', headers: { Authorization: 'Bearer {cookie:token}' }, contains: '{user}' }, logout: { method: 'POST', path: '/logout' } },
      base,
    );
    expect(result.effective).toBe(false); // the token from before the logout still passes everywhere
  });

  it('sends the logout with its own cookie, whatever the other replicas answered (an anonymous cookie of their own): effective', async () => {
    // Sessions in each replica's memory; a request with no session here gets a new empty one (Set-Cookie), as
    // express-session does with saveUninitialized: true. The logout destroys the session it is sent.
    const replica = () => {
      const sessions = new Map();
      return async (req, cookies) => {
        let session = sessions.get(cookies.sid);
        const fresh = () => {
          const sid = id();
          sessions.set(sid, {});
          return [`sid=${sid}; Path=/; HttpOnly`, sid];
        };
        if (req.url === '/login') {
          const [cookie, sid] = fresh();
          sessions.get(sid).user = (await body(req)).user;
          return { status: 200, body: { ok: true }, cookies: [cookie] };
        }
        if (req.url === '/logout') {
          sessions.delete(cookies.sid);
          return { status: 204, cookies: ['sid=; Path=/; Max-Age=0'] };
        }
        if (!session) {
          const [cookie] = fresh();
          return { status: 401, body: { error: 'no session' }, cookies: [cookie] };
        }
        return session.user ? { status: 200, body: { user: session.user } } : { status: 401, body: { error: 'anonymous' } };
      };
    };
    const base = await balancer([replica(), replica(), replica()]);
    const result = await probe({ login: { method: 'POST', path: '/login', json: { user: '{user}' } }, check: { path: '/me', contains: '{user}' }, logout: { method: 'POST', path: '/logout' } }, base);
    // This app's logout does end the session: the cookie from before it passes nowhere once a browser logs out.
    expect(result).toMatchObject({ effective: true });
  });

  it('does not judge an app that replaces its session id at every request (it leaves no copy to send again)', async () => {
    // Sessions in a store every replica shares; each authenticated answer replaces the id (the old one deleted).
    // The logout only clears the cookie: the id the browser held just before the logout stays valid everywhere.
    const store = new Map();
    const app = async (req, cookies) => {
      if (req.url === '/login') {
        const sid = id();
        store.set(sid, (await body(req)).user);
        return { status: 200, body: { ok: true }, cookies: [`sid=${sid}; Path=/`] };
      }
      if (req.url === '/logout') return { status: 204, cookies: ['sid=; Path=/; Max-Age=0'] };
      const user = store.get(cookies.sid);
      if (!user) return { status: 401, body: { error: 'no session' } };
      store.delete(cookies.sid);
      const sid = id();
      store.set(sid, user);
      return { status: 200, body: { user }, cookies: [`sid=${sid}; Path=/`] };
    };
    const base = await balancer([app, app, app]);
    const result = await probe({ login: { method: 'POST', path: '/login', json: { user: '{user}' } }, check: { path: '/me', contains: '{user}' }, logout: { method: 'POST', path: '/logout' } }, base);
    expect(result).toMatchObject({ effective: null, line: expect.stringContaining('not judged: the check no longer passed with the probe\'s own cookies and token just before the logout') });
  });

  it('does not take an answer 5xx after the logout (sent again, twice) for "logged out"', async () => {
    // A signed-cookie app whose logout only clears the cookie; its replicas answer 503 for a moment after it.
    let busyUntil = 0;
    const app = async (req, cookies) => {
      if (req.url === '/login') return { status: 200, body: { ok: true }, cookies: [`token=signed.${(await body(req)).user}; Path=/`] };
      if (req.url === '/logout') return ((busyUntil = Date.now() + 2000), { status: 204, cookies: ['token=; Path=/; Max-Age=0'] });
      if (Date.now() < busyUntil) return { status: 503, body: { error: 'busy' } };
      const user = /^signed\.(.+)$/.exec(cookies.token ?? '')?.[1];
      return user ? { status: 200, body: { user } } : { status: 401, body: { error: 'no token' } };
    };
    const base = await balancer([app, app, app]);
    const result = await probe({ login: { method: 'POST', path: '/login', json: { user: '{user}' } }, check: { path: '/me', contains: '{user}' }, logout: { method: 'POST', path: '/logout' } }, base);
    expect(result).toMatchObject({ effective: null, line: expect.stringMatching(/^not judged: after the logout no replica answered the check with a status below 500 \(replica \d answered 503/) });
  });
});

describe('the logout probe, where it held', () => {
  const scenario = { login: { method: 'POST', path: '/login', json: { user: '{user}' } }, check: { path: '/me', contains: '{user}' }, logout: { method: 'POST', path: '/logout' } };

  it('catches a shared store with per-replica caches (the before round warms every cache)', async () => {
    const store = new Map();
    const replica = () => {
      const cache = new Map();
      return async (req, cookies) => {
        if (req.url === '/login') {
          const sid = id();
          store.set(sid, (await body(req)).user);
          return { status: 200, cookies: [`sid=${sid}; Path=/`] };
        }
        if (req.url === '/logout') return (store.delete(cookies.sid), cache.delete(cookies.sid), { status: 204, cookies: ['sid=; Path=/; Max-Age=0'] });
        const user = cache.get(cookies.sid) ?? store.get(cookies.sid);
        if (user) cache.set(cookies.sid, user);
        return user ? { status: 200, body: { user } } : { status: 401 };
      };
    };
    const base = await balancer([replica(), replica(), replica()]);
    expect(await probe(scenario, base)).toMatchObject({ effective: false, stillIn: expect.any(Array) });
  });

  it('bearer tokens revoked in a shared store: effective; not revoked: NOT effective', async () => {
    for (const revokes of [true, false]) {
      const tokens = new Map();
      const app = async (req) => {
        if (req.url === '/login') {
          const token = id();
          tokens.set(token, (await body(req)).user);
          return { status: 200, body: { session: { token } } };
        }
        const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        if (req.url === '/logout') return (revokes && tokens.delete(token), { status: 204 });
        return tokens.has(token) ? { status: 200, body: { user: tokens.get(token) } } : { status: 401 };
      };
      const base = await balancer([app, app, app]);
      const result = await probe({ ...scenario, login: { ...scenario.login, token: 'session.token' } }, base);
      expect(result.effective).toBe(revokes ? true : false);
      await new Promise((resolve) => server.close(resolve));
      server = undefined;
    }
  });
});

describe('what the logout line says', () => {
  it('no doubled space in the NOT-effective line when only some replicas still pass', () => {
    const answer = (replica, passed) => ({ replica, status: passed ? 200 : 401, passed, text: '' });
    const line = logoutOf({ loggedIn: true, current: answer(1, true), logout: { request: 'POST /logout', replica: 1, status: 204, passed: true, text: '' }, replicas: [true, false].map((after, i) => ({ before: answer(i + 1, true), after: answer(i + 1, after) })) }).line;
    expect(line).not.toContain('  ');
  });

  it('--report: the verdict line points at the logout line, wherever it stands', async () => {
    const { toMarkdown } = await import('./report.js');
    const md = toMarkdown({ app: 'a', verdict: 'stateless', meaning: 'm.', exitCode: 1, replicas: 3, users: 4, seconds: 1, modes: {}, evidence: [], refusedCookies: [], events: [], logout: { effective: false, line: 'NOT effective: …' } });
    expect(md).toContain('But a logout does not end the session (see the logout line): exit 1.');
    expect(md).toContain('**Logout:** NOT effective: ….');
  });
});
