import { hash } from 'node:crypto';
import { type ConnectSessionItem, type ConnectSessionStore, StoreUnavailableError } from '@kura/common';
import { CredentialReplacedError } from './credential-replaced.error.js';
import { type PreviousStore, seenBy } from './previous-store.js';
import { changesBetween, fromDocument, hasChanges, keysKeepingCookie, toDocument } from './session-document.js';
import { expiryOf } from './session-expiry.js';
import { checkSize, SessionTooLargeError } from './session-too-large.error.js';
import { indexNote, type UserSessions } from './user-sessions.js';

/** The endings of a user's sessions still in the previous store (`Migration.endingsOf`). */
export interface Endings {
  /** How many there were: what a session written with the user now has seen. */
  readonly count: number;
  /** Whether one came after the session `id` was written with its user (`seen`: the count it saw; none, an old replica's) and does not spare it. */
  end(seen: number | undefined, id: string): boolean;
}

/** What `Migration` needs of its store's settings. */
export interface MigrationSettings {
  readonly previous: PreviousStore;
  /** How long after a session moved old replicas may still run the previous store (ms). */
  readonly rolloutMs: number;
  /** How long the previous store keeps a session whose cookie has no expiry (ms). */
  readonly previousTtlMs: number;
  readonly ttlMs: number;
  readonly absoluteTtlMs: number | undefined;
  readonly users: UserSessions | undefined;
  /** Keys KuraStore does not treat as session data (the read marker). */
  readonly notData: ReadonlySet<string>;
}

/**
 * Slack for clocks that differ between replicas and the stores: a record outlives what it guards, and a stub the
 * rollout, by this much.
 */
const MARGIN_MS = 5 * 60_000;
/**
 * Longer than a move takes (its calls are each bounded, by `migrateFrom.timeoutMs` and the storage's timeouts):
 * until then, a read of the moved session leaves a whole session there to the move's own second read.
 */
const MOVE_SETTLE_MS = 30_000;
/** The entry of a session's record that it was moved or ended, and of a user's that their unmoved sessions ended. */
const ENTRY = 'previous-store';
/**
 * Where a session's record lives: a set of its own under the user-index methods of the port (a set whose expiry
 * only ever moves later), keyed apart from any user's index and from the session itself.
 */
const recordKeyOf = (id: string): string => hash('sha256', `previous-moved\u0000${id}`, 'base64url');
/** Where a user's mark of `destroySessionsOf` lives. */
const userMarkKeyOf = (userId: string): string => hash('sha256', `previous-ended\u0000${userId}`, 'base64url');
/** A moved session's generation: one per session key, so a move landing late never writes over another's, nor over the saves since. */
const movedGeneration = (id: string): string => `moved-${hash('sha256', `moved\u0000${id}`, 'base64url')}`;

/**
 * KuraStore's `migrateFrom`: sessions move from the store the app used before, each on its first request, while
 * old replicas may still run that store (a rolling update). Three records keep every ending an ending:
 *
 * - **the session's record** (here): written when it moves, when this store destroys it, or when destroying an id
 *   this store does not hold failed in the previous store; while it stands (as long as the previous store could
 *   hold a copy), the session never moves again,
 *   whatever the previous store holds by then (an old replica's save written over the stub, a copy whose removal
 *   failed) and whether or not this store still holds it (deleted, expired, past its absolute end);
 * - **the stub** (there): the session's cookie and `kuraMovedAt`, so old replicas find the user logged out there,
 *   under the same session id;
 * - **the item's `movedAtMs`** (here): for `rolloutMs` after the move, each read of the session looks at the
 *   previous store too, and a session an old replica ended there (its logout deleted the stub) ends here.
 */
export class Migration {
  constructor(private readonly settings: MigrationSettings) {}

