import { createHash, randomBytes } from 'node:crypto';
import { type Clock, systemClock } from '@kura/common';
import { TooManyLoginAttemptsError, TooManyRegistrationsError } from './account.errors.js';
import { clientOf } from './client-address.js';
import type { LoginAttemptStore } from './login-attempt-store.port.js';

export interface LoginThrottleOptions {
  /**
   * Failed logins allowed per account (email) from one client within a window, whether or not the account exists.
   * Counted per account and client, so that failures sent from one address cannot lock the owner out elsewhere.
   * @default 10
   */
  maxFailuresPerAccount?: number;
  /**
   * Failed logins allowed per account within a window from all clients together: the bound on a guesser spread
   * over many addresses. Once reached, the account is refused to everyone, its owner too, until the failures fade.
   * @default 100
   */
  maxFailuresPerAccountTotal?: number;
  /**
   * Failed logins allowed per client within a window (across all accounts it tries).
   * @default 100
   */
  maxFailuresPerClient?: number;
  /**
   * Registrations allowed per client within a window, successful or not (each costs a password hash, and an
   * email taken answers differently from a new one).
   * @default 20
   */
  maxRegistrationsPerClient?: number;
  /**
   * Window length in seconds.
   * @default 900 (15 minutes)
   */
  windowSeconds?: number;
}

/** A password check the throttle let through; say how it ended. */
export interface LoginAttempt {
  /**
   * The password was right: the failures of this account from this client are forgotten; the reservations in the
   * account's total and the client's are withdrawn (the other failures there are not the owner's to forgive).
   */
  succeeded(): Promise<void>;
  /** The check could not be made (the store failed): the reservation is withdrawn, nothing counted. */
  abandoned(): Promise<void>;
}

/** A registration the throttle let through. */
export interface RegistrationAttempt {
  /** The registration could not be made (the store failed): the reservation is withdrawn, nothing counted. */
  abandoned(): Promise<void>;
}

interface Scope {
  readonly limit: number;
  readonly current: string;
  readonly previous: string;
}

interface Reservation {
  /** Each scope with the counts read before reserving. */
  readonly room: readonly { scope: Scope; previous: number }[];
  readonly release: () => Promise<unknown>;
  readonly releaseFrom: (scope: Scope) => Promise<void>;
}

/** Who is refused past a limit: the error to throw, with the seconds until an attempt would be admitted. */
type Refusal = (retryAfterSeconds: number) => Error;
const loginRefusal: Refusal = (seconds) => new TooManyLoginAttemptsError(seconds);
const registrationRefusal: Refusal = (seconds) => new TooManyRegistrationsError(seconds);

/**
 * Brute-force protection with no state in the process: attempts are counted in the store in a sliding window
 * estimated from two fixed windows (the previous one weighted by how much of it still overlaps), in three scopes:
 * per account and client (the tight limit), per account from everyone (a ceiling much higher), per client. So one
 * address sending wrong passwords for an account locks out only itself, never the owner elsewhere, while guesses
 * spread over many addresses are still bounded by the ceiling. Each password check first reserves its place in
 * every counter, atomically and only while it is below its limit, so concurrent guesses cannot all pass one
 * check-then-act read: at most `limit` checks are admitted per window, however many arrive at once. A failed check
 * leaves its reservations as the failure's count. Refusals are identical for existing and unknown accounts and
 * come before the password is even checked. Registrations are counted per client the same way.
 */
export class LoginThrottle {
  private readonly maxPerAccount: number;
  private readonly maxPerAccountTotal: number;
  private readonly maxPerClient: number;
  private readonly maxRegistrationsPerClient: number;
  private readonly windowMs: number;

  constructor(
    private readonly store: LoginAttemptStore,
    options: LoginThrottleOptions = {},
    private readonly clock: Clock = systemClock,
  ) {
    this.maxPerAccount = options.maxFailuresPerAccount ?? 10;
    this.maxPerAccountTotal = options.maxFailuresPerAccountTotal ?? 100;
    this.maxPerClient = options.maxFailuresPerClient ?? 100;
    this.maxRegistrationsPerClient = options.maxRegistrationsPerClient ?? 20;
    this.windowMs = (options.windowSeconds ?? 900) * 1000;
  }

