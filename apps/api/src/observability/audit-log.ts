import { Inject, Injectable } from '@nestjs/common';
import type { IssuedSession } from '@kura/session';
import { KuraLogger } from './kura-logger.js';

/**
 * What the audit log records: every change to who may use an account and its sessions, with who asked, from
 * where, and when (the log line's time), so that an operator can answer "who logged in as this user, from
 * where?", "why was I logged out?" and "who deleted this account?" (OWASP's session lifecycle logging; ASVS 5.0
 * 16.3.1 and 16.2.1). A failed password check is recorded; a refusal before any check (429, past the login
 * limit) is not, so an attacker cannot make the log grow faster than the limits let them guess. A signed-in
 * session refused an operation on the account's sessions (`access.denied`: ASVS 16.3.2, failed authorization) is
 * recorded too; a request refused before any session is known (no session, a cross-site request) is not, for
 * the same reason: only a live session can add such lines.
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
  | 'account.deleted'
  | 'access.denied';

/**
 * Why a signed-in session was refused an operation (`access.denied`): its password was not proved recently enough
 * for it (ending another session, every session, or the account: 403), or the session id it named is none of the
 * user's (another user's, or none at all: 404, as the answer cannot tell them apart either).
 */
export type DeniedReason = 'reauthentication-required' | 'no-such-session';

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
  /** `access.denied`: what was asked (the route's operation), and why it was refused. */
  readonly operation?: 'session.revoke' | 'sessions.revoke-all' | 'account.delete';
  readonly reason?: DeniedReason;
}

/** The request an event belongs to: its id (the `X-Request-Id` answered) and the client's address, if it is one. */
export interface AuditRequest {
  readonly id: string;
  readonly ip: string | undefined;
}

/** Nest injection token for the audit log's settings: whether it writes (`KURA_AUDIT_LOG`), and in JSON. */
export const AUDIT_LOG_OPTIONS = Symbol('kura:audit-log-options');
export interface AuditLogOptions {
  readonly enabled: boolean;
  readonly json: boolean;
}

/**
 * Writes one line per audit event, context `Audit`: JSON with `KURA_LOG_FORMAT=json`, else one `key=value` line
 * (`event=audit action=login.succeeded requestId=… ip=… userId=… sessionId=…`). Through a logger of its own, so
 * that `KURA_LOG_LEVEL=warn` (quieter logs) does not silence the audit: only `KURA_AUDIT_LOG=false` does.
 */
@Injectable()
export class AuditLog {
  private readonly logger: KuraLogger | undefined;

  constructor(@Inject(AUDIT_LOG_OPTIONS) { enabled, json }: AuditLogOptions) {
    this.logger = enabled ? new KuraLogger('Audit', { json, logLevels: ['log'], prefix: 'Kura' }) : undefined;
  }

  record(request: AuditRequest, action: AuditAction, details: AuditDetails): void {
    this.logger?.log({ event: 'audit', action, requestId: request.id, ...(request.ip ? { ip: request.ip } : {}), ...details });
  }

  /** `sessions.evicted` for the sessions a new session ended past the limit on sessions per user, if it ended any. */
  evictions(request: AuditRequest, userId: string, issued: IssuedSession): void {
    if (issued.evicted) this.record(request, 'sessions.evicted', { userId, sessionIds: issued.evicted, by: issued.record.id });
  }
}