  /**
   * Moves the session `sessionId` (key `id`), which this store does not hold, from the previous store. True when
   * this store may hold it now (moved here, by this call or another), false when there is nothing to move.
   */
  async move(items: ConnectSessionStore, sessionId: string, id: string, now: number): Promise<boolean> {
    const { previous, users } = this.settings;
    // Moved or ended before: never again (without asking the previous store, which an ended session's requests
    // would otherwise keep asking). A move under way has written its item before its record.
    if (await this.recorded(items, id)) return true;
    const there = await previous.get(sessionId);
    if (!there) return false;
    // The stub of a move made meanwhile, whose item landed before it.
    if (there.moved) return true;
    const found = there.session;
    const written = this.itemOf(found, id, now);
    if (!written) return false;
    const user = users?.userOfSession(found);
    if (user !== undefined) {
      // The index first, as for every session written with a user; then the mark of a "log out everywhere" made
      // since this move began, which ends the user's sessions still in the previous store, and (`credentialOf`) the
      // credential, as every save that gives a session its user checks it: a change made by a store without
      // `migrateFrom` leaves no mark.
      await users!.add(items, user, id, written.absoluteExpiresAtMs, now);
      if ((await this.endingsOf(items, user)).end(seenBy(there, user), id) || (await this.replaced(items, user, found))) {
        await this.record(items, id, now, written);
        await previous.destroy(sessionId);
        return false;
      }
    }
    await items.replace(id, written);
    await this.record(items, id, now, written);
    // An old replica may have ended the session meanwhile (a logout): so it stays.
    const still = await previous.get(sessionId);
    if (still === undefined) {
      await items.delete(id, now);
      return false;
    }
    if (still.moved) return true;
    if (!(await this.carriedOver(items, id, found, still.session, now))) return false;
    await previous.leaveStub(sessionId, this.stubCookieOf(found.cookie, now), now);
    return true;
  }

  /**
   * A save there between a move's two reads (an old or a following replica's request), which the stub would write
   * over: its changes (the keys it changed) are made to the moved session too. False, and the moved session deleted,
   * when the save gave the session another user (a login that kept the session id): the browser is that user's now,
   * and the session's record keeps what was moved from coming back.
   */
  private async carriedOver(items: ConnectSessionStore, id: string, found: Record<string, unknown>, still: Record<string, unknown>, now: number): Promise<boolean> {
    const { notData, users } = this.settings;
    const changes = changesBetween(toDocument(found, notData).data, toDocument(still, notData).data);
    if (!hasChanges(changes)) return true;
    if (users && !this.sameUser(found, still)) {
      await items.delete(id, now);
      return false;
    }
    const item = await items.read(id, now);
    if (item) await items.update(id, undefined, keysKeepingCookie(item, changes), now);
    return true;
  }

  /** Whether two copies of a session name one user (`userOf`); a user KuraStore cannot read is none it can compare. */
  private sameUser(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
    try {
      return this.settings.users!.userOfSession(a) === this.settings.users!.userOfSession(b);
    } catch {
      return false;
    }
  }

  /** Whether the session was made with a credential a change replaced (`credentialOf`). */
  async replaced(items: ConnectSessionStore, user: string, session: Record<string, unknown>): Promise<boolean> {
    const { users } = this.settings;
    try {
      await users!.checkCredential(items, user, users!.credentialOfSession(session));
      return false;
    } catch (error) {
      if (error instanceof CredentialReplacedError) return true;
      throw error;
    }
  }

  /**
   * A moved session read within `rolloutMs` of its move, when old replicas may still run: false when one of them
   * ended it, and it is deleted here too: its logout deleted the stub, or (with `userOf`) someone logged in on the
   * stub as another user (an app that keeps the session id at login: the browser is that user's now, not the moved
   * session's). The same for a whole session there naming another user: an old replica's write-back, left there for
   * `MOVE_SETTLE_MS`, is what old replicas serve meanwhile, and a login on it is one on the stub (as a move's second
   * read ends what it moved on finding one). A whole session an old replica saved over the stub (a request that
   * loaded it before the move) gets the stub back, once the move has settled (`MOVE_SETTLE_MS`).
   */
  async stillLive(items: ConnectSessionStore, sessionId: string, id: string, item: ConnectSessionItem, now: number): Promise<boolean> {
    if (item.movedAtMs === undefined || now >= item.movedAtMs + this.settings.rolloutMs) return true;
    const there = await this.settings.previous.get(sessionId);
    if (!there || this.anotherUser(there.session, item)) {
      await items.delete(id, now);
      return false;
    }
    // A whole session there within MOVE_SETTLE_MS of the move may be a save its move will still carry over (its second
    // read there): writing the stub over it first would lose that save. Only a settled move's stub is written again.
    if (!there.moved && now >= item.movedAtMs + MOVE_SETTLE_MS) await this.settings.previous.leaveStub(sessionId, this.stubCookieOf(there.session.cookie, item.movedAtMs), item.movedAtMs);
    return true;
  }

