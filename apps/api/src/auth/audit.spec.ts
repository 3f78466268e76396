import { jest } from '@jest/globals';
import { AccountService, InMemoryUserStore, type PasswordHasher } from '@kura/accounts';
import { ManualClock, StoreUnavailableError } from '@kura/common';
import { InMemorySessionStore, resolveSessionSettings, SessionCache, SessionService, SessionTransport } from '@kura/session';
import { AuditLog } from '../observability/audit-log.js';
import { AuthController } from './auth.controller.js';
import { SessionsController } from './sessions.controller.js';

/**
 * The audit log says what happened, no more and no less: the cases where a line must not be written (nothing
 * ended, a right password that lost a race) or must be (a password changed though its new session failed, the
 * session a login replaced). Found in review; test/observability reads the lines of a whole journey.
 */
/** Salted, as PasswordHasher's are: a store takes a write of the hash it holds for a retry of its own write. */
let salts = 0;
const plainHasher = {
  hash: async (password: string) => `plain:${(salts += 1)}:${password}`,
  verify: async (password: string, hash: string) => hash.slice(hash.indexOf(':', 'plain:'.length) + 1) === password,
  verifyDecoy: async () => false,
  needsRehash: () => false,
} as unknown as PasswordHasher;

async function setup() {
  const clock = new ManualClock();
  const settings = resolveSessionSettings({ store: new InMemorySessionStore(), clock });
  const sessions = new SessionService(settings, new SessionCache(settings));
  const accounts = new AccountService(new InMemoryUserStore(), plainHasher, clock);
  const audit = new AuditLog({ enabled: true, json: true });
  const record = jest.spyOn(audit, 'record').mockImplementation(() => undefined);
  const transport = new SessionTransport(settings);
  const controller = new SessionsController(sessions, accounts, transport, audit);
  const auth = new AuthController(accounts, sessions, transport, audit);
  await accounts.register({ email: 'ada@example.com', password: 'old password' });
  const user = await accounts.verifyCredentials('ada@example.com', 'old password');
  const cookies = { set: () => undefined } as never;
  const request = { id: 'req-00000001', ip: '192.0.2.1' };
  const actions = () => record.mock.calls.map(([, action]) => action);
  return { sessions, accounts, controller, auth, record, actions, user, cookies, request, clock };
}

describe('the audit log', () => {
  it('writes no `session.revoked` for a session that had already ended', async () => {
    const { sessions, controller, actions, user, cookies, request } = await setup();
    const current = await sessions.authenticate((await sessions.create(user)).token);
    const other = await sessions.create(user);
    await sessions.revoke(other.token); // logged out on its own device earlier

    await controller.revoke(current, 'cookie', other.record.id, cookies, request);

    expect(actions()).not.toContain('session.revoked');
  });

  it('does not call a right password that lost a race with another change a failed check', async () => {
    const { sessions, controller, actions, user, cookies, request } = await setup();
    const a = await sessions.authenticate((await sessions.create(user)).token);
    const b = await sessions.authenticate((await sessions.create(user)).token);

    const results = await Promise.allSettled([
      controller.changePassword(a, 'bearer', { currentPassword: 'old password', newPassword: 'new password A' } as never, {}, cookies, request),
      controller.changePassword(b, 'bearer', { currentPassword: 'old password', newPassword: 'new password B' } as never, {}, cookies, request),
    ]);

    expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(actions()).toEqual(['password.changed']);
  });

  it('records a wrong current password as a failed check', async () => {
    const { sessions, controller, record, user, cookies, request } = await setup();
    const current = await sessions.authenticate((await sessions.create(user)).token);

    await expect(controller.changePassword(current, 'bearer', { currentPassword: 'wrong', newPassword: 'wrong' } as never, {}, cookies, request)).rejects.toThrow();
    // Two wrong passwords (the new one is checked too, in case a change sent again had landed): counted twice, said so.
    await expect(controller.changePassword(current, 'bearer', { currentPassword: 'wrong', newPassword: 'new password' } as never, {}, cookies, request)).rejects.toThrow();

    expect(record.mock.calls.filter(([, action]) => action === 'password.check-failed').map(([, , details]) => details)).toEqual([{ userId: user.id }, { userId: user.id, count: 2 }]);
  });

  it('records a password change whose new session could not be issued (a store outage): the password did change', async () => {
    const { sessions, accounts, controller, actions, user, cookies, request } = await setup();
    const current = await sessions.authenticate((await sessions.create(user)).token);
    jest.spyOn(sessions, 'create').mockRejectedValueOnce(new StoreUnavailableError('session.register'));

    await expect(controller.changePassword(current, 'bearer', { currentPassword: 'old password', newPassword: 'new password' } as never, {}, cookies, request)).rejects.toThrow(StoreUnavailableError);

    await expect(accounts.verifyCredentials('ada@example.com', 'new password')).resolves.toBeDefined();
    expect(actions()).toEqual(['password.changed']);
  });

  it('records the sessions a logout-all ended before its own ending failed (a store outage), and sent again, only its own', async () => {
    const { sessions, controller, record, user, cookies, request } = await setup();
    const current = await sessions.authenticate((await sessions.create(user)).token);
    await sessions.create(user);
    await sessions.create(user);
    jest.spyOn(sessions, 'revokeOwned').mockRejectedValueOnce(new StoreUnavailableError('session.end'));

    await expect(controller.logoutAll(current, 'bearer', cookies, request)).rejects.toThrow(StoreUnavailableError);
    await controller.logoutAll(current, 'bearer', cookies, request); // sent again, as the 503 asks

    expect(record.mock.calls.map(([, action, details]) => [action, details])).toEqual([
      ['sessions.revoked', { userId: user.id, count: 2, by: current.record.id }],
      ['sessions.revoked', { userId: user.id, count: 1, by: current.record.id }],
    ]);
  });

  it('records the live session a login replaced on the device, even another user\'s, as logged out by the new one', async () => {
    const { sessions, auth, record, accounts, cookies, request } = await setup();
    await accounts.register({ email: 'bob@example.com', password: 'bob password' });
    const bob = await sessions.create(await accounts.verifyCredentials('bob@example.com', 'bob password'));
    const presented = { headers: { authorization: `Bearer ${bob.token}` } } as never;

    const answer = await auth.login({ email: 'ada@example.com', password: 'old password', transport: 'bearer' }, presented, {}, cookies, request);

    expect(record).toHaveBeenCalledWith(request, 'logout', { userId: bob.record.user.id, sessionId: bob.record.id, by: answer.session.id });
  });
});

