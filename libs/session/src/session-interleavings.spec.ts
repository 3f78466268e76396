import fc from 'fast-check';
import { AccountService, InMemoryUserStore, type PasswordHasher, type UserStore } from '@kura/accounts';
import { ManualClock } from '@kura/common';
import { InMemorySessionStore } from './in-memory-session.store.js';
import { resolveSessionSettings } from './session.options.js';
import { SessionService } from './session.service.js';
import { SessionCache } from './session-cache.js';
import type { SessionStore } from './session-store.port.js';
import { sessionIdOf } from './session-token.js';

/**
 * Every pair (and triple, ...) of operations on one user's sessions, under every interleaving of their store
 * calls that fast-check's scheduler explores: each store call takes effect only when the scheduler releases
 * it, and an insert may land a second time later (a retry whose first attempt arrived late). After all has
 * landed, the guarantees of docs/concurrency.md must hold.
 */

type Operation = 'login-old' | 'login-new' | 'logout-all' | 'change-password' | 'logout' | 'revoke-user' | 'reauthenticate' | 'use' | 'delete-account' | 'idle';

const OLD = 'old password';
/** The default idle timeout, and how long before the race the first two sessions were made. */
const IDLE_TIMEOUT_MS = 1800 * 1000;
const BEFORE_RACE_MS = 5000;
const NEW = 'new password';
const EMAIL = 'ada@example.com';

/**
 * Password "hashing" that keeps the password: this test is about ordering, not cryptography. Salted all the same, as
 * PasswordHasher's are: a store takes a write of the hash it already holds for a retry of its own (the same password
 * set twice is two hashes), and an unsalted one hid a password change sent again that ended nothing.
 */
let salts = 0;
/** `<cost>:<salt>:<password>`. The account is registered at the `old` cost: a login or a re-authentication upgrades it. */
const hasherAt = (cost: 'old' | 'plain') =>
  ({
    hash: async (password: string) => `${cost}:${(salts += 1)}:${password}`,
    verify: async (password: string, hash: string) => hash.slice(hash.indexOf(':', hash.indexOf(':') + 1) + 1) === password,
    verifyDecoy: async () => false,
    needsRehash: (hash: string) => hash.startsWith('old:'),
  }) as unknown as PasswordHasher;
const plainHasher = hasherAt('plain');

/** A proxy whose every method takes effect only when the scheduler releases it. */
function scheduled<T extends object>(s: fc.Scheduler, target: T, label: string, ghosts: Promise<unknown>[]): T {
  return new Proxy(target, {
    get(object, name) {
      const value = Reflect.get(object, name, object) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const call = () => (value as (...a: unknown[]) => Promise<unknown>).apply(object, args);
        // A late duplicate of a write, as an SDK retry can deliver one after the first attempt succeeded.
        if (name === 'insert') ghosts.push(s.schedule(Promise.resolve(), `${label}.insert (late duplicate)`).then(call).catch(() => undefined));
        return s.schedule(Promise.resolve(), `${label}.${String(name)}`).then(call);
      };
    },
  });
}

interface Issued {
  token: string;
  credentialVersion: number;
  startedAt: number;
  answeredAt: number;
}

