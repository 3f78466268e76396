import type { ConnectSessionItem, ConnectSessionStore } from '@kura/common';
import type { Migration } from './migration.js';
import { type MarkSeen, type PreviousStore, seenBy } from './previous-store.js';
import { changesBetween, cookieText, hasChanges, keysKeepingCookie, type SessionChanges, toDocument } from './session-document.js';
import { expiryOf } from './session-expiry.js';
import type { UserSessions } from './user-sessions.js';

/** A session a following replica serves from the previous store: as the app keeps it, and the count of endings it saw. */
export interface SessionThere {
  readonly there: Record<string, unknown>;
  readonly seen: number | undefined;
}

/** What a following replica's save of a session in the previous store knows of its read (none for a new session). */
export interface ThereRead {
  readonly data: ReadonlyMap<string, string>;
  readonly user: string | undefined;
  readonly credential: string | undefined;
  readonly seen: number | undefined;
}

/**
 * `migrateFrom` with `move: false`: a replica that follows the move without making it, the first step of a rollout
 * that logs nobody out. Deployed beside the app's old replicas (which run the previous store alone), it is one of
 * them as they see it: a session KuraStore does not hold it serves from the previous store, and it writes there the
 * logins it makes and the changes to sessions it found there. Deployed beside moving replicas (the second step), it
 * serves from KuraStore every session they moved: their stub there sends it here, and so does their record.
 *
 * The endings still reach every Kura replica: a logout here ends the session in both stores (a failure of the
 * previous store fails it: a session there is live there), a session a record says moved or ended is never served
 * from there, and `destroySessionsOf`'s mark ends a session there written with its user before it (see
 * `Migration.endUser`), when any Kura replica reads it.
 */
export class Following {
  constructor(
    private readonly migration: Migration,
    private readonly previous: PreviousStore,
    private readonly users: UserSessions | undefined,
    private readonly notData: ReadonlySet<string>,
  ) {}

  /**
   * The session `sessionId` (key `id`), which this store did not hold when read: here after all (moved since, by a
   * moving replica), there, or none (ended, or never made). A session there that an ending of its user's sessions
   * came after is ended in both stores.
   */
  async read(items: ConnectSessionStore, sessionId: string, id: string, now: number): Promise<ConnectSessionItem | SessionThere | undefined> {
    // Moved or ended: whatever the previous store holds under the id (an old replica's save over a stub) is not served.
    if (await this.migration.recorded(items, id)) return items.read(id, now);
    const there = await this.previous.get(sessionId);
    if (!there) return undefined;
    // The stub of a move, whose item landed before it.
    if (there.moved) return items.read(id, now);
    const user = this.users?.userOfSession(there.session);
    if (user === undefined) return { there: there.session, seen: undefined };
    const endings = await this.migration.endingsOf(items, user);
    const seen = seenBy(there, user);
    // With credentialOf, the credential too, as a move checks it: a change whose ending failed to leave its mark
    // (destroySessionsOf notes the credential first) still refuses the sessions made with the one it replaced.
    if (endings.end(seen, id) || (await this.migration.replaced(items, user, there.session))) {
      await this.end(items, sessionId, id, now, recordedAs(there.session, now));
      return undefined;
    }
    // An old replica's session (no count) is as live as the endings this read saw say: a save writes that count, so an
    // ending landing after this read ends it still.
    return { there: there.session, seen: seen ?? endings.count };
  }