  /** Whether what the previous store holds (the stub, or a whole session written over it) names a user (`userOf`) other than the moved session's. */
  private anotherUser(there: Record<string, unknown>, item: ConnectSessionItem): boolean {
    const { users } = this.settings;
    if (!users) return false;
    try {
      const user = users.userOfSession(there);
      return user !== undefined && user !== users.userOfSession(fromDocument(item));
    } catch {
      return false; // a user KuraStore cannot read is none it can compare
    }
  }

  /**
   * `destroy`: a session this store holds gets its record first (one made here too: its cookie, still in the
   * browser, then never sends KuraStore to the previous store again); it is deleted here, and a moved one is
   * destroyed in the previous store too, so that no old replica serves it (a failure there fails the logout). An id
   * this store does not hold (most often the fresh session a login regenerates, which no store holds) is destroyed
   * there too, but a failure there does not fail the login: the id gets its record instead, which keeps any copy
   * there from ever moving.
   */
  async destroy(items: ConnectSessionStore, sessionId: string, id: string, now: number): Promise<void> {
    const item = await items.read(id, now);
    if (item) await this.record(items, id, now, item);
    await items.delete(id, now);
    if (item?.movedAtMs !== undefined) return this.settings.previous.destroy(sessionId);
    if (item) return;
    try {
      await this.settings.previous.destroy(sessionId);
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      await this.record(items, id, now, undefined);
    }
  }

