import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KuraStore, StoreUnavailableError } from '@kura/connect';
import { RedisStore } from 'connect-redis';
import express, { type NextFunction, type Request, type Response } from 'express';
import session, { type SessionOptions } from 'express-session';
import { SECRET } from './support/express-session-app.js';
import { HttpClient, type TestResponse } from './support/http-client.js';
import { previousAndKuraOnRedis } from './support/previous-store-fixture.js';
import { redisRunsPossible } from './support/redis-server.js';

/**
 * The rollout `migrateFrom: { store, move: false }` is for, played whole behind round robin: an app on connect-redis
 * (three "old" replicas) becomes, one replica at a time, three followers (KuraStore that reads itself first and
 * the previous store for what it does not hold, never moving anything, and writes logins and their changes back
 * there), then, one at a time again, three movers (`migrateFrom: { store }`). Real express-session apps, connect-redis
 * on one redis-server and KuraStore on another, users as cookie jars whose every request goes to the next replica.
 *
 * At every phase, with each replacement made while the users' requests go on (the replica taken out once its
 * requests are answered, as a rolling update drains it): no answer "logged out" to a logged-in user on any replica,
 * every acknowledged cart item read back on every replica, a login made on each replica known to every replica, a
 * logout made on each replica effective on every replica from then on (re-checked at every later phase, on the
 * replicas of that phase), and no user ever served another's session. Two tabs of one user at once, a change on one
 * replica and a read on another (on a mover, the read that moves the session), keep the change, as connect-redis
 * alone does (its read only touches). In the follower/mover phases, "log out everywhere" on a follower ends the
 * user's sessions on every replica, one made by an old replica in phase 1 and never used since included, while the
 * user's logins after it stay. Last, an app with a sliding idle timeout behind followers alone: their touch reaches
 * the previous store, or an active user is logged out.
 *
 * Without `move: false` (movers from the first replacement on), the same traffic is answered 401 on the old
 * replicas for every user a mover has moved: test/connect-migrate and the README's "Moving from another store".
 */
type Kind = 'old' | 'follower' | 'mover';
const PHASES: readonly (readonly Kind[])[] = [
  ['old', 'old', 'old'],
  ['old', 'old', 'follower'],
  ['old', 'follower', 'follower'],
  ['follower', 'follower', 'follower'],
  ['follower', 'follower', 'mover'],
  ['follower', 'mover', 'mover'],
  ['mover', 'mover', 'mover'],
];
/** Users logged in on the old replicas before the rollout begins. */
const USERS = 20;
/** Cart items each user adds per phase, each read back on the next replica. */
const ITEMS_PER_PHASE = 3;
/** Users per ordered pair of replicas with two tabs at once: a change on one, a read on the other. */
const TWO_TABS_PER_PAIR = 3;
/** The phases (0-based) in which "log out everywhere" is made on a follower: those of step 2 that have one. */
const LOG_OUT_EVERYWHERE_PHASES = [3, 4, 5];

const name = (kinds: readonly Kind[]) => kinds.join(', ');

interface Replica {
  readonly kind: Kind;
  readonly url: string;
  /** Requests sent to it and not answered yet (the rollout takes it out once there are none). */
  inflight: number;
  close(): Promise<void>;
}

/** A browser: its cookie jar, and the cart items the app acknowledged to it. */
interface User {
  readonly name: string;
  readonly client: HttpClient;
  readonly cart: string[];
  /** Its next request goes to this replica (mod 3), then the next one. */
  turn: number;
  /** Its cookie as it logged in (for a look after its logout or a "log out everywhere"). */
  cookie: string;
}

/** What a phase counted. */
interface Figures {
  requests: number;
  /** Answers 401 (no session) to a user logged in. */
  loggedOut: number;
  /** Cart items acknowledged and then missing from a read. */
  lost: number;
  /** Answers naming another user, or holding another user's items. */
  foreign: number;
  /** Answers neither 200 nor 401 where a 200 was expected (a 5xx, say). */
  failed: number;
  /** Answers 200 to the cookie of a session ended before (a logout, or "log out everywhere"). */
  revived: number;
}

