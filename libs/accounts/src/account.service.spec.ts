import { jest } from '@jest/globals';
import { ManualClock, StoreUnavailableError } from '@kura/common';
import { AccountService } from './account.service.js';
import { EmailTakenError, InvalidCredentialsError, ReauthenticationFailedError, TooManyLoginAttemptsError, WeakPasswordError } from './account.errors.js';
import { InMemoryUserStore } from './in-memory-user.store.js';
import { InMemoryLoginAttemptStore } from './login-attempt-store.port.js';
import { LoginThrottle } from './login-throttle.js';
import { PasswordHasher } from './password-hasher.js';

function setup() {
  const store = new InMemoryUserStore();
  const sut = new AccountService(store, new PasswordHasher({ log2Cost: 10 }));
  return { sut, store };
}

describe('AccountService', () => {
  it('registers a user with a normalised email and never keeps the password', async () => {
    const { sut, store } = setup();

    const user = await sut.register({ email: '  Ada@Example.COM ', password: 'analytical engine', name: ' Ada ' });

    expect(user).toMatchObject({ email: 'ada@example.com', name: 'Ada' });
    const stored = await store.findByEmail('ada@example.com');
    expect(JSON.stringify(stored)).not.toContain('analytical engine');
    expect(stored?.passwordHash).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$/);
  });

  it('refuses a second account for the same email, whatever its case', async () => {
    const { sut } = setup();
    await sut.register({ email: 'ada@example.com', password: 'analytical engine' });

    await expect(sut.register({ email: 'ADA@example.com', password: 'another one' })).rejects.toBeInstanceOf(EmailTakenError);
  });

  it('verifies the right password', async () => {
    const { sut } = setup();
    const registered = await sut.register({ email: 'ada@example.com', password: 'analytical engine' });

    await expect(sut.verifyCredentials('Ada@example.com', 'analytical engine')).resolves.toEqual({ ...registered, credentialVersion: 0 });
  });

  it.each([
    ['a wrong password', 'ada@example.com', 'difference engine'],
    ['an unknown email', 'charles@example.com', 'analytical engine'],
  ])('answers %s with the same error', async (_case, email, password) => {
    const { sut } = setup();
    await sut.register({ email: 'ada@example.com', password: 'analytical engine' });

    const error = await sut.verifyCredentials(email, password).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(InvalidCredentialsError);
    expect((error as Error).message).toBe('Invalid email or password');
  });
});