describe('AuditLog', () => {
  function written(run: () => void): string[] {
    const lines: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      run();
    } finally {
      spy.mockRestore();
    }
    return lines;
  }

  describe('a signed-in session refused an operation on the sessions (access.denied: ASVS 16.3.2)', () => {
    async function stale() {
      const context = await setup();
      const current = await context.sessions.authenticate((await context.sessions.create(context.user)).token);
      const other = await context.sessions.create(context.user);
      context.clock.advance(301_000); // past the 5 minutes in which the password counts as proved
      return { ...context, current, other };
    }

    it.each([
      ['ending another session', 'session.revoke', (c: Awaited<ReturnType<typeof stale>>) => c.controller.revoke(c.current, 'cookie', c.other.record.id, c.cookies, c.request)],
      ['ending every session', 'sessions.revoke-all', (c: Awaited<ReturnType<typeof stale>>) => c.controller.logoutAll(c.current, 'cookie', c.cookies, c.request)],
      ['deleting the account', 'account.delete', (c: Awaited<ReturnType<typeof stale>>) => c.controller.deleteAccount(c.current, 'cookie', c.cookies, c.request)],
    ])('records %s without a recent password proof, and nothing else', async (_case, operation, act) => {
      const context = await stale();

      await expect(act(context)).rejects.toMatchObject({ name: 'ReauthenticationRequiredError' });

      const sessionId = operation === 'session.revoke' ? { sessionId: context.other.record.id } : {};
      expect(context.record.mock.calls).toEqual([
        [context.request, 'access.denied', { userId: context.user.id, operation, reason: 'reauthentication-required', ...sessionId, by: context.current.record.id }],
      ]);
    });

    it("records ending a session that is none of the user's (another user's), and nothing for one of theirs already ended", async () => {
      const { sessions, accounts, controller, record, user, cookies, request } = await setup();
      const current = await sessions.authenticate((await sessions.create(user)).token);
      await accounts.register({ email: 'grace@example.com', password: 'another phrase' });
      const grace = await sessions.create(await accounts.verifyCredentials('grace@example.com', 'another phrase'));

      await expect(controller.revoke(current, 'cookie', grace.record.id, cookies, request)).rejects.toMatchObject({ name: 'SessionNotFoundError' });

      expect(record.mock.calls).toEqual([[request, 'access.denied', { userId: user.id, operation: 'session.revoke', reason: 'no-such-session', sessionId: grace.record.id, by: current.record.id }]]);
      expect(await sessions.authenticate(grace.token)).toMatchObject({ record: { id: grace.record.id } });
      // One of the user's own, ended already (logged out on its device): 204, not a refusal, and no line at all.
      const own = await sessions.create(user);
      await sessions.revoke(own.token);
      await controller.revoke(current, 'cookie', own.record.id, cookies, request);
      expect(record).toHaveBeenCalledTimes(1);
    });
  });

  it('writes one JSON line per event with its own logger, whatever level the app logs at, and nothing when off', async () => {
    const { Logger } = await import('@nestjs/common');
    Logger.overrideLogger(['error']); // KURA_LOG_LEVEL=error for the app's own lines
    try {
      const lines = written(() => new AuditLog({ enabled: true, json: true }).record({ id: 'req-1', ip: '192.0.2.1' }, 'logout', { userId: 'u-1', sessionId: 's-1' }));
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ context: 'Audit', message: { event: 'audit', action: 'logout', requestId: 'req-1', ip: '192.0.2.1', userId: 'u-1', sessionId: 's-1' } });
      expect(written(() => new AuditLog({ enabled: false, json: true }).record({ id: 'req-1', ip: '192.0.2.1' }, 'logout', {}))).toEqual([]);
    } finally {
      Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']);
    }
  });
});