/**
 * The app: express-session as its README has it, a cart in the session. A request of a user not logged in is a 401
 * (the app's "logged out"), whatever it asks; a change is acknowledged (200) once saved.
 */
function cartApp(store: object, kura: KuraStore | undefined, settings: Partial<SessionOptions> = {}) {
  const app = express();
  app.use(session({ store, secret: SECRET, name: 'sid', resave: false, saveUninitialized: false, cookie: { maxAge: 30 * 60_000, httpOnly: true, sameSite: 'lax', secure: false }, ...settings }));
  const signedIn = (handler: (user: string, req: Request, res: Response, next: NextFunction) => void) => (req: Request, res: Response, next: NextFunction) => {
    const user = (req.session.user as { name?: string } | undefined)?.name;
    if (!user) return void res.status(401).json({ status: 401 });
    handler(user, req, res, next);
  };
  app.post('/login', (req: Request, res: Response, next: NextFunction) =>
    req.session.regenerate((error?: unknown) => {
      if (error) return next(error);
      req.session.user = { name: req.query.user };
      req.session.cart = [];
      req.session.save((error?: unknown) => (error ? next(error) : res.json({ user: req.session.user })));
    }),
  );
  app.get('/cart', signedIn((user, req, res) => res.json({ user, cart: req.session.cart })));
  app.post(
    '/cart',
    signedIn((user, req, res, next) => {
      req.session.cart = [...((req.session.cart as string[] | undefined) ?? []), req.query.item];
      req.session.save((error?: unknown) => (error ? next(error) : res.json({ user, added: req.query.item })));
    }),
  );
  app.post('/logout', (req: Request, res: Response, next: NextFunction) => req.session.destroy((error?: unknown) => (error ? next(error) : res.status(204).end())));
  app.post(
    '/logout-everywhere',
    signedIn((user, _req, res, next) => {
      if (!kura) return void res.status(404).end();
      kura.destroySessionsOf(user).then((ended) => res.json({ ended }), next);
    }),
  );
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = error instanceof StoreUnavailableError ? 503 : 500;
    res.status(status).json({ status, error: String((error as Error)?.message ?? error) });
  });
  return app;
}

