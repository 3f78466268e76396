import { randomUUID } from 'node:crypto';
import { type Clock, systemClock } from '@kura/common';
import { InvalidCredentialsError, ReauthenticationFailedError } from './account.errors.js';
import { normaliseEmail, type PublicUser, toPublicUser } from './account.types.js';
import type { LoginThrottle } from './login-throttle.js';
import type { PasswordHasher } from './password-hasher.js';
import type { UserStore } from './user-store.port.js';

export interface Registration {
  readonly email: string;
  readonly password: string;
  readonly name?: string | null;
}

/** Registration and credential checks. Input shape is validated at the edge; this enforces the account rules. */
export class AccountService {
  constructor(
    private readonly store: UserStore,
    private readonly hasher: PasswordHasher,
    private readonly clock: Clock = systemClock,
    private readonly throttle?: LoginThrottle,
  ) {}

  /** Creates an account; throws `EmailTakenError` when the email is in use. */
  async register(registration: Registration): Promise<PublicUser> {
    const user = {
      id: randomUUID(),
      email: normaliseEmail(registration.email),
      name: registration.name?.trim() || null,
      passwordHash: await this.hasher.hash(registration.password),
      createdAt: this.clock.now(),
    };
    await this.store.insert(user);
    return toPublicUser(user);
  }

  /**
   * Returns the user whose email and password these are, or throws `InvalidCredentialsError`. An unknown
   * email costs the same hashing work as a wrong password. With a throttle, an account or client past its
   * limit gets `TooManyLoginAttemptsError` before any password is checked, whether the account exists or not.
   */
  async verifyCredentials(email: string, password: string, client?: string): Promise<PublicUser> {
    return toPublicUser(await this.checkPassword(email, password, client, () => new InvalidCredentialsError()));
  }

  /**
   * Changes a signed-in user's password after checking the current one (`ReauthenticationFailedError`
   * otherwise). Two concurrent changes cannot both win: the write is conditional on the hash that was checked.
   */
  async changePassword(email: string, currentPassword: string, newPassword: string, client?: string): Promise<void> {
    const user = await this.checkPassword(email, currentPassword, client, () => new ReauthenticationFailedError());
    const replaced = await this.store.replacePasswordHash(user.email, user.passwordHash, await this.hasher.hash(newPassword));
    if (!replaced) throw new ReauthenticationFailedError();
  }

  /**
   * A signed-in user proves again that they know the password (re-authentication before a sensitive change).
   * Throws `ReauthenticationFailedError` when it is wrong; counted and limited like logins, so a stolen session
   * cannot be used to guess the password.
   */
  async confirmPassword(email: string, password: string, client?: string): Promise<void> {
    await this.checkPassword(email, password, client, () => new ReauthenticationFailedError());
  }

  /**
   * The one password check behind logins and re-authentication: throttled first, the same hashing work for an
   * unknown account as for a wrong password, failures counted, `failure()` thrown on either.
   */
  private async checkPassword(email: string, password: string, client: string | undefined, failure: () => Error) {
    const normalised = normaliseEmail(email);
    const attempt = await this.throttle?.check(normalised, client);
    const user = await this.store.findByEmail(normalised);
    const valid = user ? await this.hasher.verify(password, user.passwordHash) : await this.hasher.verifyDecoy(password);
    if (!user || !valid) {
      await this.throttle?.recordFailure(normalised, client);
      throw failure();
    }
    // Clearing costs a write: only when there is something to clear.
    if (attempt?.accountHasFailures) await this.throttle!.recordSuccess(normalised);
    return user;
  }
}