async function play(s: fc.Scheduler, operations: Operation[], maxSessionsPerUser?: number) {
  const clock = new ManualClock();
  const rawSessions = new InMemorySessionStore();
  const rawUsers = new InMemoryUserStore();
  const ghosts: Promise<unknown>[] = [];
  const settings = resolveSessionSettings({
    store: scheduled<SessionStore>(s, rawSessions, 'sessions', ghosts),
    dataStore: rawSessions,
    clock,
    refreshIntervalSeconds: 1,
    ...(maxSessionsPerUser ? { maxSessionsPerUser } : {}),
  });
  const sessions = new SessionService(settings, new SessionCache(settings));
  const accounts = new AccountService(scheduled<UserStore>(s, rawUsers, 'users', ghosts), plainHasher, clock);

  // Before the race: an account and two sessions, answered long ago.
  const unscheduledSettings = resolveSessionSettings({ store: rawSessions, clock });
  const setup = new SessionService(unscheduledSettings, new SessionCache(unscheduledSettings));
  const user = await new AccountService(rawUsers, hasherAt('old'), clock).register({ email: EMAIL, password: OLD });
  const before = [await setup.create(user), await setup.create(user)];
  clock.advance(BEFORE_RACE_MS); // past the refresh interval: a use extends the session (a write that races too)

  let tick = 0;
  let idled = false;
  const issued: Issued[] = before.map(({ token }) => ({ token, credentialVersion: 0, startedAt: 0, answeredAt: 0 }));
  const revocations: { startedAt: number; answeredAt: number; keeps?: string }[] = [];
  const changes: { version: number; answeredAt: number }[] = [];
  const loggedOut: { token: string; answeredAt: number }[] = [];
  const deletions: { answeredAt: number }[] = [];

  const run = async (operation: Operation, index: number) => {
    const startedAt = (tick += 1);
    const victim = before[index % 2]!;
    switch (operation) {
      case 'login-old':
      case 'login-new': {
        const verified = await accounts.verifyCredentials(EMAIL, operation === 'login-old' ? OLD : NEW);
        const { token } = await sessions.create(verified, {}, { credentialVersion: verified.credentialVersion });
        issued.push({ token, credentialVersion: verified.credentialVersion, startedAt, answeredAt: (tick += 1) });
        return;
      }
      case 'logout-all':
      case 'revoke-user':
        await sessions.revokeAllOfUser(user.id);
        revocations.push({ startedAt, answeredAt: (tick += 1) });
        return;
      case 'change-password': {
        const version = await accounts.changePassword(EMAIL, OLD, NEW);
        const { token } = await sessions.create(user, {}, { credentialVersion: version });
        const answeredAt = (tick += 1);
        issued.push({ token, credentialVersion: version, startedAt, answeredAt });
        changes.push({ version, answeredAt });
        revocations.push({ startedAt, answeredAt, keeps: token });
        return;
      }
      case 'logout':
        await sessions.revoke(victim.token);
        loggedOut.push({ token: victim.token, answeredAt: (tick += 1) });
        return;
      case 'reauthenticate': {
        const verified = await accounts.confirmPassword(EMAIL, OLD);
        const renewed = await sessions.reauthenticated(await sessions.authenticate(victim.token), {}, verified.credentialVersion);
        issued.push({ token: renewed.token, credentialVersion: verified.credentialVersion, startedAt, answeredAt: (tick += 1) });
        loggedOut.push({ token: victim.token, answeredAt: tick });
        return;
      }
      case 'use':
        await sessions.authenticate(victim.token);
        return;
      case 'idle':
        // Time passes mid-race, once: the two sessions made before it are past their idle expiry, unless a use
        // extended them (a use already in flight may still do so); the race's own logins are not (twice would
        // expire them too, which the checks below would take for sessions ended).
        if (!idled) clock.advance(IDLE_TIMEOUT_MS - BEFORE_RACE_MS + 1);
        idled = true;
        return;
      case 'delete-account': {
        // The API's deletion (apps/api's deleteAccount): close the account, end its sessions, remove it.
        const closed = await accounts.closeAccount(EMAIL);
        if (closed) {
          await sessions.closeAll(closed.userId, closed.credentialVersion);
          await accounts.removeAccount(closed);
        }
        const answeredAt = (tick += 1);
        revocations.push({ startedAt, answeredAt });
        deletions.push({ answeredAt });
        return;
      }
    }
  };

  // Refusals (wrong password, stale credentials, a session ended meanwhile) are legitimate outcomes of a race.
  // Each operation starts when the scheduler says, so some begin only after others have answered.
  const started = operations.map((operation, index) =>
    s.schedule(Promise.resolve(), `start ${operation}`).then(() => run(operation, index).catch(() => undefined)),
  );
  await s.waitFor(Promise.all(started));
  await s.waitFor(Promise.all(ghosts));

  const now = clock.now();
  const live = async (token: string) => (await rawSessions.find(sessionIdOf(token), now)) !== undefined;
  const registered = new Set((await rawSessions.registered(user.id)).map((entry) => entry.id));
  const account = await rawUsers.findByEmail(EMAIL);
  const currentVersion = account?.credentialVersion ?? 0;
  const violations: string[] = [];

  for (const session of issued) {
    if (!(await live(session.token))) continue;
    for (const revocation of revocations) {
      if (session.answeredAt < revocation.startedAt && session.token !== revocation.keeps) {
        violations.push(`a session answered at ${session.answeredAt} outlived a revocation started at ${revocation.startedAt}`);
      }
    }
    for (const change of changes) {
      if (session.credentialVersion < change.version) violations.push(`a session on credentials v${session.credentialVersion} outlived the change to v${change.version}`);
    }
    if (session.credentialVersion < currentVersion && changes.length > 0) violations.push('a session on replaced credentials is live');
    if (!registered.has(sessionIdOf(session.token))) violations.push('a live session is missing from its register: no later sweep would find it');
  }
  for (const { token } of loggedOut) if (await live(token)) violations.push('a session was still live after its logout answered');
  // A change that answered is never undone: no login's upgrade of the old password's hash lands over it.
  if (changes.length > 0 && deletions.length === 0 && !(account && (await plainHasher.verify(NEW, account.passwordHash)))) {
    violations.push(`the password changed at ${changes[0]!.answeredAt} is not the one in force: ${account?.passwordHash}`);
  }
  // A deletion that answered leaves nothing: no account, and no session, whenever its login answered.
  if (deletions.length > 0) {
    if (account) violations.push('the account is still there after its deletion answered');
    for (const session of issued) if (await live(session.token)) violations.push(`a session answered at ${session.answeredAt} is live after the account's deletion`);
  }
  const lastAnswer = Math.max(0, ...revocations.map((revocation) => revocation.answeredAt));
  if (maxSessionsPerUser !== undefined) {
    // Within the limit once everything answered (G7), and never over-eager: the limit never ends the session
    // registered last, so where nothing else ended sessions of the race, one of them is live. (Which one is not
    // for the test to say: with the clock standing still, the least recently used is decided by the ids.)
    const stillLive = (await Promise.all(issued.map(({ token }) => live(token)))).filter(Boolean).length;
    if (stillLive > maxSessionsPerUser) violations.push(`${stillLive} sessions live, over the limit of ${maxSessionsPerUser}`);
    const raced = issued.filter((session) => session.startedAt > 0);
    if (revocations.length === 0 && raced.length > 0 && !(await Promise.all(raced.map(({ token }) => live(token)))).some(Boolean)) {
      violations.push('the limit ended every session the race issued, the last registered included');
    }
    return violations;
  }
  // Nothing over-eager: a session whose login began after every revocation answered, on current credentials, stays.
  for (const session of issued) {
    const endedByLogout = loggedOut.some(({ token }) => token === session.token);
    if (session.startedAt > lastAnswer && session.credentialVersion === currentVersion && !endedByLogout && !(await live(session.token))) {
      violations.push(`a session whose login began at ${session.startedAt}, after every revocation answered, was lost`);
    }
  }
  return violations;
}

