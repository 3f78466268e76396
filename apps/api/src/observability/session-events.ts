import type { LoggerService } from '@nestjs/common';
import type { SessionEvent } from '@kura/session';

/** How often, at most, a warning line says that idle extensions fail (the first at once, then one per interval). */
const EXTENSION_FAILURES_EVERY_MS = 10_000;

/**
 * What the service does with the session layer's events: counts them (`count`, the Prometheus metrics, when on) and
 * says in a warning line what an operator must hear of though no request failed: idle extensions the store refused.
 * The request goes on (upkeep, see SessionService), so no 503 and no warning of one said it: a failure that never
 * clears (a grant or a Redis ACL missing the write) ended every session at its idle timeout, however active, with
 * nothing in the logs but a metric (a review, 2026-12-07). One line at the first, then at most one per 10 s with how
 * many failed since the last, so a full Redis does not write a line per request.
 */
export function sessionEventsOf(logger: LoggerService, count?: (event: SessionEvent) => void, now: () => number = Date.now): (event: SessionEvent) => void {
  let saidAt = Number.NEGATIVE_INFINITY;
  let unsaid = 0;
  return (event) => {
    count?.(event);
    if (event.type !== 'extension-failed') return;
    unsaid += 1;
    if (now() - saidAt < EXTENSION_FAILURES_EVERY_MS) return;
    logger.warn({ event: 'extension-failed', reason: event.reason, failed: unsaid, detail: 'idle extensions the store did not take: the requests went on, their sessions keep the idle expiry they had (failed: how many since the last such line)' }, 'Session');
    saidAt = now();
    unsaid = 0;
  };
}
