import { Inject, Injectable } from '@nestjs/common';
import pLimit from 'p-limit';
import { addressOf, asUpkeep } from '@kura/common';
import {
  InvalidSessionUserError,
  ReauthenticationRequiredError,
  SessionNotFoundError,
  SessionRejectedError,
  StaleCredentialsError,
} from './session.errors.js';
import { SESSION_SETTINGS, type SessionSettings } from './session.options.js';
import { SessionCache } from './session-cache.js';
import type { RegisterEntry } from './session-store.port.js';
import { generateSessionToken, isWellFormedToken, sessionIdOf } from './session-token.js';
import {
  type AuthenticatedSession,
  type ClientInfo,
  type IssuedSession,
  type SessionRecord,
  type SessionUser,
  dataIdOf,
  effectiveExpiry,
} from './session.types.js';

/** Longest user agent kept on a session: enough to recognise a device, not a place to store payloads. */
const MAX_USER_AGENT = 256;

/** Sessions ended at once by a sweep: enough to be quick, few enough not to trip the engine's throttling. */
const SWEEP_CONCURRENCY = 8;

/** What a route needs besides the checked session. */
export interface AuthenticateOptions {
  /**
   * The session's data too, read in the same round trip when the store can (`findWithData`): the route reads or
   * changes it next. Only a store read brings it (not the signed cache).
   */
  readonly withData?: boolean;
  /**
   * A new signed cache token for the session, when the cache is on and the store was read (`cache` in the
   * answer). Ask for one only on a route where the cache may be used (one that only reads): a route that ends or
   * changes the session would otherwise hand out a token vouching for what it has just ended, which a bearer
   * client keeps (a cookie client's cache cookie is cleared with its session, but a header cannot be).
   */
  readonly issueCache?: boolean;
}

/** How a new session comes to be. */
export interface CreateSessionOptions {
  /**
   * The version of the user's credentials that was just checked or set; the app raises it with every password
   * change. The first session issued on a newer version ends every session issued on older ones (so a
   * password change is: store the new hash, then `create` with the new version), and a login that checked
   * credentials older than the newest version registered is refused with `StaleCredentialsError` before its
   * token leaves.
   * @default 0
   */
  readonly credentialVersion?: number | undefined;
  /**
   * The token the client presented with this login, if any: that session ends (a login never keeps it).
   * `undefined` is none, so that `replaces: this.transport.read(request).token` type-checks under
   * `exactOptionalPropertyTypes`.
   */
  readonly replaces?: string | undefined;
}


/** The register entry `closeAll` leaves: never a session's id (those are 43 characters of base64url). */
const CLOSED_REGISTER_ENTRY = 'closed';

/**
 * The session lifecycle: issue on login, check on every request (idle and absolute expiry, whatever the
 * store's TTL has or has not deleted yet), extend within a write budget, revoke on logout.
 *
 * Ordering is what makes revocation sound (argued in docs/concurrency.md): a login writes its session first
 * and registers it with its user second, and only then hands out the token; a sweep reads the register and
 * ends what it names. So a session whose login was answered before a sweep began is always found by it, and a
 * login whose credentials a password change replaced is refused by the register before its token leaves.
 */
@Injectable()
export class SessionService {
  constructor(
    @Inject(SESSION_SETTINGS) private readonly settings: SessionSettings,
    private readonly cache: SessionCache,
  ) {}

  /** Issues a brand-new session; a token the client already had is never reused (it ends, see `replaces`). */
  async create(user: SessionUser, client: ClientInfo = {}, options: CreateSessionOptions = {}): Promise<IssuedSession> {
    checkSessionUser(user);
    // The session the client presented ends right after: it does not count against the limit on sessions.
    const replaced = options.replaces && isWellFormedToken(options.replaces) ? sessionIdOf(options.replaces) : undefined;
    let ended: Awaited<ReturnType<SessionService['revoke']>>;
    const issued = await this.issue(user, client, options.credentialVersion ?? 0, {
      replaced,
      replace: async () => {
        if (options.replaces) ended = await this.revoke(options.replaces);
      },
    });
    this.settings.events({ type: 'created' });
    return ended?.live ? { ...issued, replaced: { userId: ended.userId, sessionId: ended.sessionId } } : issued;
  }

