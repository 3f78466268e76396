import { StoreUnavailableError } from '@kura/common';

/** One line an operator can act on, from what node-redis threw; no address, no secret. */
function reasonOf(error: unknown): string {
  const name = error instanceof Error ? error.constructor.name || error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'ClientOfflineError' || name === 'ClientClosedError' || /offline|closed/i.test(message)) {
    return 'Redis is not connected (the client reconnects in the background; commands are not queued meanwhile)';
  }
  if (name === 'TimeoutError' || name === 'CommandTimeoutDuringMaintenanceError' || /timeout/i.test(message)) {
    return 'Redis did not answer within the command timeout';
  }
  if (name === 'ConnectionTimeoutError') return 'Redis could not be reached within the connect timeout';
  if (/^NOAUTH|^WRONGPASS/.test(message)) return 'Redis refused the credentials (check the connection URL)';
  if (/^OOM/.test(message)) return 'Redis is out of memory (maxmemory reached)';
  if (/^READONLY/.test(message)) return 'Redis answered from a read-only replica (connect to the primary)';
  if (/^LOADING/.test(message)) return 'Redis is still loading its dataset';
  if (/^CROSSSLOT|^MOVED|^ASK/.test(message)) return 'Redis Cluster redirected a command: use a cluster-aware client';
  return 'the store could not be reached';
}

/** Any failure to use Redis, as the domain error every store throws. */
export function storeUnavailable(operation: string, error: unknown): StoreUnavailableError {
  if (error instanceof StoreUnavailableError) return error;
  return new StoreUnavailableError(operation, { cause: error, reason: reasonOf(error) });
}
