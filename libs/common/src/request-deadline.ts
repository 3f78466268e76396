import { AsyncLocalStorage } from 'node:async_hooks';
import { setMaxListeners } from 'node:events';
import { recognisedAcrossCopies, sharedAcrossCopies } from './across-copies.js';

/**
 * A deadline for every store call one piece of work makes, however many: the DynamoDB and Redis adapters refuse a
 * call begun after it, and cut one under way at it, with `RequestDeadlineError` (each adapter then throws its
 * `StoreUnavailableError`, which an app answers 503 with `Retry-After`).
 *
 * Why: each call is bounded on its own (a timeout per attempt, a few attempts), but a request makes several one
 * after the other, and on AWS Lambda the function's timeout bounds the whole invocation. Calls each slow but
 * within their own bounds could add up past it: Lambda then ends the invocation, and API Gateway answers the client
 * an error of its own with no `Retry-After`, counted by the function-errors alarm. Kura's Lambda handler runs each
 * request under a deadline short of the remaining time, so the request answers 503 itself first.
 */
// One per process, whichever copy of @kura/common set the deadline and whichever reads it (across-copies.ts).
const deadlines = sharedAcrossCopies('request deadlines', () => new AsyncLocalStorage<AbortSignal>());

/** The request's time ran out before a store call could begin or end. */
export class RequestDeadlineError extends Error {
  override readonly name = 'RequestDeadlineError';

  constructor(readonly ms: number) {
    super(`the request's deadline (${ms} ms) passed before the store answered`);
  }
}
recognisedAcrossCopies(RequestDeadlineError, 'RequestDeadlineError');

/**
 * Runs `work` with every store call it makes (through Kura's adapters) bounded by a deadline `ms` from now; the
 * deadline ends with `work`. Nested, the inner call sets its own.
 */
export async function withRequestDeadline<T>(ms: number, work: () => Promise<T>): Promise<T> {
  const bound = Math.max(0, Math.round(ms));
  const controller = new AbortController();
  // Each call under way listens to the signal: a request's calls, and the SDK's attempts, may be many.
  setMaxListeners(0, controller.signal);
  const timer = setTimeout(() => controller.abort(new RequestDeadlineError(bound)), bound);
  try {
    return await deadlines.run(controller.signal, work);
  } finally {
    clearTimeout(timer);
  }
}

/** The deadline the current work runs under, as a signal that aborts when it passes; none outside `withRequestDeadline`. */
export function requestDeadline(): AbortSignal | undefined {
  return deadlines.getStore();
}