  /**
   * Reserves one password check for this account and client, or throws `TooManyLoginAttemptsError` (with the
   * seconds until one would be admitted) when any of its counters is at its limit. Without a client address,
   * the checks share one client for the account's tight limit and count in no client's.
   */
  async begin(email: string, client: string | undefined): Promise<LoginAttempt> {
    const now = this.clock.now();
    const window = this.windowOf(now);
    const account = digest(email);
    const from = client === undefined ? undefined : clientOf(client);
    const pair = this.scope(`pair:${digest(`${account}\n${from ?? ''}`)}`, this.maxPerAccount, window);
    const total = this.scope(`account:${account}`, this.maxPerAccountTotal, window);
    const scopes = [pair, total, ...(from === undefined ? [] : [this.scope(`client:${digest(from)}`, this.maxPerClient, window)])];
    const { room, release, releaseFrom } = await this.reserve(now, scopes, loginRefusal);
    return {
      succeeded: async () => {
        const forget = [pair.current, ...(room[0]!.previous > 0 ? [pair.previous] : [])];
        const [cleared, ...released] = await Promise.allSettled([this.store.clear(forget), ...scopes.slice(1).map(releaseFrom)]);
        // Where the failures could not be forgotten, this attempt at least is not left among them as one.
        if (cleared!.status === 'rejected') await releaseFrom(pair).catch(() => undefined);
        const failed = [cleared!, ...released].find((outcome) => outcome.status === 'rejected');
        if (failed) throw failed.reason;
      },
      abandoned: async () => {
        await release();
      },
    };
  }

  /**
   * Reserves one registration for this client, or throws `TooManyRegistrationsError` when it is at its limit. A
   * registration stays counted whether it created an account or found the email taken; without a client address,
   * nothing is counted.
   */
  async beginRegistration(client: string | undefined): Promise<RegistrationAttempt> {
    if (client === undefined) return { abandoned: async () => undefined };
    const now = this.clock.now();
    const scope = this.scope(`registration:${digest(clientOf(client))}`, this.maxRegistrationsPerClient, this.windowOf(now));
    const { release } = await this.reserve(now, [scope], registrationRefusal);
    return {
      abandoned: async () => {
        await release();
      },
    };
  }

  /** Reserves one attempt in every scope, or in none: throws the refusal when any is at its limit. */
  private async reserve(now: number, scopes: readonly Scope[], refuse: Refusal): Promise<Reservation> {
    const window = this.windowOf(now);
    const overlap = 1 - (now % this.windowMs) / this.windowMs;
    const counts = await this.store.counts(scopes.flatMap((scope) => [scope.current, scope.previous]));
    const room = scopes.map((scope, index) => ({
      scope,
      current: counts[2 * index]!,
      previous: counts[2 * index + 1]!,
      below: scope.limit - counts[2 * index + 1]! * overlap,
    }));
    const full = room.find(({ current, below }) => current >= below);
    if (full) throw refuse(this.retryAfter(full.current, full.previous, full.scope.limit, now));

    const attempt = randomBytes(16).toString('base64url');
    const expiresAt = (window + 2) * this.windowMs;
    const outcomes = await Promise.allSettled(room.map(({ scope, below }) => this.store.reserve(scope.current, attempt, below, expiresAt)));
    const reserved = outcomes.map((outcome) => outcome.status === 'fulfilled' && outcome.value);
    const release = () => Promise.all(room.map(({ scope }, index) => (reserved[index] ? this.store.release(scope.current, attempt) : undefined)));
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failed) {
      // Nothing is checked, so every counter that may have taken the attempt gives it back: a store failure on one
      // counter must not count as a failed attempt on another, nor a reservation that landed with its answer lost
      // (a timeout, a reset connection) on its own. Only a counter that answered "full" surely holds nothing;
      // withdrawing an attempt a counter never took changes nothing. Best effort: the store is likely down.
      await Promise.all(
        room.map(({ scope }, index) => (outcomes[index]!.status === 'fulfilled' && !reserved[index] ? undefined : this.store.release(scope.current, attempt))),
      ).catch(() => undefined);
      throw failed.reason;
    }
    const refused = reserved.indexOf(false);
    if (refused >= 0) {
      await release();
      const { scope, below, previous } = room[refused]!;
      throw refuse(this.retryAfter(Math.ceil(below), previous, scope.limit, now));
    }
    return { room, release, releaseFrom: (scope) => this.store.release(scope.current, attempt) };
  }

  /**
   * The seconds until an attempt would be admitted to a counter at its limit, if no other came: later in this
   * window as the previous one's weight fades, or in the next as this one's does.
   */
  private retryAfter(current: number, previous: number, limit: number, now: number): number {
    const windowStart = now - (now % this.windowMs);
    const admittedAt =
      current < limit
        ? windowStart + this.windowMs * (1 - (limit - current) / previous)
        : windowStart + this.windowMs * (2 - limit / current);
    return Math.max(1, Math.ceil((admittedAt - now + 1) / 1000));
  }

  private windowOf(now: number): number {
    return Math.floor(now / this.windowMs);
  }

  private scope(name: string, limit: number, window: number): Scope {
    return { limit, current: key(name, window), previous: key(name, window - 1) };
  }
}

/** Counter keys hold digests, never an email or an address. */
const digest = (value: string) => createHash('sha256').update(value).digest('base64url').slice(0, 32);
const key = (scope: string, window: number) => `${scope}#${window}`;
