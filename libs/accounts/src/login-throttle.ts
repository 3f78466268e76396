import { createHash } from 'node:crypto';
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

/**
 * Brute-force protection with no state in the process: failed logins are counted in the store per account
 * and per client address, in a sliding window estimated from two fixed windows (the previous one weighted
 * by how much of it still overlaps). Past a limit, logins are refused before the password is even checked,
 * identically for existing and unknown accounts.
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
   * Throws `TooManyLoginAttemptsError` when the account or the client is over its limit. Otherwise returns
   * whether the account has failures on record (only then does a success have anything to clear).
   */
  async check(email: string, client: string | undefined): Promise<{ accountHasFailures: boolean }> {
    const now = this.clock.now();
    const window = Math.floor(now / this.windowMs);
    const overlap = 1 - (now % this.windowMs) / this.windowMs;
    const scopes = this.scopes(email, client);
    const keys = scopes.flatMap(({ scope }) => [key(scope, window), key(scope, window - 1)]);
    const counts = await this.store.counts(keys);
    scopes.forEach(({ limit }, index) => {
      const estimate = counts[2 * index]! + counts[2 * index + 1]! * overlap;
      if (estimate >= limit) throw new TooManyLoginAttemptsError(Math.ceil((this.windowMs - (now % this.windowMs)) / 1000));
    });
    return { accountHasFailures: counts[0]! + counts[1]! > 0 };
  }

  async recordFailure(email: string, client: string | undefined): Promise<void> {
    const window = Math.floor(this.clock.now() / this.windowMs);
    const keys = this.scopes(email, client).map(({ scope }) => key(scope, window));
    await this.store.increment(keys, (window + 2) * this.windowMs);
  }

  /** A successful login clears the account's count (not the client's: one address may try many accounts). */
  async recordSuccess(email: string): Promise<void> {
    const window = Math.floor(this.clock.now() / this.windowMs);
    const scope = accountScope(email);
    await this.store.clear([key(scope, window), key(scope, window - 1)]);
  }

  private scopes(email: string, client: string | undefined) {
    const scopes = [{ scope: accountScope(email), limit: this.maxPerAccount }];
    if (client) scopes.push({ scope: `client:${digest(client)}`, limit: this.maxPerClient });
    return scopes;
  }
}

/** Counter keys hold digests, never an email or an address. */
const digest = (value: string) => createHash('sha256').update(value).digest('base64url').slice(0, 32);
const accountScope = (email: string) => `account:${digest(email)}`;
const key = (scope: string, window: number) => `${scope}#${window}`;