  /**
   * Before `destroySessionsOf`: the user's sessions still in the previous store end where a Kura replica reads them
   * (a move, a following replica's read), but `exceptId`'s (the item key of the request's own session). The mark
   * counts the endings (its members' `addedAtMs`: one more than the highest there, no clock). A session a following
   * replica wrote with that user carries the count it saw (`kuraMarkSeen`): only a later ending ends it. One without
   * a count (an old replica's) is ended by any, a mark of the version before counts included (count 0). An ending
   * takes out every entry but the two that cover all the others (below), so the mark stays a few small members
   * however often the user ends their sessions, and two "end my other sessions" at once, from two devices, end each
   * other (every interleaving of three at once: `migration.endings.spec`).
   */
  async endUser(items: ConnectSessionStore, userId: string, exceptId: string | undefined): Promise<void> {
    const key = userMarkKeyOf(userId);
    const mine = { id: exceptId === undefined ? ENTRY : `${ENTRY}:${exceptId}`, addedAtMs: (await this.endingsOf(items, userId)).count + 1 };
    await items.addToUserIndex(key, mine, undefined);
    // Kept: the highest entry, and the highest sparing another session (or none): whatever session any other entry
    // ends, one of these two ends too (its count is as high, and it does not spare that session), so the mark stays
    // two members however many sessions "end my other sessions" spared (it grew by one for each). Ranked by count,
    // then by id, the same on every replica: an entry a concurrent ending takes out is below two that stay.
    const ranked = (await items.userIndex(key)).sort((a, b) => b.addedAtMs - a.addedAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const [highest] = ranked;
    const other = highest?.id === ENTRY ? undefined : ranked.find((entry) => entry.id !== highest?.id); // one sparing none covers all
    await items.removeFromUserIndex(key, ranked.filter((entry) => entry !== highest && entry !== other));
  }

  /** The endings of the user's sessions (`endUser`): how many there were, and whether one ends a session. */
  async endingsOf(items: ConnectSessionStore, userId: string): Promise<Endings> {
    const entries = await items.userIndex(userMarkKeyOf(userId));
    return {
      count: Math.max(0, ...entries.map((entry) => entry.addedAtMs)),
      end: (seen, id) => entries.some((entry) => entry.addedAtMs > (seen ?? -1) && entry.id !== `${ENTRY}:${id}`),
    };
  }

  /** Whether the session `id` moved here or ended (its record stands). */
  async recorded(items: ConnectSessionStore, id: string): Promise<boolean> {
    return (await items.userIndex(recordKeyOf(id))).length > 0;
  }

  /**
   * The session found in the previous store as this store writes it: its data and cookie as they were, alive as
   * long as the previous store keeps it (express-session's `touch` on connect-redis or connect-dynamodb moves only
   * that store's expiry, not the cookie's `expires` inside the session: an expiry in the past is read as one
   * lifetime from now), its absolute lifetime starting now. `undefined` when it cannot move (expired, too large).
   */
  private itemOf(found: Record<string, unknown>, id: string, now: number): ConnectSessionItem | undefined {
    const { absoluteTtlMs, users, notData } = this.settings;
    const absoluteExpiresAtMs = absoluteTtlMs === undefined ? undefined : now + absoluteTtlMs;
    const liveUntil = Math.max(expiryOf(found.cookie, now, this.settings.ttlMs), now + this.lifetimeOf(found.cookie));
    const expiresAtMs = Math.min(liveUntil, absoluteExpiresAtMs ?? Infinity);
    if (!(expiresAtMs > now)) return undefined;
    const user = users?.userOfSession(found);
    const written: ConnectSessionItem = {
      ...toDocument(found, notData),
      expiresAtMs,
      ...(absoluteExpiresAtMs === undefined ? {} : { absoluteExpiresAtMs }),
      ...(user === undefined ? {} : { indexed: indexNote(user, absoluteExpiresAtMs) }),
      movedAtMs: now,
      generation: movedGeneration(id),
    };
    try {
      checkSize(written);
    } catch (error) {
      // Left where it is: an error here would fail every request of that browser, the login page's included.
      if (error instanceof SessionTooLargeError) return undefined;
      throw error;
    }
    return written;
  }

  /** A session's lifetime by its cookie (`originalMaxAge`), or the store's for a browser-session cookie. */
  private lifetimeOf(cookie: unknown): number {
    const maxAge = typeof cookie === 'object' && cookie !== null ? (cookie as { originalMaxAge?: unknown }).originalMaxAge : undefined;
    return typeof maxAge === 'number' && maxAge > 0 ? maxAge : this.settings.ttlMs;
  }

  /**
   * Records that the session moved or ended, for as long as the previous store could hold a copy: old replicas may
   * write one there until the rollout ends, which that store keeps a lifetime at most (the cookie's, or the store's
   * own for a cookie without one), and a clock may be off by a margin.
   */
  record(items: ConnectSessionStore, id: string, now: number, item: Pick<ConnectSessionItem, 'cookie' | 'expiresAtMs'> | undefined): Promise<number> {
    const cookie = item?.cookie === undefined ? undefined : (JSON.parse(item.cookie) as unknown);
    const lifetime = Math.max(this.lifetimeOf(cookie), this.settings.previousTtlMs, (item?.expiresAtMs ?? now) - now);
    // One member, the same every time (only whether there is one counts); its expiry only ever moves later.
    return items.addToUserIndex(recordKeyOf(id), { id: ENTRY, addedAtMs: 0 }, now + this.settings.rolloutMs + lifetime + MARGIN_MS);
  }

  /**
   * The stub's cookie: the session's, made to last until the rollout ends (and a margin), so that the previous store
   * keeps the stub while old replicas may run (a stub gone then reads as an old replica's logout). Both its
   * `expires` and its `originalMaxAge`: an old replica's request resets the expiry to now + `originalMaxAge`
   * (express-session's touch, @fastify/session's load), which then can only carry it further.
   */
  stubCookieOf(cookie: unknown, movedAtMs: number): unknown {
    if (typeof cookie !== 'object' || cookie === null) return cookie;
    const lasting = this.settings.rolloutMs + MARGIN_MS;
    const { originalMaxAge } = cookie as { originalMaxAge?: unknown };
    const until = Math.max(expiryOf(cookie, 0, 0), movedAtMs + lasting);
    return { ...cookie, originalMaxAge: Math.max(typeof originalMaxAge === 'number' ? originalMaxAge : 0, lasting), expires: new Date(until).toISOString() };
  }
}
