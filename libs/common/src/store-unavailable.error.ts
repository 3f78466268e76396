/**
 * The backing store could not answer in time (unreachable, throttled, timed out, or misconfigured).
 * Nothing was decided: callers must not treat it as "absent" or "denied", and the HTTP layer answers 503.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';

  /**
   * @param operation the store operation that failed, for logs (never contains secrets)
   * @param retryAfterSeconds how long a client should wait before retrying
   */
  constructor(
    readonly operation: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(`The store did not complete "${operation}"`, { cause: options?.cause });
    this.retryAfterSeconds = options?.retryAfterSeconds ?? 1;
  }

  readonly retryAfterSeconds: number;
}
