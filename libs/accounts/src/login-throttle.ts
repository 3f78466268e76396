import { createHash, randomBytes } from 'node:crypto';
import { type Clock, systemClock } from '@kura/common';
import { TooManyLoginAttemptsError } from './account.errors.js';
import type { LoginAttemptStore } from './login-attempt-store.port.js';

export interface LoginThrottleOptions {
  /**
   * Failed logins allowed per account (email) within a window, whether or not the account exists.
   * @default 10
   */
  maxFailuresPerAccount?: number;
  /**
   * Failed logins allowed per client address within a window (across all accounts it tries).
   * @default 100
   */
  maxFailuresPerClient?: number;
  /**
   * Window length in seconds.
   * @default 900 (15 minutes)
   */
  windowSeconds?: number;
}

/** A password check the throttle let through; say how it ended. */
export interface LoginAttempt {
  /** The password was right: the account's failures are forgotten, the client's reservation withdrawn. */
  succeeded(): Promise<void>;
  /** The check could not be made (the store failed): the reservation is withdrawn, nothing counted. */
  abandoned(): Promise<void>;
}

interface Scope {
  readonly name: string;
  readonly limit: number;
  readonly current: string;
  readonly previous: string;
}

/**
 * Brute-force protection with no state in the process: attempts are counted in the store per account and per
 * client address, in a sliding window estimated from two fixed windows (the previous one weighted by how much
 * of it still overlaps). Each password check first reserves its place in both counters, atomically and only
 * while they are below the limit, so concurrent guesses cannot all pass one check-then-act read: at most
 * `limit` checks are admitted per window, however many arrive at once. A failed check leaves its reservation
 * as the failure's count; a successful one clears the account and withdraws from the client. Refusals are
 * identical for existing and unknown accounts and come before the password is even checked.
 */
export class LoginThrottle {
  private readonly maxPerAccount: number;
  private readonly maxPerClient: number;
  private readonly windowMs: number;

  constructor(
    private readonly store: LoginAttemptStore,
    options: LoginThrottleOptions = {},
    private readonly clock: Clock = systemClock,
  ) {
    this.maxPerAccount = options.maxFailuresPerAccount ?? 10;
    this.maxPerClient = options.maxFailuresPerClient ?? 100;
    this.windowMs = (options.windowSeconds ?? 900) * 1000;
  }

  /**
   * Reserves one password check for this account and client, or throws `TooManyLoginAttemptsError` (with the
   * seconds until one would be admitted) when either is at its limit.
   */
  async begin(email: string, client: string | undefined): Promise<LoginAttempt> {
    const now = this.clock.now();
    const window = Math.floor(now / this.windowMs);
    const overlap = 1 - (now % this.windowMs) / this.windowMs;
    const scopes = this.scopes(email, client, window);
    const counts = await this.store.counts(scopes.flatMap((scope) => [scope.current, scope.previous]));
    const room = scopes.map((scope, index) => ({
      scope,
      current: counts[2 * index]!,
      previous: counts[2 * index + 1]!,
      below: scope.limit - counts[2 * index + 1]! * overlap,
    }));
    const full = room.find(({ current, below }) => current >= below);
    if (full) throw this.refusal(full.current, full.previous, full.scope.limit, now);

    const attempt = randomBytes(16).toString('base64url');
    const expiresAt = (window + 2) * this.windowMs;
    const outcomes = await Promise.allSettled(room.map(({ scope, below }) => this.store.reserve(scope.current, attempt, below, expiresAt)));
    const reserved = outcomes.map((outcome) => outcome.status === 'fulfilled' && outcome.value);
    const release = () => Promise.all(room.map(({ scope }, index) => (reserved[index] ? this.store.release(scope.current, attempt) : undefined)));
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failed) {
      // No password is checked, so the counters that did take the attempt give it back: a store failure on one
      // counter must not count as a failed login on the other (best effort: the store is likely down).
      await release().catch(() => undefined);
      throw failed.reason;
    }
    const refused = reserved.indexOf(false);
    if (refused >= 0) {
      await release();
      const { scope, below, previous } = room[refused]!;
      throw this.refusal(Math.ceil(below), previous, scope.limit, now);
    }
    const [account, clientScope] = room;
    return {
      succeeded: async () => {
        const forget = [account!.scope.current, ...(account!.previous > 0 ? [account!.scope.previous] : [])];
        await Promise.all([this.store.clear(forget), clientScope && this.store.release(clientScope.scope.current, attempt)]);
      },
      abandoned: async () => {
        await release();
      },
    };
  }

  /**
   * The refusal for a counter at its limit, with how long until an attempt would be admitted if no other
   * came: later in this window as the previous one's weight fades, or in the next as this one's does.
   */
  private refusal(current: number, previous: number, limit: number, now: number): TooManyLoginAttemptsError {
    const windowStart = now - (now % this.windowMs);
    const admittedAt =
      current < limit
        ? windowStart + this.windowMs * (1 - (limit - current) / previous)
        : windowStart + this.windowMs * (2 - limit / current);
    return new TooManyLoginAttemptsError(Math.max(1, Math.ceil((admittedAt - now + 1) / 1000)));
  }

  private scopes(email: string, client: string | undefined, window: number): Scope[] {
    const scope = (name: string, limit: number): Scope => ({
      name,
      limit,
      current: key(name, window),
      previous: key(name, window - 1),
    });
    const scopes = [scope(`account:${digest(email)}`, this.maxPerAccount)];
    if (client) scopes.push(scope(`client:${digest(client)}`, this.maxPerClient));
    return scopes;
  }
}

/** Counter keys hold digests, never an email or an address. */
const digest = (value: string) => createHash('sha256').update(value).digest('base64url').slice(0, 32);
const key = (scope: string, window: number) => `${scope}#${window}`;