  /**
   * Saves a session whole to the previous store: one served from there (`read`), or a new one (a login). A session
   * that gets its user here carries the count of endings of that user's sessions it saw, read before it is written
   * (an ending landing meanwhile ends it), and with `credentialOf` its credential is checked as KuraStore checks every
   * save that gives a session its user (refused: deleted there, and `CredentialReplacedError` thrown).
   *
   * A moving replica may have moved the session after this request read it there: this save then wrote over its stub.
   * So a save of a session read there reads the record after writing: moved, the save's changes are made to the
   * moved session here too (only the keys the request changed) and the stub goes back; ended, the session goes from
   * there again. Resolves to what the save's next one compares with.
   */
  async save(items: ConnectSessionStore, sessionId: string, id: string, session: Record<string, unknown>, read: ThereRead | undefined, now: number): Promise<ThereRead> {
    const user = this.users?.userOfSession(session);
    const credential = user === undefined ? undefined : this.users!.credentialOfSession(session);
    const joins = user !== undefined && user !== read?.user;
    // Counted before the write: an ending landing meanwhile ends what this writes.
    const seen = user === undefined ? undefined : joins || read?.seen === undefined ? (await this.migration.endingsOf(items, user)).count : read.seen;
    if (user !== undefined && credential !== undefined && (joins || credential !== read?.credential)) {
      try {
        await this.users!.checkCredential(items, user, credential);
      } catch (error) {
        await this.previous.destroy(sessionId).catch(() => undefined);
        throw error;
      }
    }
    await this.previous.set(sessionId, session, user === undefined ? undefined : { user, count: seen! });
    const data = toDocument(session, this.notData).data;
    if (read && (await this.migration.recorded(items, id))) await this.afterMove(items, sessionId, id, changesBetween(read.data, data), user === read.user, now);
    return { data, user, credential, seen };
  }

  /**
   * The previous store's touch of a session served from there, as old replicas make it. A moving replica may have
   * moved the session since the request read it: the touch (the session's own lifetime) then landed on the stub,
   * which must last the rollout (a stub gone reads as a logout there), so the record is read after it, and a moved
   * session's stub written again.
   */
  async touch(items: ConnectSessionStore, sessionId: string, id: string, session: Record<string, unknown>, seen: MarkSeen | undefined, now: number): Promise<void> {
    await this.previous.touch(sessionId, session, seen);
    if (await this.migration.recorded(items, id)) await this.afterMove(items, sessionId, id, undefined, true, now);
  }

  /**
   * A logout: the session ends in both stores, and its record keeps any copy left there from being served or moved.
   * A session not held here is read there first: its record must outlive a copy an old replica's request in flight
   * writes back, which the previous store keeps for the cookie's lifetime (a "remember me" cookie's 30 days), longer
   * than its own `ttl`.
   */
  async destroy(items: ConnectSessionStore, sessionId: string, id: string, now: number): Promise<void> {
    const item = await items.read(id, now);
    const there = item ? undefined : await this.previous.get(sessionId);
    await this.end(items, sessionId, id, now, item ?? (there && recordedAs(there.session, now)));
  }

  private async end(items: ConnectSessionStore, sessionId: string, id: string, now: number, item: Pick<ConnectSessionItem, 'cookie' | 'expiresAtMs'> | undefined): Promise<void> {
    await this.migration.record(items, id, now, item);
    await items.delete(id, now);
    await this.previous.destroy(sessionId);
  }

  /**
   * A save there that a move (or an ending) came before: its `changes` (none for a touch) go here, and the stub back
   * there. A save that gave the session another user (a login that kept the session id) ends it in both stores
   * instead: what moved is the previous user's, and the login was not checked as a login here is (its user's index,
   * its endings).
   */
  private async afterMove(items: ConnectSessionStore, sessionId: string, id: string, changes: SessionChanges | undefined, sameUser: boolean, now: number): Promise<void> {
    const item = await items.read(id, now);
    if (item && !sameUser) await items.delete(id, now);
    if (!item || !sameUser) return this.previous.destroy(sessionId);
    if (changes && hasChanges(changes)) await items.update(id, undefined, keysKeepingCookie(item, changes), now);
    const movedAtMs = item.movedAtMs ?? now;
    const cookie: unknown = item.cookie === undefined ? undefined : JSON.parse(item.cookie);
    await this.previous.leaveStub(sessionId, this.migration.stubCookieOf(cookie, movedAtMs), movedAtMs);
  }
}

/** A session there as its record counts it: its cookie's lifetime (`Migration.record`), which a copy written back gets. */
function recordedAs(session: Record<string, unknown>, now: number): Pick<ConnectSessionItem, 'cookie' | 'expiresAtMs'> {
  return { cookie: cookieText(session.cookie), expiresAtMs: Math.max(now, expiryOf(session.cookie, now, 0)) };
}
