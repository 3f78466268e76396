import { Inject, Injectable, Logger } from '@nestjs/common';

/**
 * What the audit log records: every change to who may use an account and its sessions, with who asked, from
 * where, and when (the log line's time), so that an operator can answer "who logged in as this user, from
 * where?", "why was I logged out?" and "who deleted this account?" (OWASP's session lifecycle logging; ASVS 5.0
 * 16.3.1 and 16.2.1). A failed password check is recorded; a refusal before any check (429, past the login
 * limit) is not, so an attacker cannot make the log grow faster than the limits let them guess.
 */
export type AuditAction =
  | 'account.registered'
  | 'login.succeeded'
  | 'login.failed'
  | 'logout'
  | 'session.revoked'
  | 'sessions.revoked'
  | 'sessions.evicted'
  | 'password.changed'
  | 'password.check-failed'
  | 'session.reauthenticated'
  | 'account.deleted';

/**
 * The facts of an audit event. Users are named by id, sessions by their public id (`GET /auth/sessions`, a hash
 * of the token): no token, cookie, password or email ever reaches a line. A login for an email with no account
 * says `account: 'none'` (the address typed is not kept: it may be a password typed in the wrong field).
 */
export interface AuditDetails {
  readonly userId?: string;
  readonly account?: 'none';
  readonly sessionId?: string;
  /** Sessions ended (their ids), or how many. */
  readonly sessionIds?: readonly string[];
  readonly count?: number;
  /** The session that asked, where another was acted on. */
  readonly by?: string;
}

/** The request an event belongs to: its id (the `X-Request-Id` answered) and the client's address. */
export interface AuditRequest {
  readonly id: string;
  readonly ip: string;
}

/** Nest injection token: whether audit lines are written (`KURA_AUDIT_LOG`). */
export const AUDIT_LOG_ENABLED = Symbol('kura:audit-log-enabled');

/**
 * Writes one line per audit event, context `Audit`, through the app's logger: JSON with `KURA_LOG_FORMAT=json`,
 * else one `key=value` line (`event=audit action=login.succeeded requestId=… ip=… userId=… sessionId=…`).
 */
@Injectable()
export class AuditLog {
  private readonly logger = new Logger('Audit');

  constructor(@Inject(AUDIT_LOG_ENABLED) private readonly enabled: boolean) {}

  record(request: AuditRequest, action: AuditAction, details: AuditDetails): void {
    if (this.enabled) this.logger.log({ event: 'audit', action, requestId: request.id, ip: request.ip, ...details });
  }
}
