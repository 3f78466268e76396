/**
 * The backing store could not answer in time (unreachable, throttled, timed out, or misconfigured).
 * Nothing was decided: callers must not treat it as "absent" or "denied", and the HTTP layer answers 503.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';

  /**
   * @param operation the store operation that failed, for logs (never contains secrets)
   * @param retryAfterSeconds how long a client should wait before retrying
   * @param reason why, in one line an operator can act on (`table kura-sessions does not exist: run npm run
   *   db:init`, `no AWS credentials: …`); no secret and no address, since readiness answers show it
   */
  constructor(
    readonly operation: string,
    options?: { cause?: unknown; retryAfterSeconds?: number; reason?: string },
  ) {
    super(`The store did not complete "${operation}"`, { cause: options?.cause });
    this.retryAfterSeconds = options?.retryAfterSeconds ?? 1;
    this.reason = options?.reason ?? 'the store could not be reached';
  }

  readonly retryAfterSeconds: number;

  /** Why the store could not answer, in one line (see the constructor). @default 'the store could not be reached' */
  readonly reason: string;
}
