import { recognisedAcrossCopies } from './across-copies.js';
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
    const reason = options?.reason ?? 'the store could not be reached';
    // The reason in the message too: an app that prints an uncaught one (a stack at start, a framework's default
    // handler) shows why, not only that.
    super(`The store did not complete "${operation}": ${reason}`, { cause: options?.cause });
    this.retryAfterSeconds = options?.retryAfterSeconds ?? 1;
    this.reason = reason;
    this.headers = { 'Retry-After': String(this.retryAfterSeconds) };
  }

  readonly retryAfterSeconds: number;

  /**
   * 503, for a framework's own error handler: express's (finalhandler) and Fastify's both answer an error with its
   * `statusCode` and set its `headers`, so an app that has no handler of its own for this error (a stranger's copy
   * of a snippet without it, 2026-12-04) answers 503 with `Retry-After`, not 500. An app's handler (Kura's,
   * `SessionErrorFilter`) answers it as before.
   */
  readonly statusCode = 503;
  /** `Retry-After`, as `retryAfterSeconds` says: set by those handlers. */
  readonly headers: Readonly<Record<string, string>>;

  /** Why the store could not answer, in one line (see the constructor). @default 'the store could not be reached' */
  readonly reason: string;
}
recognisedAcrossCopies(StoreUnavailableError, 'StoreUnavailableError');

/**
 * Runs `work` as upkeep: once the operation it follows has landed (a registration, an ending), what it leaves
 * undone a later call finishes, so the store failing it (`StoreUnavailableError`) fails nothing; any other error is
 * a defect and is thrown. A request answered 503 for upkeep alone was sent again by its client, and met a 401 or a
 * session nobody held. Returns what `work` returned, or `undefined` where the store failed it, which `failed` is
 * told of (to be said somewhere: a failure nobody hears of may be one that never clears, a grant missing).
 */
export async function asUpkeep<T>(work: Promise<T>, failed?: (error: StoreUnavailableError) => void): Promise<T | undefined> {
  try {
    return await work;
  } catch (error) {
    if (!(error instanceof StoreUnavailableError)) throw error;
    failed?.(error);
    return undefined;
  }
}