// The property below found it (seed -1030171906, path "377", on [change-password, revoke-user, reauthenticate,
// change-password]): a change whose current password was no longer in force, the new one being so (a change sent
// again, or another to the same password), issued its session on the version in force and ended nothing, so that
// a session answered before it began, on the new password, outlived its answer ("every other session ends").
describe('a password change sent again after the first answered', () => {
  it('ends every other session, those issued on the new password since included', async () => {
    const clock = new ManualClock();
    const settings = resolveSessionSettings({ store: new InMemorySessionStore(), clock });
    const sessions = new SessionService(settings, new SessionCache(settings));
    const accounts = new AccountService(new InMemoryUserStore(), plainHasher, clock);
    const user = await accounts.register({ email: EMAIL, password: OLD });
    const before = await sessions.create(user);
    const first = await sessions.create(user, {}, { credentialVersion: await accounts.changePassword(EMAIL, OLD, NEW) });
    const elsewhere = await accounts.verifyCredentials(EMAIL, NEW);
    const loggedIn = await sessions.create(elsewhere, {}, { credentialVersion: elsewhere.credentialVersion });

    const again = await sessions.create(user, {}, { credentialVersion: await accounts.changePassword(EMAIL, OLD, NEW) });

    const live = async ({ token }: { token: string }) => (await settings.store.find(sessionIdOf(token), clock.now())) !== undefined;
    expect(await Promise.all([before, first, loggedIn, again].map(live))).toEqual([false, false, false, true]);
    await expect(accounts.verifyCredentials(EMAIL, NEW)).resolves.toMatchObject({ credentialVersion: 2 });
  });
});

describe('session operations under every interleaving of their store calls', () => {
  const operation = fc.constantFrom<Operation>(
    'login-old',
    'login-new',
    'logout-all',
    'change-password',
    'logout',
    'revoke-user',
    'reauthenticate',
    'use',
    'delete-account',
  );

  it('never lets a session outlive a revocation that began after its login answered, a password change or the account, and loses none', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(operation, { minLength: 2, maxLength: 4 }), async (s, operations) => {
        const violations = await play(s, operations);
        if (violations.length > 0) throw new Error(`${violations.join('\n')}\nschedule:\n${s.report().map((task) => task.label).join('\n')}`);
      }),
      { numRuns: Number(process.env.INTERLEAVING_RUNS ?? 1000) },
    );
  }, 120_000);

  // With a limit of 2 sessions per user (two exist before the race), logins mostly, among everything else, and
  // time passing: a login at the limit that read a session just past its idle expiry while a use extended it left
  // it usable, over the limit and out of its register (found in review; the spec had never let time pass).
  const mostlyLogins = fc.oneof(
    { arbitrary: fc.constantFrom<Operation>('login-old', 'login-new'), weight: 3 },
    { arbitrary: fc.constantFrom<Operation>('use', 'idle'), weight: 1 },
    { arbitrary: operation, weight: 1 },
  );
  it('keeps every guarantee within a limit on sessions per user, and never more sessions than the limit once all answered', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(mostlyLogins, { minLength: 2, maxLength: 4 }), async (s, operations) => {
        const violations = await play(s, operations, 2);
        if (violations.length > 0) throw new Error(`${violations.join('\n')}\nschedule:\n${s.report().map((task) => task.label).join('\n')}`);
      }),
      { numRuns: Number(process.env.INTERLEAVING_RUNS ?? 1000) },
    );
  }, 120_000);
});
