import { Injectable } from '@nestjs/common';
import { StoreUnavailableError } from '@kura/common';
import { SessionService } from '@kura/session';
import { Lifecycle } from './lifecycle.js';

export const STARTING = 'starting: the session store has not answered yet';
export const DRAINING = 'shutting down';

/**
 * What readiness means for a stateless replica: "send me new requests". It fails only for reasons that belong
 * to this replica: while it starts (until the session store has answered it once, which proves its role,
 * region, table names and network path, so a bad rollout never replaces working pods) and while it drains.
 *
 * A store outage later does not make it unready, on purpose. Every replica shares the store, so a readiness
 * that followed it would take them all out of the Service at once: clients would get no endpoint (a bare
 * 502/503 from the ingress) instead of Kura's own 503 with Retry-After, the routes that need no store would go
 * dark too, and recovery would wait for probes to pass again. A replica cannot tell a shared outage from its
 * own, so it keeps answering; `/health/store` and the store metrics report the store for dashboards and alerts.
 */
@Injectable()
export class Readiness {
  private started = false;
  private contact: Promise<string | undefined> | undefined;

  constructor(
    private readonly lifecycle: Lifecycle,
    private readonly sessions: SessionService,
  ) {}

  /**
   * Why this replica should get no new requests, or undefined when it should. While starting, the store's own
   * reason follows (`starting: ...: table kura-sessions does not exist: run npm run db:init`).
   */
  async notReadyReason(): Promise<string | undefined> {
    if (this.lifecycle.draining) return DRAINING;
    if (this.started) return undefined;
    const problem = await this.firstContact();
    return problem === undefined ? undefined : problem === '' ? STARTING : `${STARTING}: ${problem}`;
  }

  /** One ping at a time, however many probes overlap, until one succeeds: what went wrong, or undefined. */
  private firstContact(): Promise<string | undefined> {
    this.contact ??= this.sessions
      .ping()
      .then(
        () => {
          this.started = true;
          return undefined;
        },
        (error: unknown) => (error instanceof StoreUnavailableError ? error.reason : ''),
      )
      .finally(() => (this.contact = undefined));
    return this.contact;
  }
}