  /**
   * Writes and registers a new session, as a login does, then runs the caller's `replace` (ending the session the
   * client presented, `replaced`, which neither counts against the limit nor is among the older sessions ended here),
   * and last makes room under the limit: a login whose `replace` fails ends no other session for a session it then
   * abandons (a re-authentication racing another of the same session, the one that lost, had evicted another device's
   * session: the interleaving spec). If any step fails, the new session is abandoned. The caller says `created`.
   */
  private async issue(
    user: SessionUser,
    client: ClientInfo,
    credentialVersion: number,
    { dataId, replaced, replace }: { dataId?: string; replaced?: string; replace?: (record: SessionRecord) => Promise<void> } = {},
  ): Promise<IssuedSession> {
    const { clock, idleTimeoutMs, absoluteTimeoutMs, store } = this.settings;
    const now = clock.now();
    const token = generateSessionToken();
    const absoluteExpiresAt = now + absoluteTimeoutMs;
    const record: SessionRecord = {
      id: sessionIdOf(token),
      user: { id: user.id, ...(user.email === undefined ? {} : { email: user.email }), name: user.name ?? null },
      createdAt: now,
      lastSeenAt: now,
      idleExpiresAt: Math.min(now + idleTimeoutMs, absoluteExpiresAt),
      absoluteExpiresAt,
      authenticatedAt: now,
      ...(dataId ? { dataId } : {}),
      ...(client.userAgent ? { userAgent: client.userAgent.slice(0, MAX_USER_AGENT) } : {}),
      ...(addressOf(client.ip) ? { ip: addressOf(client.ip) } : {}),
    };
    // The item first, the register second: a sweep that finds the entry always finds the item to end.
    let inserted = false;
    try {
      await store.insert(record);
      inserted = true;
      const registered = await store.register(user.id, { id: record.id, absoluteExpiresAt, credentialVersion }, now);
      if (registered.outcome === 'stale') throw new StaleCredentialsError();
      // Sessions on older credentials end now: this is a password change's sweep (or finishes one that died).
      const older = registered.older.filter((entry) => entry.id !== replaced);
      if (older.length > 0) await this.endAll(user.id, older);
      await replace?.(record);
      let evicted: readonly string[] = [];
      if (this.settings.maxSessionsPerUser !== undefined) {
        // Read after this registration, the register would also name logins registered later, which this one must
        // not end: only the register's own answer says what was there before.
        if (!registered.current) throw new Error('maxSessionsPerUser needs a session store whose register() answers `current` (every adapter in Kura does)');
        evicted = await this.keepWithinLimit(user.id, registered.current.filter((entry) => entry.id !== record.id && entry.id !== replaced));
      }
      return evicted.length > 0 ? { token, record, evicted } : { token, record };
    } catch (error) {
      // The item's own write failed: the store did not answer it (an outage, most likely), and ending what it may have
      // written waits as long again for the same store, which doubled the 503's delay (6 s with DynamoDB's default
      // bounds, past a proxy's 5 s: an outside review). It is ended all the same, without holding the answer.
      if (inserted) await this.abandon(record);
      else void this.abandon(record);
      throw error;
    }
  }

  /**
   * Ends a session whose token never left this process (a login or re-authentication refused, or failed, after it
   * was written): left live, the user would find a session nobody holds among theirs, taking a place under the limit
   * until its idle expiry. Data it took over (a re-authentication's) stays. If the store cannot end it, the caller's
   * answer is the failure all the same.
   */
  private async abandon(record: SessionRecord): Promise<void> {
    await this.settings.store.end(record.id, this.settings.clock.now(), { keepData: record.dataId !== undefined }).catch(() => undefined);
  }

