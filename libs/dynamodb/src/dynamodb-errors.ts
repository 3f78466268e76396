import { StoreUnavailableError } from '@kura/common';

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'LimitExceededException',
]);

export function isConditionalCheckFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/**
 * Every failure the adapter does not turn into a domain answer becomes `StoreUnavailableError`: network
 * errors, timeouts, throttling after the SDK's retries, server errors, a missing table. The store could not
 * decide, so nothing may be treated as absent or denied.
 */
export function storeUnavailable(operation: string, error: unknown): StoreUnavailableError {
  if (error instanceof StoreUnavailableError) return error;
  const throttled = error instanceof Error && THROTTLING.has(error.name);
  return new StoreUnavailableError(operation, { cause: error, retryAfterSeconds: throttled ? 2 : 1 });
}
