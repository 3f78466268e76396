import { randomUUID } from 'node:crypto';
import { type Clock, StoreUnavailableError, systemClock } from '@kura/common';
import { EmailTakenError, InvalidCredentialsError, ReauthenticationFailedError, TooManyLoginAttemptsError } from './account.errors.js';
import { normaliseEmail, type PublicUser, toPublicUser, type UserRecord, type VerifiedUser } from './account.types.js';
import type { LoginThrottle } from './login-throttle.js';
import type { PasswordHasher } from './password-hasher.js';
import { PasswordPolicy } from './password-policy.js';
import type { UserStore } from './user-store.port.js';

/** What an account's deletion has done so far: no password opens it any more (`closeAccount`). */
export interface ClosedAccount {
  readonly userId: string;
  readonly email: string;
  /** The credential version the closing raised: sessions issued on older ones must end. */
  readonly credentialVersion: number;
  /** The hash it now holds, which no password matches; `removeAccount` deletes only an account holding it. */
  readonly mark: string;
}

/** A closed account's hash: not a PHC string, so no password ever verifies against it. */
const DELETION_MARK = '$deleted$';
/** Whether a deletion has closed this account (`closeAccount`): its hash is the deletion's mark, which no password opens. */
const closedByDeletion = (user: UserRecord) => user.passwordHash.startsWith(DELETION_MARK);
/** How often a closing tries again when a password change lands between its read and its write. */
const CLOSING_ATTEMPTS = 3;
/** How often a password change goes on from a hash that a login upgraded between its check and its write. */
const CHANGING_ATTEMPTS = 3;

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
    private readonly policy: PasswordPolicy = new PasswordPolicy(),
  ) {}

  /**
   * Creates an account; throws `EmailTakenError` when the email is in use, and `WeakPasswordError` (before anything
   * is counted, hashed or read) when the policy refuses the password. With a throttle, a client past its limit of
   * registrations gets `TooManyRegistrationsError` before any password is hashed.
   */
  async register(registration: Registration, client?: string): Promise<PublicUser> {
    await this.policy.check(registration.password, registration, 'password');
    const attempt = await this.throttle?.beginRegistration(client);
    const user = {
      id: randomUUID(),
      email: normaliseEmail(registration.email),
      name: registration.name?.trim() || null,
      passwordHash: await this.hasher.hash(registration.password),
      createdAt: this.clock.now(),
    };
    await this.store.insert(user).catch(async (error: unknown) => {
      // A taken email stays counted (that answer is what a prober is after); a write that could not be made does not.
      if (!(error instanceof EmailTakenError)) await attempt?.abandoned().catch(() => undefined);
      throw error;
    });
    return toPublicUser(user);
  }

  /**
   * Returns the user whose email and password these are, with the credential version that was checked, or
   * throws `InvalidCredentialsError`. An unknown email costs the same hashing work as a wrong password. With a
   * throttle, an account or client past its limit gets `TooManyLoginAttemptsError` before any password is
   * checked, whether the account exists or not.
   */
  async verifyCredentials(email: string, password: string, client?: string): Promise<VerifiedUser> {
    return verified(await this.upgraded(await this.checkPassword(email, password, client, (userId) => new InvalidCredentialsError(userId)), password));
  }

  /**
   * Changes a signed-in user's password after checking the current one (`ReauthenticationFailedError`
   * otherwise), and returns the new credential version: sessions issued on older ones must end. Two concurrent
   * changes to different passwords cannot both win: the write is conditional on the hash that was checked (the
   * loser is `ReauthenticationFailedError` with `raced`). Of two to the same password, one that checks after the
   * other wrote finds that password in force and wins too, as a change sent again (below), ending the other's
   * session. A change sent again after
   * one that replaced the hash and then failed (a 503 before its new session was registered) finds the new
   * password in force: it is checked too, counted as a check of its own, so that the retry finishes what the first
   * attempt began (the old sessions end) instead of answering that the current password is wrong. It is a change
   * all the same: the hash is written again (salted anew) and the version raised, so that its new session ends
   * every other, those issued on the new password since included (the first attempt's, whose answer may have been
   * lost, and any login's): the version in force would have left them live, the change's answer notwithstanding.
   * A new password the policy refuses is `WeakPasswordError` once the current one is confirmed (the account's own
   * words are among what it is compared with), and nothing is written.
   */
  async changePassword(email: string, currentPassword: string, newPassword: string, client?: string, account?: string): Promise<number> {
    let user: UserRecord;
    try {
      user = await this.checkPassword(email, currentPassword, client, () => new ReauthenticationFailedError(), account);
    } catch (error) {
      if (!(error instanceof ReauthenticationFailedError) || newPassword === currentPassword) throw error;
      // Knowing the password in force is what the check asks for, whichever field brought it. A second wrong one is
      // the same answer, counted twice; one the throttle refuses to check leaves the answer the first check gave.
      user = await this.checkPassword(email, newPassword, client, () => Object.assign(error, { checks: 2 }), account).catch((second: unknown) => {
        throw second instanceof TooManyLoginAttemptsError ? error : second;
      });
    }
    await this.policy.check(newPassword, user, 'newPassword');
    const newHash = await this.hasher.hash(newPassword);
    for (let attempt = 0; ; attempt += 1) {
      const version = await this.store.replacePasswordHash(user.email, user.passwordHash, newHash);
      if (version !== undefined) return version;
      // The hash changed since it was checked. In the same account at the same credential version, only a login's
      // upgrade of it (`upgraded`: the same password, at a higher cost) can have changed it: the password checked
      // is still the one in force, so the change goes on from the new hash. A change of the password, or a
      // deletion's closing, raised the version; an account registered anew under the email has another id.
      const now = attempt < CHANGING_ATTEMPTS ? await this.store.findByEmail(user.email) : undefined;
      const same = now !== undefined && now.id === user.id;
      if (same && (now.credentialVersion ?? 0) === (user.credentialVersion ?? 0)) {
        user = now;
        continue;
      }
      // This change's own write, whose answer was lost, then a login with the new password that upgraded its hash
      // before the store's retry looked: the store knows its write by the hash it wrote, and answered that it lost
      // (an outside review: the password changed, answered 403 "not correct", no audit line). The version one up,
      // with the new password in force, is this change done (or one to the same password, which wins too, above).
      if (same && (now.credentialVersion ?? 0) === (user.credentialVersion ?? 0) + 1 && (await this.hasher.verify(newPassword, now.passwordHash))) {
        return now.credentialVersion!;
      }
      throw new ReauthenticationFailedError(true);
    }
  }

  /**
   * The first step of deleting an account: its password hash is replaced by a mark no password matches, raising
   * the credential version like a password change, so that from here on no login succeeds and one already past
   * its password check is refused when it registers its session (`SessionService.closeAll`, with the version
   * returned). An account already closed (a deletion that did not finish) is returned as it is. `undefined`:
   * there is no such account, or, with `account` (the id of the user a signed-in session belongs to), the email
   * belongs to another account now (that user's account was deleted, and the email registered again: a deletion
   * sent again by a session of the deleted account must not delete the newcomer's).
   */
  async closeAccount(email: string, account?: string): Promise<ClosedAccount | undefined> {
    // Before anything changes: a closed account that cannot be removed would be left unusable.
    this.removable();
    const normalised = normaliseEmail(email);
    for (let attempt = 0; attempt < CLOSING_ATTEMPTS; attempt += 1) {
      const user = await this.accountAt(normalised, account);
      if (!user) return undefined;
      const closed = { userId: user.id, email: user.email };
      if (closedByDeletion(user)) return { ...closed, credentialVersion: user.credentialVersion ?? 0, mark: user.passwordHash };
      // Unique, so that a retry of this write knows it as its own (as a new password's salted hash is).
      const mark = `${DELETION_MARK}${randomUUID()}`;
      const credentialVersion = await this.store.replacePasswordHash(normalised, user.passwordHash, mark);
      if (credentialVersion !== undefined) return { ...closed, credentialVersion, mark };
      // A password change landed between the read and the write: close from the new hash.
    }
    throw new StoreUnavailableError('user.close', { retryAfterSeconds: 1, reason: `the account's password changed at every attempt to close it (${CLOSING_ATTEMPTS})` });
  }

  /**
   * Whether a deletion of this account has begun: it is closed (`closeAccount`), so that no password opens it any
   * more and none can be re-authenticated on, or it is gone already (removed, its email perhaps another account's
   * now), where a session of it that is still live is all a deletion has left to end.
   */
  async deletionBegun(email: string, account: string): Promise<boolean> {
    const user = await this.accountAt(normaliseEmail(email), account);
    return user === undefined || closedByDeletion(user);
  }

  /** The account under `email`; `undefined` where there is none, or, with `account`, where the email is another's now. */
  private async accountAt(normalised: string, account: string | undefined): Promise<UserRecord | undefined> {
    const user = await this.store.findByEmail(normalised);
    return user && (account === undefined || user.id === account) ? user : undefined;
  }

  /** The last step of deleting an account: it is removed, and its email free to register again. */
  async removeAccount(closed: ClosedAccount): Promise<void> {
    await this.removable()(closed.email, closed.mark);
  }

  private removable(): NonNullable<UserStore['remove']> {
    if (!this.store.remove) throw new TypeError('This UserStore cannot delete accounts: it has no remove(email, expectedHash)');
    return this.store.remove.bind(this.store);
  }

  /**
   * A signed-in user proves again that they know the password (re-authentication before a sensitive change).
   * Throws `ReauthenticationFailedError` when it is wrong; counted and limited like logins, so a stolen session
   * cannot be used to guess the password. Returns the user with the credential version that was checked.
   */
  async confirmPassword(email: string, password: string, client?: string, account?: string): Promise<VerifiedUser> {
    return verified(await this.upgraded(await this.checkPassword(email, password, client, () => new ReauthenticationFailedError(), account), password));
  }

  /**
   * After its password is verified (a login, a re-authentication), an account whose hash was made at a lower cost
   * than the configured one (the cost was raised since: `PasswordHasher.needsRehash`) gets one made now, as OWASP's
   * Password Storage Cheat Sheet asks, with a write conditional on the hash checked that leaves the credential
   * version as it is: the password is the same, so no session ends and a change racing it goes on (`changePassword`).
   * A store without `rehashPassword` keeps its hashes. A store that cannot take the write now (a change landed
   * meanwhile, or it is unavailable: the next call on it will say so) leaves the old hash for the next login; the
   * password has been checked, and the login goes on. The hash costs one more scrypt, once per account.
   */
  private async upgraded(user: UserRecord, password: string): Promise<UserRecord> {
    if (!this.store.rehashPassword || !this.hasher.needsRehash(user.passwordHash)) return user;
    try {
      await this.store.rehashPassword(user.email, user.passwordHash, await this.hasher.hash(password));
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
    }
    return user;
  }

  /**
   * The one password check behind logins and re-authentication: a throttled place reserved first, the same
   * hashing work for an unknown account as for a wrong password, `failure()` thrown on either (the
   * reservation stays, as the failure's count). With `account` (the user a signed-in session belongs to), an email
   * that belongs to another account now is checked as an unknown one, and not counted against it: the session's
   * account was deleted, and its email registered again by someone else.
   */
  private async checkPassword(email: string, password: string, client: string | undefined, failure: (userId?: string) => Error, account?: string): Promise<UserRecord> {
    const normalised = normaliseEmail(email);
    // The user is read while the attempt is reserved (one round trip less); nothing is checked before both.
    const [reserved, found] = await Promise.allSettled([this.throttle?.begin(normalised, client), this.store.findByEmail(normalised)]);
    if (reserved.status === 'rejected') throw reserved.reason;
    const attempt = reserved.value;
    let user: UserRecord | undefined;
    let valid: boolean;
    let foreign = false;
    try {
      if (found.status === 'rejected') throw found.reason;
      user = found.value;
      // Another account's now: never checked against its hash (the same work as for an unknown email).
      foreign = user !== undefined && account !== undefined && user.id !== account;
      valid = user && !foreign ? await this.hasher.verify(password, user.passwordHash) : await this.hasher.verifyDecoy(password);
    } catch (error) {
      // Not a failed guess: the check could not be made. Best effort; the store is likely down.
      await attempt?.abandoned().catch(() => undefined);
      throw error;
    }
    if (foreign) {
      // Not a failure of the owner's to count against them.
      await attempt?.abandoned();
      throw failure();
    }
    if (!user || !valid) throw failure(user?.id);
    // The password is right: a store that cannot forget this client's failures now (or whose answer was lost after it
    // did) does not undo that. The login goes on, and its own writes say whether the store is there; failures left
    // counted are forgotten at the next success.
    await attempt?.succeeded().catch((error: unknown) => {
      if (!(error instanceof StoreUnavailableError)) throw error;
    });
    return user;
  }
}

function verified(user: UserRecord): VerifiedUser {
  return { ...toPublicUser(user), credentialVersion: user.credentialVersion ?? 0 };
}