  /**
   * After a login registered its session: when the user's other sessions (`others`, as the register held them
   * with the new one in) leave no room for it under `maxSessionsPerUser`, ends the least recently used of them
   * until it fits, and returns the ids of those it ended while they were live. Reads those sessions only then,
   * in parallel. A session the store does not return (ended, or past its idle expiry, which a use already in
   * flight could still push forward) takes no room and is ended too, for good, so that no use can bring it back
   * out of the limit's sight; ending an ended one changes nothing. The reads must be strongly consistent (the
   * default; `KURA_CONSISTENT_READS=false` is refused with a limit): a session inserted a moment before that a
   * read did not show would be ended. Once every login of a user has answered, the last to register has made
   * room among everything registered before it, so the user has at most the limit (docs/concurrency.md, G7).
   */
  private async keepWithinLimit(userId: string, others: readonly RegisterEntry[]): Promise<readonly string[]> {
    const { clock, maxSessionsPerUser: max = Infinity, store } = this.settings;
    if (others.length < max) return [];
    const now = clock.now();
    const limit = pLimit(SWEEP_CONCURRENCY);
    // `find` returns no record past its expiry (the port's contract): what it returns is live.
    const records = await Promise.all(others.map((entry) => limit(() => store.find(entry.id, now))));
    const gone = others.filter((_, index) => !records[index]);
    const live = others
      .flatMap((entry, index) => (records[index] ? [{ entry, record: records[index] }] : []))
      .sort((a, b) => a.record.lastSeenAt - b.record.lastSeenAt || a.record.createdAt - b.record.createdAt || (a.entry.id < b.entry.id ? -1 : 1));
    const excess = Math.max(0, live.length - (max - 1));
    const chosen = live.slice(0, excess).map(({ entry }) => entry);
    if (chosen.length === 0 && gone.length === 0) return [];
    const ended = await this.endEntries(userId, [...chosen, ...gone], 'evicted');
    return ended.filter(({ live: wasLive }) => wasLive).map(({ id }) => id);
  }

  /**
   * Checks a presented token. Throws `SessionRejectedError` when there is no valid session and lets
   * `StoreUnavailableError` through when the store could not say: an unchecked session is never accepted.
   * With the signed cache on, a valid cache token for this very session stands in for the store read; pass
   * one only where the request changes nothing (the cache cannot know of a revocation).
   */
  async authenticate(token: string | undefined, cached?: string, options: AuthenticateOptions = {}): Promise<AuthenticatedSession> {
    // One async frame for the whole check: a request on the hot path pays for as few promises as it can.
    try {
      if (token === undefined || token === '') throw new SessionRejectedError('missing');
      if (!isWellFormedToken(token)) throw new SessionRejectedError('malformed');
      const id = sessionIdOf(token);
      const fromCache = this.fromCache(token, id, cached);
      if (fromCache) return fromCache;
      const session = await this.fromStore(token, id, options.withData === true);
      this.settings.events({ type: 'authenticated', source: 'store' });
      if (session.extended) this.settings.events({ type: 'extended' });
      if (!this.cache.enabled || options.issueCache !== true) return session;
      return { ...session, cache: await this.cache.issue(session.record) };
    } catch (error) {
      if (error instanceof SessionRejectedError) this.settings.events({ type: 'rejected', reason: error.reason });
      throw error;
    }
  }

  /**
   * The session a signed cache token vouches for, checked at once, with no store read and no promise: the
   * guard's path for a request the cache answers. `undefined` when the cache cannot vouch (no cache or no cache
   * token, a token missing or malformed, a cache token that does not verify, is out of force or names another
   * session): then `authenticate` decides, and throws where it must. The same rule as `authenticate`'s.
   */
  vouchedByCache(token: string | undefined, cached: string | undefined): AuthenticatedSession | undefined {
    if (cached === undefined || token === undefined || !this.cache.enabled || !isWellFormedToken(token)) return undefined;
    return this.fromCache(token, sessionIdOf(token), cached);
  }

  /** The session a cache token vouches for, given a well-formed token and its session id. */
  private fromCache(token: string, id: string, cached: string | undefined): AuthenticatedSession | undefined {
    const record = this.cache.verify(cached, id);
    if (!record) return undefined;
    this.settings.events({ type: 'authenticated', source: 'cache' });
    return { token, record, extended: false };
  }

