import { StoreUnavailableError } from '@kura/common';

/** One line an operator can act on, from what node-redis threw; no address, no secret. */
function reasonOf(error: unknown): string {
  const name = error instanceof Error ? error.constructor.name || error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ReplicaAckError) {
    return `only ${error.acknowledged} of ${error.required} replica(s) confirmed the write within ${error.timeoutMs} ms, so it might not survive a failover (retrying is safe)`;
  }
  if (name === 'ClientOfflineError' || name === 'ClientClosedError' || /offline|closed/i.test(message)) {
    return 'Redis is not connected (the client reconnects in the background; commands are not queued meanwhile)';
  }
  if (name === 'TimeoutError' || name === 'CommandTimeoutDuringMaintenanceError' || /timeout/i.test(message)) {
    return 'Redis did not answer within the command timeout';
  }
  if (name === 'ConnectionTimeoutError') return 'Redis could not be reached within the connect timeout';
  if (/^NOAUTH|^WRONGPASS/.test(message)) return 'Redis refused the credentials (check the connection URL)';
  if (/^OOM/.test(message)) return 'Redis is out of memory (maxmemory reached)';
  if (/^READONLY/.test(message)) return 'Redis answered from a read-only replica (a failover is under way, or the URL names a replica)';
  if (/^LOADING/.test(message)) return 'Redis is still loading its dataset';
  if (/^CROSSSLOT|^MOVED|^ASK/.test(message)) return 'Redis Cluster redirected a command: use a cluster-aware client';
  return 'the store could not be reached';
}

/** Any failure to use Redis, as the domain error every store throws. */
export function storeUnavailable(operation: string, error: unknown): StoreUnavailableError {
  if (error instanceof StoreUnavailableError) return error;
  return new StoreUnavailableError(operation, { cause: error, reason: reasonOf(error) });
}

/** A durable write that fewer replicas than required acknowledged within the WAIT timeout. */
export class ReplicaAckError extends Error {
  constructor(
    readonly acknowledged: number,
    readonly required: number,
    readonly timeoutMs: number,
  ) {
    super(`WAIT: ${acknowledged} of ${required} replica(s) acknowledged the write within ${timeoutMs} ms`);
  }
}