(redisRunsPossible('the two-step rollout from connect-redis through followers') ? describe : describe.skip)('from connect-redis to KuraStore in two rolling updates: followers (move: false), then movers', () => {
  // connect-redis on one redis-server, KuraStore on another.
  const redis = previousAndKuraOnRedis();
  /** The replicas behind the load balancer, by slot; a replacement takes one slot. */
  const slots: Replica[] = [];
  const users: User[] = [];
  /** Cookies of sessions logged out (a logout, or "log out everywhere"): no replica may serve them again. */
  const ended: { who: string; cookie: string }[] = [];
  const totals: Figures = { requests: 0, loggedOut: 0, lost: 0, foreign: 0, failed: 0, revived: 0 };
  let figures: Figures = { ...totals };
  let problems: string[] = [];
  let logins = 0;

  async function start(kind: Kind, settings?: Partial<SessionOptions>): Promise<Replica> {
    const previous = new RedisStore({ client: redis.previousClient });
    const userOf = (stored: Record<string, unknown>) => (stored.user as { name?: string } | undefined)?.name;
    const kura =
      kind === 'old'
        ? undefined
        : new KuraStore({ adapter: redis.adapter, userOf, migrateFrom: kind === 'follower' ? { store: previous, move: false } : { store: previous } });
    const server = await new Promise<Server>((resolve) => {
      const listening = cartApp(kura ?? previous, kura, settings).listen(0, '127.0.0.61', () => resolve(listening));
    });
    return {
      kind,
      url: `http://127.0.0.61:${(server.address() as AddressInfo).port}`,
      inflight: 0,
      close: async () => {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        kura?.close();
      },
    };
  }

  beforeAll(async () => {
    slots.push(...(await Promise.all(PHASES[0]!.map((kind) => start(kind)))));
  });
  afterAll(async () => {
    await Promise.all(slots.map((replica) => replica.close()));
    console.log(
      `two-step rollout, all phases: ${totals.requests} requests; ${totals.loggedOut} answered 401 to a logged-in user, ${totals.lost} acknowledged cart items missing from a read, ${totals.foreign} answers with another user's session, ${totals.revived} served an ended session, ${totals.failed} failed; ${logins} logins, ${ended.length} sessions ended`,
    );
  });

  /** One request of `user` to the replica in `slot` (by default the next one in its turn), counted. */
  async function send(user: User, method: 'GET' | 'POST', path: string, slot?: number, cookie?: string): Promise<{ answer: TestResponse; replica: Replica }> {
    const replica = slots[slot ?? user.turn++ % slots.length]!;
    replica.inflight += 1;
    figures.requests += 1;
    try {
      const options = cookie === undefined ? {} : { cookies: false, headers: { cookie } };
      return { answer: await user.client.request(method, `${replica.url}${path}`, options), replica };
    } finally {
      replica.inflight -= 1;
    }
  }

  /** Checks an answer to a logged-in `user` (200, its own session, its whole cart), counting what is wrong. */
  function expectServed(user: User, what: string, { answer, replica }: { answer: TestResponse; replica: Replica }): boolean {
    const where = `${what} of ${user.name} on the ${replica.kind} replica ${replica.url}`;
    if (answer.status === 401) {
      figures.loggedOut += 1;
      problems.push(`${where}: 401 (logged out)`);
      return false;
    }
    if (answer.status !== 200) {
      figures.failed += 1;
      problems.push(`${where}: ${answer.status} ${answer.text.slice(0, 200)}`);
      return false;
    }
    const body = answer.body as { user?: string; cart?: string[] };
    const strangers = (body.cart ?? []).filter((item) => !item.startsWith(`${user.name}/`));
    if (body.user !== user.name || strangers.length > 0) {
      figures.foreign += 1;
      problems.push(`${where}: served as ${body.user}, cart ${JSON.stringify(body.cart)}`);
      return false;
    }
    if (body.cart !== undefined) {
      const missing = user.cart.filter((item) => !body.cart!.includes(item));
      figures.lost += missing.length;
      if (missing.length > 0) problems.push(`${where}: acknowledged items missing: ${missing.join(' ')} (read ${JSON.stringify(body.cart)})`);
    }
    return true;
  }

  async function logIn(userName: string, slot: number): Promise<User> {
    const client = new HttpClient(slots[slot]!.url);
    const user: User = { name: userName, client, cart: [], turn: slot + 1, cookie: '' };
    logins += 1;
    const login = await send(user, 'POST', `/login?user=${encodeURIComponent(userName)}`, slot);
    if (login.answer.status !== 200) throw new Error(`login of ${userName} on the ${login.replica.kind} replica: ${login.answer.status} ${login.answer.text}`);
    user.cookie = await client.jar.getCookieString(login.replica.url);
    return user;
  }

  /** Every replica of the phase serves `user`, with its whole cart. */
  async function expectEverywhere(user: User, what: string): Promise<void> {
    for (let slot = 0; slot < slots.length; slot += 1) expectServed(user, what, await send(user, 'GET', '/cart', slot));
  }

  /** No replica of the phase serves the session of `cookie`. */
  async function expectEndedEverywhere(who: string, cookie: string, what: string): Promise<void> {
    const probe: User = { name: who, client: new HttpClient(slots[0]!.url), cart: [], turn: 0, cookie };
    for (let slot = 0; slot < slots.length; slot += 1) {
      const { answer, replica } = await send(probe, 'GET', '/cart', slot, cookie);
      if (answer.status === 401) continue;
      if (answer.status === 200) figures[(answer.body as { user?: string }).user === who ? 'revived' : 'foreign'] += 1;
      else figures.failed += 1;
      problems.push(`${what} (${who}): the ${replica.kind} replica ${replica.url} answers ${answer.status} ${answer.text.slice(0, 200)}`);
    }
  }

  /** The users' traffic of one phase: each adds items one request at a time, reading the cart back on the next replica. */
  async function traffic(phase: number): Promise<void> {
    await Promise.all(
      users.map(async (user) => {
        for (let n = 0; n < ITEMS_PER_PHASE; n += 1) {
          const item = `${user.name}/${phase + 1}.${n}`;
          const added = await send(user, 'POST', `/cart?item=${encodeURIComponent(item)}`);
          if (expectServed(user, `adding ${item}`, added)) user.cart.push(item);
          expectServed(user, `reading the cart after ${item}`, await send(user, 'GET', '/cart'));
        }
      }),
    );
  }

  /** Replaces the replica in `slot` by one of `kind`, while the traffic goes on: new requests go to it, the old one is closed once it answered its own. */
  async function replace(slot: number, kind: Kind, whenSent: () => boolean): Promise<void> {
    while (!whenSent()) await new Promise((resolve) => setTimeout(resolve, 2));
    const next = await start(kind);
    const before = slots[slot]!;
    slots[slot] = next;
    while (before.inflight > 0) await new Promise((resolve) => setTimeout(resolve, 2));
    await before.close();
  }

  const sessions: Record<number, { dormant: User; active: User; fromFollower?: User }> = {};

  it.each(PHASES.map((kinds, phase) => [phase + 1, name(kinds), phase] as const))('phase %d (%s): nobody logged out, nothing lost, every login and logout seen by every replica', async (_number, _name, phase) => {
    figures = { requests: 0, loggedOut: 0, lost: 0, foreign: 0, failed: 0, revived: 0 };
    problems = [];
    const kinds = PHASES[phase]!;

    if (phase === 0) {
      for (let index = 0; index < USERS; index += 1) users.push(await logIn(`user${index}`, index % 3));
      // For "log out everywhere" later: a session made by an old replica and never used again, and one in the traffic.
      for (const at of LOG_OUT_EVERYWHERE_PHASES) {
        sessions[at] = { dormant: await logIn(`eve${at + 1}`, at % 3), active: await logIn(`eve${at + 1}`, (at + 1) % 3) };
        users.push(sessions[at]!.active);
      }
      await traffic(phase);
    } else {
      // One replica replaced, halfway through the phase's traffic.
      const slot = kinds.findIndex((kind, index) => kind !== PHASES[phase - 1]![index]);
      const half = figures.requests + users.length * ITEMS_PER_PHASE;
      await Promise.all([traffic(phase), replace(slot, kinds[slot]!, () => figures.requests >= half)]);
    }
    expect(slots.map((replica) => replica.kind)).toEqual(kinds);

    // A login on each replica: every replica knows it.
    const fresh: User[] = [];
    for (let slot = 0; slot < 3; slot += 1) {
      const user = await logIn(`new${phase + 1}-${slot}`, slot);
      await expectEverywhere(user, `a login of phase ${phase + 1} on the ${kinds[slot]} replica, read`);
      fresh.push(user);
    }
    if (phase === 1) {
      // A session a follower made for a user who logs out everywhere later, never used again.
      const follower = kinds.indexOf('follower');
      for (const at of LOG_OUT_EVERYWHERE_PHASES) sessions[at]!.fromFollower = await logIn(`eve${at + 1}`, follower);
    }

    // Two tabs of a user just logged in: a change on one replica at the same moment as a read on another (a first
    // read, on a mover: it moves the session). Whatever the replicas, the change is kept.
    const tabs: Promise<void>[] = [];
    for (let change = 0; change < 3; change += 1) {
      for (let read = 0; read < 3; read += 1) {
        if (read === change) continue;
        for (let copy = 0; copy < TWO_TABS_PER_PAIR; copy += 1) {
          const user = await logIn(`tabs${phase + 1}-${change}${read}-${copy}`, change);
          const item = `${user.name}/${phase + 1}.tab`;
          tabs.push(
            Promise.all([send(user, 'POST', `/cart?item=${encodeURIComponent(item)}`, change), send(user, 'GET', '/cart', read)]).then(async ([added, seen]) => {
              const what = `two tabs at once (a change on the ${kinds[change]} replica, a read on the ${kinds[read]} one)`;
              expectServed(user, `${what}: the read`, seen); // with the item or without it
              if (expectServed(user, `${what}: adding ${item}`, added)) user.cart.push(item);
              await expectEverywhere(user, `${what}: read back`);
            }),
          );
        }
      }
    }
    await Promise.all(tabs);

    // Every user's whole cart, on every replica.
    for (const user of users) await expectEverywhere(user, `phase ${phase + 1}'s read-back`);

    // A logout on each replica: a user from before the rollout, one who logged in on the phase before, one of this phase.
    const previousFresh = users.filter((user) => user.name.startsWith(`new${phase}-`));
    const leaving = [users.find((user) => user.name.startsWith('user'))!, previousFresh[0] ?? users.filter((user) => user.name.startsWith('user'))[1]!, fresh[0]!];
    for (let slot = 0; slot < 3; slot += 1) {
      const user = leaving[slot]!;
      const { answer, replica } = await send(user, 'POST', '/logout', slot);
      if (answer.status !== 204) problems.push(`logout of ${user.name} on the ${replica.kind} replica: ${answer.status} ${answer.text}`);
      ended.push({ who: user.name, cookie: user.cookie });
      for (const list of [users, fresh]) if (list.includes(user)) list.splice(list.indexOf(user), 1);
    }
    users.push(...fresh);

    // "Log out everywhere" on a follower: the user's sessions end on every replica, the one an old replica made in
    // phase 1 and nothing touched since included; the logins after it (one on each replica) stay.
    if (LOG_OUT_EVERYWHERE_PHASES.includes(phase)) {
      const { dormant, active, fromFollower } = sessions[phase]!;
      const follower = kinds.indexOf('follower');
      const { answer } = await send(active, 'POST', '/logout-everywhere', follower);
      if (answer.status !== 200) problems.push(`log out everywhere of ${active.name} on the follower: ${answer.status} ${answer.text}`);
      users.splice(users.indexOf(active), 1);
      for (const [what, user] of [
        ['made by an old replica in phase 1, never used since', dormant],
        ['in the traffic until then', active],
        ['made by a follower in phase 2, never used since', fromFollower!],
      ] as const) {
        ended.push({ who: user.name, cookie: user.cookie });
        await expectEndedEverywhere(user.name, user.cookie, `after "log out everywhere" on a follower in phase ${phase + 1}, a session ${what}`);
      }
      for (let slot = 0; slot < 3; slot += 1) {
        const after = await logIn(active.name, slot);
        await expectEverywhere(after, `a login after "log out everywhere", on the ${kinds[slot]} replica`);
        users.push(after);
      }
    }

    // Every session ended so far, in this phase or before, stays ended on every replica of this phase.
    for (const { who, cookie } of ended) await expectEndedEverywhere(who, cookie, `a session ended by phase ${phase + 1}`);

    for (const key of Object.keys(totals) as (keyof Figures)[]) totals[key] += figures[key];
    console.log(
      `phase ${phase + 1} (${name(kinds)}): ${figures.requests} requests of ${users.length} users; ${figures.loggedOut} answered 401 to a logged-in user, ${figures.lost} acknowledged cart items missing from a read, ${figures.foreign} answers with another user's session, ${figures.revived} served an ended session, ${figures.failed} failed`,
    );
    expect(problems.slice(0, 20)).toEqual([]);
    expect(figures).toMatchObject({ loggedOut: 0, lost: 0, foreign: 0, revived: 0, failed: 0 });
  });

  /**
   * A sliding idle timeout (`rolling: true`): express-session keeps an active user's unchanged session alive with
   * `store.touch`. Behind followers alone (phase 4), a session they serve from the previous store lives there only
   * as long as that store's expiry, which only its touch moves.
   */
  it('an active user of an app with a sliding idle timeout (2 s; a request every 0.5 s for 3.5 s) on followers alone stays logged in', async () => {
    const sliding = { rolling: true, cookie: { maxAge: 2000, httpOnly: true, sameSite: 'lax' as const, secure: false } };
    const old = await start('old', sliding);
    const followers = await Promise.all([start('follower', sliding), start('follower', sliding)]);
    try {
      const user = new HttpClient(old.url);
      expect((await user.post(`${old.url}/login?user=ada`)).status).toBe(200);
      const statuses: number[] = [];
      for (let turn = 0; turn < 7; turn += 1) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        statuses.push((await user.get(`${followers[turn % 2]!.url}/cart`)).status);
      }
      expect(statuses).toEqual(Array(7).fill(200));
    } finally {
      await Promise.all([old, ...followers].map((replica) => replica.close()));
    }
  });
});
