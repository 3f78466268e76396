import { Inject, Injectable } from '@nestjs/common';
import { USER_STORE, type UserStore } from '@kura/accounts';
import { StoreUnavailableError } from '@kura/common';
import { SessionService } from '@kura/session';
import { Lifecycle } from './lifecycle.js';

export const STARTING = 'starting: the session store has not answered yet';
export const STARTING_USERS = 'starting: the user store has not answered yet';
export const DRAINING = 'shutting down';

/**
 * What readiness means for a stateless replica: "send me new requests". It fails only for reasons that belong
 * to this replica: while it starts (until the session store, and the users table where it is apart, have answered
 * it once, which proves its role, region, table names and network path, so a bad rollout never replaces working
 * pods) and while it drains.
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
    @Inject(USER_STORE) private readonly users: Pick<UserStore, 'ping'>,
  ) {}

  /**
   * Why this replica should get no new requests, or undefined when it should. While starting, the store's own
   * reason follows (`starting: ...: table kura-sessions does not exist: run npm run db:init`).
   */
  async notReadyReason(): Promise<string | undefined> {
    if (this.lifecycle.draining) return DRAINING;
    if (this.started) return undefined;
    return this.firstContact();
  }

  /** One round of pings at a time, however many probes overlap, until one succeeds: what went wrong, or undefined. */
  private firstContact(): Promise<string | undefined> {
    this.contact ??= this.contactOnce().finally(() => (this.contact = undefined));
    return this.contact;
  }

  /**
   * The users table too, where it is apart (DynamoDB): with only the sessions' pinged, a wrong KURA_USERS_TABLE, or a
   * role not allowed it, made a ready replica that answered every login and registration 503.
   */
  private async contactOnce(): Promise<string | undefined> {
    const problem = (await failureOf(this.sessions.ping(), STARTING)) ?? (await failureOf(this.users.ping?.(), STARTING_USERS));
    if (problem === undefined) this.started = true;
    return problem;
  }
}

/** Why `call` failed, after `starting`, or undefined when it succeeded. */
function failureOf(call: Promise<void> | undefined, starting: string): Promise<string | undefined> {
  return Promise.resolve(call).then(
    () => undefined,
    (error: unknown) => (error instanceof StoreUnavailableError ? `${starting}: ${error.reason}` : starting),
  );
}
