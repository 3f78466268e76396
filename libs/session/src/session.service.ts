import { Inject, Injectable } from '@nestjs/common';
import { ReauthenticationRequiredError, SessionNotFoundError, SessionRejectedError } from './session.errors.js';
import { SESSION_SETTINGS, type SessionSettings } from './session.options.js';
import { SessionCache } from './session-cache.js';
import { generateSessionToken, isWellFormedToken, sessionIdOf } from './session-token.js';
import {
  type AuthenticatedSession,
  type ClientInfo,
  type IssuedSession,
  type SessionRecord,
  type SessionUser,
  effectiveExpiry,
} from './session.types.js';

/** Longest user agent kept on a session: enough to recognise a device, not a place to store payloads. */
const MAX_USER_AGENT = 256;

/**
 * The session lifecycle: issue on login, check on every request (idle and absolute expiry, whatever the
 * store's TTL has or has not deleted yet), extend within a write budget, revoke on logout.
 */
@Injectable()
export class SessionService {
  constructor(
    @Inject(SESSION_SETTINGS) private readonly settings: SessionSettings,
    private readonly cache: SessionCache,
  ) {}

  /** Issues a brand-new session; a token the client already had is never reused. */
  async create(user: SessionUser, client: ClientInfo = {}): Promise<IssuedSession> {
    const { clock, idleTimeoutMs, absoluteTimeoutMs, store } = this.settings;
    const now = clock.now();
    const token = generateSessionToken();
    const absoluteExpiresAt = now + absoluteTimeoutMs;
    const record: SessionRecord = {
      id: sessionIdOf(token),
      user: { id: user.id, email: user.email, name: user.name },
      createdAt: now,
      lastSeenAt: now,
      idleExpiresAt: Math.min(now + idleTimeoutMs, absoluteExpiresAt),
      absoluteExpiresAt,
      authenticatedAt: now,
      ...(client.userAgent ? { userAgent: client.userAgent.slice(0, MAX_USER_AGENT) } : {}),
      ...(client.ip ? { ip: client.ip } : {}),
    };
    await store.insert(record);
    this.settings.events({ type: 'created' });
    return { token, record };
  }

  /**
   * Checks a presented token. Throws `SessionRejectedError` when there is no valid session and lets
   * `StoreUnavailableError` through when the store could not say: an unchecked session is never accepted.
   * With the signed cache on, a valid cache token for this very session stands in for the store read.
   */
  async authenticate(token: string | undefined, cached?: string): Promise<AuthenticatedSession> {
    try {
      return await this.check(token, cached);
    } catch (error) {
      if (error instanceof SessionRejectedError) this.settings.events({ type: 'rejected', reason: error.reason });
      throw error;
    }
  }

  private async check(token: string | undefined, cached?: string): Promise<AuthenticatedSession> {
    if (token === undefined || token === '') throw new SessionRejectedError('missing');
    if (!isWellFormedToken(token)) throw new SessionRejectedError('malformed');
    const id = sessionIdOf(token);
    const fromCache = await this.cache.verify(cached, id);
    if (fromCache) {
      this.settings.events({ type: 'authenticated', source: 'cache' });
      return { token, record: fromCache, extended: false };
    }
    const session = await this.fromStore(token, id);
    this.settings.events({ type: 'authenticated', source: 'store' });
    if (session.extended) this.settings.events({ type: 'extended' });
    if (!this.cache.enabled) return session;
    return { ...session, cache: await this.cache.issue(session.record) };
  }

  private async fromStore(token: string, id: string): Promise<AuthenticatedSession> {
    const { clock, store } = this.settings;
    const now = clock.now();
    const record = await store.find(id, now);
    if (!record) throw new SessionRejectedError('unknown');
    if (effectiveExpiry(record) <= now) throw new SessionRejectedError('expired');
    if (now - record.lastSeenAt < this.settings.refreshIntervalMs) return { token, record, extended: false };

    const change = this.seen(record, now);
    if (!(await store.extend(record.id, change))) throw new SessionRejectedError('revoked');
    return { token, record: { ...record, ...change }, extended: true };
  }

  /** A use of the session at `now`: the idle expiry moves forward, never past the absolute one. */
  private seen(record: SessionRecord, now: number) {
    return {
      lastSeenAt: now,
      idleExpiresAt: Math.min(now + this.settings.idleTimeoutMs, record.absoluteExpiresAt),
      absoluteExpiresAt: record.absoluteExpiresAt,
    };
  }

  /**
   * Records that the user has just proved their password on this session (the caller checked it), which
   * opens the window in which `requireRecentAuthentication` lets it through. Also counts as a use.
   */
  async reauthenticated(session: AuthenticatedSession): Promise<SessionRecord> {
    const { record } = session;
    const now = this.settings.clock.now();
    const change = { ...this.seen(record, now), authenticatedAt: now };
    if (!(await this.settings.store.extend(record.id, change))) throw new SessionRejectedError('revoked');
    this.settings.events({ type: 'reauthenticated' });
    return { ...record, ...change };
  }

  /** Throws `ReauthenticationRequiredError` unless the password was proved on this session within the window. */
  requireRecentAuthentication(record: SessionRecord): void {
    const { clock, reauthenticationWindowMs } = this.settings;
    if (clock.now() - (record.authenticatedAt ?? record.createdAt) > reauthenticationWindowMs) {
      throw new ReauthenticationRequiredError(reauthenticationWindowMs / 1000);
    }
  }

  /** Ends the session a token belongs to, for every process sharing the store. */
  async revoke(token: string): Promise<void> {
    if (!isWellFormedToken(token)) return;
    await this.settings.store.remove(sessionIdOf(token));
    this.settings.events({ type: 'revoked', count: 1 });
  }

  /** The user's live sessions, newest first (from an eventually consistent index: for display, not for decisions). */
  async listOfUser(userId: string): Promise<SessionRecord[]> {
    return this.settings.store.listOfUser(userId, this.settings.clock.now());
  }

  /** Ends one of the user's sessions by its public id; `SessionNotFoundError` if they have no such session. */
  async revokeOwned(userId: string, sessionId: string): Promise<void> {
    if (!(await this.settings.store.removeOwned(sessionId, userId))) throw new SessionNotFoundError();
    this.settings.events({ type: 'revoked', count: 1 });
  }

  /** Ends every session of the user (but `keep`), effective on every replica at once. Returns how many ended. */
  async revokeAllOfUser(userId: string, keep?: string): Promise<number> {
    const count = await this.settings.store.removeAllOfUser(userId, keep);
    this.settings.events({ type: 'revoked', count });
    return count;
  }

  /** Whether the store answers; for readiness probes. */
  async ping(): Promise<void> {
    await this.settings.store.ping();
  }
}