describe('AccountService with a login throttle', () => {
  const PASSWORD = 'analytical engine';
  async function throttled(limit = 2) {
    const store = new InMemoryUserStore();
    const clock = new ManualClock();
    const attempts = new InMemoryLoginAttemptStore();
    const throttle = new LoginThrottle(attempts, { maxFailuresPerAccount: limit, maxFailuresPerClient: 100 }, clock);
    const sut = new AccountService(store, new PasswordHasher({ log2Cost: 10 }), clock, throttle);
    await sut.register({ email: 'ada@example.com', password: PASSWORD });
    return { sut, store, attempts };
  }

  it('refuses before checking any password once the account has failed its limit, known account or not', async () => {
    const { sut } = await throttled(2);
    for (let i = 0; i < 2; i += 1) await expect(sut.verifyCredentials('ada@example.com', 'wrong', '10.0.0.1')).rejects.toBeInstanceOf(InvalidCredentialsError);

    await expect(sut.verifyCredentials('ada@example.com', PASSWORD, '10.0.0.1')).rejects.toBeInstanceOf(TooManyLoginAttemptsError);
    for (let i = 0; i < 2; i += 1) await sut.verifyCredentials('nobody@example.com', 'wrong').catch(() => undefined);
    await expect(sut.verifyCredentials('nobody@example.com', 'wrong')).rejects.toBeInstanceOf(TooManyLoginAttemptsError);
  });

  it('forgets the failures of an account on a good password', async () => {
    const { sut } = await throttled(2);
    await sut.verifyCredentials('ada@example.com', 'wrong').catch(() => undefined);
    await sut.verifyCredentials('ada@example.com', PASSWORD);

    await sut.verifyCredentials('ada@example.com', 'wrong').catch(() => undefined);

    await expect(sut.verifyCredentials('ada@example.com', PASSWORD)).resolves.toMatchObject({ email: 'ada@example.com' });
  });

  it('counts good passwords as nothing: any number of them never reaches the limit', async () => {
    const { sut } = await throttled(2);

    for (let i = 0; i < 5; i += 1) await sut.verifyCredentials('ada@example.com', PASSWORD, '10.0.0.1');
  });

  it('does not count an attempt the store could not check, and lets the store failure through', async () => {
    const { sut, store } = await throttled(1);
    jest.spyOn(store, 'findByEmail').mockRejectedValueOnce(new StoreUnavailableError('user.findByEmail'));

    await expect(sut.verifyCredentials('ada@example.com', PASSWORD)).rejects.toBeInstanceOf(StoreUnavailableError);

    await expect(sut.verifyCredentials('ada@example.com', PASSWORD)).resolves.toMatchObject({ email: 'ada@example.com' });
  });

  it('lets a right password in when the store cannot forget its failures (the clear failed, or its answer was lost)', async () => {
    const { sut, attempts } = await throttled(2);
    await expect(sut.verifyCredentials('ada@example.com', 'wrong', '10.0.0.1')).rejects.toBeInstanceOf(InvalidCredentialsError);
    const clear = jest.spyOn(attempts, 'clear').mockRejectedValueOnce(new StoreUnavailableError('loginAttempts.clear'));

    await expect(sut.verifyCredentials('ada@example.com', PASSWORD, '10.0.0.1')).resolves.toMatchObject({ email: 'ada@example.com' });

    expect(clear).toHaveBeenCalledTimes(1);
    await sut.verifyCredentials('ada@example.com', PASSWORD, '10.0.0.1'); // the next success forgets the failure
    await expect(sut.verifyCredentials('ada@example.com', 'wrong', '10.0.0.1')).rejects.toBeInstanceOf(InvalidCredentialsError);
    await expect(sut.verifyCredentials('ada@example.com', PASSWORD, '10.0.0.1')).resolves.toMatchObject({ email: 'ada@example.com' });
  });

  it('changes the password: only with the current one, raising the credential version each time', async () => {
    const { sut } = await throttled(5);

    await expect(sut.changePassword('ada@example.com', 'wrong', 'difference engine')).rejects.toBeInstanceOf(ReauthenticationFailedError);
    expect(await sut.changePassword('ada@example.com', PASSWORD, 'difference engine')).toBe(1);
    expect(await sut.changePassword('ada@example.com', 'difference engine', 'a third one')).toBe(2);

    await expect(sut.verifyCredentials('ada@example.com', PASSWORD)).rejects.toBeInstanceOf(InvalidCredentialsError);
    await expect(sut.verifyCredentials('ada@example.com', 'a third one')).resolves.toMatchObject({ credentialVersion: 2 });
  });

  it('lets only one of two changes made on the same password win', async () => {
    const { sut, store } = await throttled(5);
    const user = (await store.findByEmail('ada@example.com'))!;
    await store.replacePasswordHash(user.email, user.passwordHash, 'a hash set by another change');

    await expect(sut.changePassword('ada@example.com', PASSWORD, 'mine')).rejects.toBeInstanceOf(ReauthenticationFailedError);
  });

  it('refuses a common password or one of the account\'s own words at registration, before counting, hashing or writing anything', async () => {
    const store = new InMemoryUserStore();
    const attempts = new InMemoryLoginAttemptStore();
    const throttle = new LoginThrottle(attempts, { maxRegistrationsPerClient: 1 }, new ManualClock());
    const hasher = new PasswordHasher({ log2Cost: 10 });
    const hash = jest.spyOn(hasher, 'hash');
    const sut = new AccountService(store, hasher, new ManualClock(), throttle);

    await expect(sut.register({ email: 'ada@example.com', password: 'Password1!' }, '10.0.0.1')).rejects.toEqual(expect.objectContaining({ reason: 'common', field: 'password' }));
    await expect(sut.register({ email: 'ada@example.com', password: 'Lovelace1815', name: 'Ada Lovelace' }, '10.0.0.1')).rejects.toEqual(
      expect.objectContaining({ name: 'WeakPasswordError', reason: 'context' }),
    );
    expect(hash).not.toHaveBeenCalled();
    await expect(store.findByEmail('ada@example.com')).resolves.toBeUndefined();
    // Neither refusal used the client's one registration.
    await expect(sut.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada Lovelace' }, '10.0.0.1')).resolves.toMatchObject({ email: 'ada@example.com' });
  });

  it('refuses a weak new password once the current one is confirmed, and changes nothing', async () => {
    const { sut, store } = await throttled(5);
    const before = (await store.findByEmail('ada@example.com'))!;

    await expect(sut.changePassword('ada@example.com', PASSWORD, 'letmein2024')).rejects.toEqual(expect.objectContaining({ reason: 'common', field: 'newPassword' }));
    await expect(sut.changePassword('ada@example.com', PASSWORD, 'ada@example.com')).rejects.toBeInstanceOf(WeakPasswordError);
    // A wrong current password is still that, whatever the new one.
    await expect(sut.changePassword('ada@example.com', 'wrong', 'letmein2024')).rejects.toBeInstanceOf(ReauthenticationFailedError);

    expect(await store.findByEmail('ada@example.com')).toEqual(before);
    await expect(sut.verifyCredentials('ada@example.com', PASSWORD)).resolves.toMatchObject({ credentialVersion: 0 });
  });

  describe('after the hashing cost was raised', () => {
    async function raised() {
      const store = new InMemoryUserStore();
      await new AccountService(store, new PasswordHasher({ log2Cost: 10 })).register({ email: 'ada@example.com', password: PASSWORD });
      const sut = new AccountService(store, new PasswordHasher({ log2Cost: 11 }));
      return { sut, store, before: (await store.findByEmail('ada@example.com'))! };
    }

    it.each([
      ['a login', (sut: AccountService) => sut.verifyCredentials('ada@example.com', PASSWORD)],
      ['a re-authentication', (sut: AccountService) => sut.confirmPassword('ada@example.com', PASSWORD)],
    ])('%s upgrades the hash to the configured cost, leaving the credential version (no session ends)', async (_case, check) => {
      const { sut, store, before } = await raised();

      await expect(check(sut)).resolves.toMatchObject({ credentialVersion: 0 });

      const after = (await store.findByEmail('ada@example.com'))!;
      expect(after.passwordHash).toMatch(/^\$scrypt\$ln=11,r=8,p=1\$/);
      expect(after).toEqual({ ...before, passwordHash: after.passwordHash });
      await expect(sut.verifyCredentials('ada@example.com', PASSWORD)).resolves.toMatchObject({ credentialVersion: 0 });
      // Once: the upgraded hash is not upgraded again.
      await sut.verifyCredentials('ada@example.com', PASSWORD);
      expect((await store.findByEmail('ada@example.com'))!.passwordHash).toBe(after.passwordHash);
    });

    it('leaves the hash on a wrong password, and lets the login through when the store cannot take the upgrade', async () => {
      const { sut, store, before } = await raised();
      await expect(sut.verifyCredentials('ada@example.com', 'wrong')).rejects.toBeInstanceOf(InvalidCredentialsError);
      expect(await store.findByEmail('ada@example.com')).toEqual(before);

      jest.spyOn(store, 'rehashPassword').mockRejectedValueOnce(new StoreUnavailableError('user.rehashPassword'));
      await expect(sut.verifyCredentials('ada@example.com', PASSWORD)).resolves.toMatchObject({ credentialVersion: 0 });
      expect(await store.findByEmail('ada@example.com')).toEqual(before);
    });

    it('changes the password when a login upgraded its hash between the check and the write, and refuses when a change did', async () => {
      const { sut, store } = await raised();
      const replace = store.replacePasswordHash.bind(store);
      // A login's upgrade lands just before the change's conditional write.
      jest.spyOn(store, 'replacePasswordHash').mockImplementationOnce(async (email, expected, next) => {
        await sut.verifyCredentials('ada@example.com', PASSWORD);
        return replace(email, expected, next);
      });

      await expect(sut.changePassword('ada@example.com', PASSWORD, 'difference engine')).resolves.toBe(1);
      await expect(sut.verifyCredentials('ada@example.com', 'difference engine')).resolves.toMatchObject({ credentialVersion: 1 });

      // Another change landing there instead (the version raised) still wins alone.
      jest.spyOn(store, 'replacePasswordHash').mockImplementationOnce(async (email, expected, next) => {
        await sut.changePassword('ada@example.com', 'difference engine', 'a third engine');
        return replace(email, expected, next);
      });
      await expect(sut.changePassword('ada@example.com', 'difference engine', 'a fourth engine')).rejects.toEqual(new ReauthenticationFailedError(true));
      await expect(sut.verifyCredentials('ada@example.com', 'a third engine')).resolves.toMatchObject({ credentialVersion: 2 });
    });
  });

  // The store's retry of the write (its answer lost) knows it by the hash it wrote: a login with the new password on a
  // replica hashing at a higher cost upgraded that hash in between, and the change that landed answered 403 "the
  // current password is not correct", with no audit line (an outside review, 2026-12-07).
  it('knows its own write whose hash a login upgraded before the retry looked: changed, not raced', async () => {
    const { sut, store } = setup();
    await sut.register({ email: 'ada@example.com', password: 'analytical engine' });
    const upgrader = new AccountService(store, new PasswordHasher({ log2Cost: 11 }));
    const replace = store.replacePasswordHash.bind(store);
    jest.spyOn(store, 'replacePasswordHash').mockImplementationOnce(async (email, expected, next) => {
      await replace(email, expected, next); // applied; its answer lost
      await upgrader.verifyCredentials('ada@example.com', 'difference engine'); // the upgrade
      return undefined; // the retry finds neither the hash it expected nor the one it wrote
    });

    await expect(sut.changePassword('ada@example.com', 'analytical engine', 'difference engine')).resolves.toBe(1);
    expect((await store.findByEmail('ada@example.com'))?.passwordHash).toMatch(/^\$scrypt\$ln=11,/);
  });

  it('finishes a change sent again after the first replaced the hash: a change of its own, not a wrong password', async () => {
    const { sut } = await throttled(5);
    // The first attempt's hash landed, and its answer was a 503 (its new session could not be registered).
    expect(await sut.changePassword('ada@example.com', PASSWORD, 'difference engine', '10.0.0.1')).toBe(1);

    // A version of its own, whose session ends every other, the first attempt's included (its answer may be lost).
    await expect(sut.changePassword('ada@example.com', PASSWORD, 'difference engine', '10.0.0.1')).resolves.toBe(2);
    await expect(sut.verifyCredentials('ada@example.com', 'difference engine')).resolves.toMatchObject({ credentialVersion: 2 });
  });

  it('counts each of the two passwords a change that fits neither brings as a failed check', async () => {
    const { sut } = await throttled(4);

    for (let i = 0; i < 2; i += 1) {
      await expect(sut.changePassword('ada@example.com', 'wrong', `guess ${i}`, '10.0.0.1')).rejects.toBeInstanceOf(ReauthenticationFailedError);
    }

    await expect(sut.changePassword('ada@example.com', PASSWORD, 'difference engine', '10.0.0.1')).rejects.toBeInstanceOf(TooManyLoginAttemptsError);
  });

  it('says how many passwords a refused change checked, and answers the first check where the throttle refused the second', async () => {
    const { sut } = await throttled(4);

    await expect(sut.changePassword('ada@example.com', 'wrong', 'guess one', '10.0.0.1')).rejects.toMatchObject({ checks: 2 });
    await expect(sut.changePassword('ada@example.com', 'wrong', 'wrong', '10.0.0.1')).rejects.toMatchObject({ checks: 1 });
    // One check left: the current password is checked, and wrong; the new one is refused a check.
    await expect(sut.changePassword('ada@example.com', 'wrong again', 'guess two', '10.0.0.1')).rejects.toMatchObject({ name: 'ReauthenticationFailedError', checks: 1 });
    await expect(sut.changePassword('ada@example.com', PASSWORD, 'difference engine', '10.0.0.1')).rejects.toBeInstanceOf(TooManyLoginAttemptsError);
  });

  it('confirms the password with the version it checked, and refuses a wrong one with its own error', async () => {
    const { sut } = await throttled(5);

    await expect(sut.confirmPassword('ada@example.com', PASSWORD)).resolves.toMatchObject({ credentialVersion: 0 });
    await expect(sut.confirmPassword('ada@example.com', 'wrong')).rejects.toBeInstanceOf(ReauthenticationFailedError);
  });

  describe('closing and removing an account (its deletion)', () => {
    it('closes it like a password change to one nobody knows, knows a retry as its own, and then removes it', async () => {
      const { sut, store } = setup();
      await sut.register({ email: 'ada@example.com', password: 'analytical engine' });

      const closed = (await sut.closeAccount('ADA@example.com'))!;

      expect(closed).toMatchObject({ email: 'ada@example.com', credentialVersion: 1 });
      await expect(sut.verifyCredentials('ada@example.com', 'analytical engine')).rejects.toBeInstanceOf(InvalidCredentialsError);
      // A deletion that stopped after this step and is asked for again goes on from the same closing.
      expect(await sut.closeAccount('ada@example.com')).toEqual(closed);
      await sut.removeAccount(closed);
      expect(await store.findByEmail('ada@example.com')).toBeUndefined();
      expect(await sut.closeAccount('ada@example.com')).toBeUndefined();
    });

    it('says a deletion of an account has begun from its closing on, also once it is removed, and only of the account it was', async () => {
      const { sut } = setup();
      const { id } = await sut.register({ email: 'ada@example.com', password: 'analytical engine' });
      expect(await sut.deletionBegun('ada@example.com', id)).toBe(false);

      const closed = (await sut.closeAccount('ada@example.com'))!;

      expect(await sut.deletionBegun('Ada@example.com', id)).toBe(true);
      await sut.removeAccount(closed);
      expect(await sut.deletionBegun('ada@example.com', id)).toBe(true);
      const again = await sut.register({ email: 'ada@example.com', password: 'difference engine' });
      expect(await sut.deletionBegun('ada@example.com', id)).toBe(true); // the email is another account's now
      expect(await sut.deletionBegun('ada@example.com', again.id)).toBe(false);
    });

    it('closes from the new password when a change lands between its read and its write', async () => {
      const { sut, store } = setup();
      await sut.register({ email: 'ada@example.com', password: 'analytical engine' });
      const findByEmail = store.findByEmail.bind(store);
      let raced = false;
      jest.spyOn(store, 'findByEmail').mockImplementation(async (email) => {
        const user = await findByEmail(email);
        if (!raced && user) {
          raced = true;
          await store.replacePasswordHash(email, user.passwordHash, 'a hash set by a change meanwhile');
        }
        return user;
      });

      const closed = (await sut.closeAccount('ada@example.com'))!;

      expect(closed.credentialVersion).toBe(2);
      expect((await findByEmail('ada@example.com'))!.passwordHash).toBe(closed.mark);
    });
  });
});