  private async fromStore(token: string, id: string, withData: boolean): Promise<AuthenticatedSession> {
    const { clock, store, dataStore } = this.settings;
    const now = clock.now();
    const { record, data } = withData && dataStore && store.findWithData ? await store.findWithData(id, now, dataStore) : { record: await store.find(id, now), data: undefined };
    if (!record) throw new SessionRejectedError('unknown');
    if (effectiveExpiry(record) <= now) throw new SessionRejectedError('expired');
    // The document read under `id` is this session's data only if the session keeps its data under its own id.
    const own = data !== undefined && dataIdOf(record) === id ? { data } : {};
    if (now - record.lastSeenAt < this.settings.refreshIntervalMs) return { token, record, extended: false, ...own };

    const change = this.seen(record, now);
    // The session was read live; moving its idle expiry is upkeep that the next request does again. A store that
    // cannot take the write now (Redis full under noeviction, a write that timed out) leaves the request going on
    // as one within the refresh interval does, on the session as read (the write may still have landed, in part or
    // whole: its idle expiry is then later, never past its absolute one). Refused, it failed every request of a
    // session due for it, logout-all and revocations too (an outside review, 2026-12-07: GET /auth/me and POST
    // /auth/logout-all answered 503 on a full Redis). Told as an event with the store's reason: a failure that never
    // clears (a grant missing) ends every session at its idle timeout, however active (a review of that change).
    const extended = await asUpkeep(store.extend(record.id, change), (error) => this.settings.events({ type: 'extension-failed', reason: error.reason }));
    if (extended === undefined) return { token, record, extended: false, ...own };
    if (!extended) throw new SessionRejectedError('revoked');
    return { token, record: { ...record, ...change }, extended: true, ...own };
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
   * The user has just proved their password on this session (the caller checked it): like a login, this issues a
   * new session and ends the presented one (ASVS 7.2.4). The new session takes over the data where it is (the same
   * data id), so an update racing the renewal lands in it and nothing is copied or lost. It opens the window in
   * which `requireRecentAuthentication` lets it through. A session revoked meanwhile is not renewed
   * (`SessionRejectedError`: the ending finds it ended by another call, and the new session, never handed out,
   * ends). The presented session ends last, as a login's: a failure before (a 503) leaves the client its session,
   * and the re-authentication sent again renews it.
   */
  async reauthenticated(session: AuthenticatedSession, client: ClientInfo = {}, credentialVersion = 0): Promise<IssuedSession> {
    const { clock, dataStore, store } = this.settings;
    const previous = session.record;
    const device = { userAgent: previous.userAgent, ip: previous.ip, ...client };
    const issued = await this.issue(previous.user, device, credentialVersion, {
      dataId: dataIdOf(previous),
      replaced: previous.id,
      replace: async (record) => {
        // The data lasts as long as the new session: kept, or with none written yet created empty at version 0 (its
        // ETag stays "0"), so that a patch the old session authenticated, still on its way, merges into it and keeps
        // that expiry instead of creating it with the old session's (the engine would then drop it, acknowledged
        // patch and all, while the new session lived on: the review of 2026-12-05).
        if (dataStore) await dataStore.retain(dataIdOf(previous), record.absoluteExpiresAt);
        const ended = await store.end(previous.id, clock.now(), { keepData: true });
        if (!ended?.live) throw new SessionRejectedError('revoked');
        await this.unregisterEnded(ended.userId, [previous.id]);
      },
    });
    this.settings.events({ type: 'created' });
    this.settings.events({ type: 'reauthenticated' });
    return issued;
  }

  /** Throws `ReauthenticationRequiredError` unless the password was proved on this session within the window. */
  requireRecentAuthentication(record: SessionRecord): void {
    const { clock, reauthenticationWindowMs } = this.settings;
    if (clock.now() - (record.authenticatedAt ?? record.createdAt) > reauthenticationWindowMs) {
      throw new ReauthenticationRequiredError(reauthenticationWindowMs / 1000);
    }
  }

  /**
   * Ends the session a token belongs to, for every process sharing the store, and says which it was (whose, its
   * id, and whether it was still usable); ending an unknown token is a no-op (`undefined`).
   */
  async revoke(token: string): Promise<{ readonly userId: string; readonly sessionId: string; readonly live: boolean } | undefined> {
    if (!isWellFormedToken(token)) return undefined;
    const id = sessionIdOf(token);
    const ended = await this.settings.store.end(id, this.settings.clock.now());
    if (!ended) return undefined;
    await this.unregisterEnded(ended.userId, [id]);
    if (ended.live) this.settings.events({ type: 'revoked', count: 1 });
    return { userId: ended.userId, sessionId: id, live: ended.live };
  }

  /**
   * The user's newest live sessions, at most `limit`, newest first (from an eventually consistent index: for
   * display, not for decisions; revocation never depends on it).
   */
  async listOfUser(userId: string, limit: number): Promise<SessionRecord[]> {
    return this.settings.store.listOfUser(userId, this.settings.clock.now(), limit);
  }

  /**
   * Ends one of the user's sessions by its public id; `SessionNotFoundError` if they have no such session.
   * Resolves to whether it was still live (`false`: it had ended already, and nothing changed).
   */
  async revokeOwned(userId: string, sessionId: string): Promise<boolean> {
    const ended = await this.settings.store.end(sessionId, this.settings.clock.now(), { owner: userId });
    if (!ended) throw new SessionNotFoundError();
    await this.unregisterEnded(userId, [sessionId]);
    if (ended.live) this.settings.events({ type: 'revoked', count: 1 });
    return ended.live;
  }

  /**
   * Ends every session of the user (but `keep`), effective on every replica at once. A session whose login was
   * answered before this call began is always among them. Returns how many live sessions ended.
   */
  async revokeAllOfUser(userId: string, keep?: string): Promise<number> {
    const entries = await this.settings.store.registered(userId);
    return this.endAll(userId, entries.filter((entry) => entry.id !== keep));
  }

  /**
   * Ends every session of the user (but `keep`) and moves their register to `credentialVersion` without a new
   * session: a login that checked older credentials and registers after this is refused
   * (`StaleCredentialsError`), and one that registered before is among those ended. For an account's deletion
   * (after `AccountService.closeAccount`, which raised the version). Returns how many live sessions ended.
   */
  async closeAll(userId: string, credentialVersion: number, keep?: string): Promise<number> {
    const { clock, store } = this.settings;
    const now = clock.now();
    // An entry no session holds, expired at once (so the next registration drops it): only the version stays.
    const registered = await store.register(userId, { id: CLOSED_REGISTER_ENTRY, absoluteExpiresAt: now, credentialVersion }, now);
    if (registered.outcome === 'stale') return this.revokeAllOfUser(userId, keep);
    return this.endAll(userId, registered.older.filter((entry) => entry.id !== keep));
  }

  /** Ends the sessions, then drops them from the register; returns how many were still live. */
  private async endAll(userId: string, entries: readonly RegisterEntry[]): Promise<number> {
    if (entries.length === 0) return 0;
    return (await this.endEntries(userId, entries, 'revoked')).filter((session) => session.live).length;
  }

  /** Ends the sessions, then drops them from the register; says of each whether it was still live. */
  private async endEntries(userId: string, entries: readonly RegisterEntry[], why: 'revoked' | 'evicted'): Promise<{ id: string; live: boolean }[]> {
    const { clock, store } = this.settings;
    const now = clock.now();
    const limit = pLimit(SWEEP_CONCURRENCY);
    const ended = await Promise.all(entries.map(async (entry) => ({ id: entry.id, live: (await limit(() => store.end(entry.id, now)))?.live === true })));
    await this.unregisterEnded(userId, entries.map((entry) => entry.id));
    this.settings.events({ type: why, count: ended.filter((session) => session.live).length });
    return ended;
  }

  /**
   * Drops ended sessions from their user's register, if the store lets it: a cleanup, which fails no request once the
   * endings have landed. An entry left names a tombstone, which a sweep ends again as not live, a login under a limit
   * takes as gone (and ends and drops), and a registration past its absolute expiry drops (G3 holds: only entries of
   * live sessions matter). Answered 503, it left the client holding a session already ended: sent again, as a 503 asks,
   * a logout by id, an account's deletion or a re-authentication met a 401 (the review of 2026-12-05).
   */
  private async unregisterEnded(userId: string, ids: readonly string[]): Promise<void> {
    await asUpkeep(this.settings.store.unregister(userId, ids));
  }

  /** Ends every session of every user; the operator's last resort. Returns how many were live. */
  async revokeAll(): Promise<number> {
    return this.settings.store.removeAll(this.settings.clock.now());
  }

  /** Whether the store answers; for readiness probes. */
  async ping(): Promise<void> {
    await this.settings.store.ping();
  }
}

/** The most UTF-8 bytes a session's user `id`, `email` or `name` may have (`InvalidSessionUserError` beyond). */
export const MAX_SESSION_USER_FIELD_BYTES = 1024;

/** Refuses, before anything is written, a user no store could key or should copy into every session. */
function checkSessionUser(user: SessionUser): void {
  if (typeof user.id !== 'string' || user.id === '') throw new InvalidSessionUserError('id', 'must be a non-empty string');
  for (const field of ['id', 'email', 'name'] as const) {
    const value = user[field];
    if (typeof value === 'string' && Buffer.byteLength(value, 'utf8') > MAX_SESSION_USER_FIELD_BYTES) {
      throw new InvalidSessionUserError(field, `is over ${MAX_SESSION_USER_FIELD_BYTES} bytes`);
    }
  }
}
