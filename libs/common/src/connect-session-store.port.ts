import { recognisedAcrossCopies } from './across-copies.js';
/**
 * The storage port of `@kura/connect`'s `KuraStore` (the express-session / @fastify/session store): four calls
 * on one session each, keyed by the SHA-256 of the session id (computed by `KuraStore`, never by an adapter).
 * `@kura/dynamodb` and `@kura/redis` implement it. It lives here, not in `@kura/connect`, because
 * `@kura/connect` depends on `@kura/dynamodb` (its default adapter): a port there would make a cycle, and
 * `@kura/redis` would pull in DynamoDB and the AWS SDK to implement it.
 *
 * Every adapter: treats an expired session as absent on every read, whatever its engine has freed yet; never
 * lets `update` re-create a session that was deleted, expired or replaced; throws `StoreUnavailableError` for
 * every failure to get an answer (never "absent").
 */
export interface ConnectSessionStore {
  /** The live session under `id`; `undefined` when there is none or it expired by `now` (epoch ms). */
  read(id: string, now: number): Promise<ConnectSessionItem | undefined>;
  /**
   * What the user index's pruning reads of a session it names: the live session, as `read` gives it; `'deleted'`
   * while `delete`'s mark is stored under `id` (it refuses every write until the engine frees it, so no write still
   * on its way can bring the session back, and its entries can go at once); `undefined` when there is neither (never written yet, expired, or its mark gone). Optional: with
   * an adapter without it, KuraStore reads with `read`, and keeps the entries of logged-out sessions for an hour.
   */
  readOrMark?(id: string, now: number): Promise<ConnectSessionItem | 'deleted' | undefined>;
  /**
   * Writes the session whole, whatever was there (a new session, or a save that read nothing), except where
   * `delete` left its mark (a deleted session stays deleted) or the item already holds `item.generation` (this
   * very write, retried or landing late, never overwrites the changes made after it). Either way it resolves.
   * @throws SessionItemTooLargeError where the storage cannot hold the session in one item (nothing written)
   */
  replace(id: string, item: ConnectSessionItem): Promise<void>;
  /**
   * Applies `change` to the live session `id` of `generation` (any generation when `undefined`), atomically.
   * False when there is no such session (deleted, expired by `now`, or replaced since it was read): nothing
   * was written; false too when nothing was left to write (`cookieSettingsRead` no longer stored, and nothing else).
   * @throws SessionItemTooLargeError where the session, changed, is more than the storage holds in one item (that
   *   call wrote nothing; of a change of over 100 keys on DynamoDB, the calls before it were written)
   */
  update(id: string, generation: string | undefined, change: ConnectSessionChange, now: number): Promise<boolean>;
  /**
   * Deletes the session, and leaves a mark under its id for {@link DELETED_SESSION_MARK_MS}, so that a `replace`
   * still on its way (an SDK retry, a write delayed in the network) cannot bring it back after a logout; the
   * engine frees the mark (`now`: epoch ms). Deleting one that is not there is not an error (it leaves the mark too).
   */
  delete(id: string, now: number): Promise<void>;
  /**
   * Adds `entry` to the user index `user` (a key KuraStore computed from the user's id): the sessions written with
   * that user, so they can be listed and ended together. The index lasts until `untilMs` at least (its expiry
   * only ever moves later), or for good when `untilMs` is `undefined` (and stays so while it holds entries).
   * Resolves to how many entries the index holds. Safe to retry.
   */
  addToUserIndex(user: string, entry: UserIndexEntry, untilMs: number | undefined): Promise<number>;
  /** Every entry of the user index `user`, in no order (none when there is no such index); strongly consistent. */
  userIndex(user: string): Promise<UserIndexEntry[]>;
  /**
   * Removes exactly these entries: one added again since (another `addedAtMs` for the same session) stays.
   * Removing an entry that is not there is not an error. Safe to retry.
   */
  removeFromUserIndex(user: string, entries: readonly UserIndexEntry[]): Promise<void>;
  /**
   * Writes `note` as the live session `id`'s `indexed` note, and nothing else (its cookie, expiry and data stay as
   * they are, whatever was saved since it was read), if it still is of `generation` and not expired by `now`.
   * False when it is not (nothing written).
   */
  noteIndexed(id: string, generation: string, note: string, now: number): Promise<boolean>;
}

/**
 * An adapter's `addToUserIndex` refused because the index holds as much as the storage keeps in one place (a
 * DynamoDB item's 400 KB): KuraStore prunes the index and tries again. Any other failure is a
 * `StoreUnavailableError`.
 */
export class UserIndexFullError extends Error {
  override readonly name = 'UserIndexFullError';
}
recognisedAcrossCopies(UserIndexFullError, 'UserIndexFullError');

/**
 * An adapter's `replace` or `update` refused because the session is more than the storage keeps in one place (a
 * DynamoDB item's 400 KB), as saves of other keys merged into it had grown it: KuraStore checks each save's own size
 * first, so only a merge reaches this. Nothing of that call was written; KuraStore reports it as its
 * `SessionTooLargeError` (not an outage: retrying cannot help). Any other failure is a `StoreUnavailableError`.
 */
export class SessionItemTooLargeError extends Error {
  override readonly name = 'SessionItemTooLargeError';
}
recognisedAcrossCopies(SessionItemTooLargeError, 'SessionItemTooLargeError');

/** One entry of a user index: a session's item key, and when the entry was added (epoch ms). */
export interface UserIndexEntry {
  readonly id: string;
  readonly addedAtMs: number;
}

/** An entry as one string (`<addedAtMs>:<id>`), the member adapters keep in a set: two additions of one session are two members. */
export const userIndexMember = (entry: UserIndexEntry): string => `${entry.addedAtMs}:${entry.id}`;

/** The entry a member stands for; `undefined` for a string that is not a member. */
export function userIndexEntryOf(member: string): UserIndexEntry | undefined {
  const colon = member.indexOf(':');
  const addedAtMs = Number(member.slice(0, colon));
  return colon > 0 && Number.isSafeInteger(addedAtMs) && colon < member.length - 1 ? { id: member.slice(colon + 1), addedAtMs } : undefined;
}

/**
 * How long a deleted session's mark stands (ms): longer than any write sent before the deletion can take to land.
 * An AWS request is refused 5 minutes after it was signed, and a Redis command waits at most the store's
 * timeout on a connection that stays open; an hour leaves a wide margin for a clock that drifts.
 */
export const DELETED_SESSION_MARK_MS = 60 * 60_000;

/** A stored express-session / @fastify/session session, as `@kura/connect` reads and writes it. */
export interface ConnectSessionItem {
  /** Each top-level key of the session but `cookie`, as JSON text. */
  readonly data: ReadonlyMap<string, string>;
  /** The session's cookie, as JSON text. */
  readonly cookie: string | undefined;
  /** When the session ends, epoch milliseconds. */
  readonly expiresAtMs: number;
  /**
   * When the session ends however it is used (its absolute lifetime, ASVS 7.3.2), epoch milliseconds; none when
   * absent. Written by `replace` only: `update` never moves it, and a read treats the session as absent from then.
   */
  readonly absoluteExpiresAtMs?: number;
  /**
   * KuraStore's note of the user index the session was added to (`<absolute end or '-'>:<user id>`), stored as it
   * is: written whole with the item, or by a change that carries one; a change without one leaves it.
   */
  readonly indexed?: string;
  /**
   * When KuraStore moved the session here from the store the app used before (its `migrateFrom` option), epoch
   * milliseconds; none for a session made here. Written by `replace` only, kept by every change, gone with `delete`.
   */
  readonly movedAtMs?: number;
  /**
   * A fingerprint of the cookie's settings (all but its expiry), as KuraStore wrote it with the cookie; none for a
   * session written without one. A save conditions its cookie on it (ConnectSessionChange.cookieSettingsRead).
   */
  readonly cookieSettings?: string;
  /**
   * Random, set when the item is written whole. A change meant for the session a request read names it, so
   * it never lands on a session that was destroyed and written again meanwhile.
   */
  readonly generation: string;
}

/** What one save changes: only the keys it names, so concurrent saves of other keys are kept. */
export interface ConnectSessionChange {
  /** Top-level keys to write (JSON text). */
  readonly set: ReadonlyMap<string, string>;
  /** Top-level keys to delete. */
  readonly remove: readonly string[];
  /** The cookie to keep (JSON text), or `undefined` to drop it. */
  readonly cookie: string | undefined;
  readonly expiresAtMs: number;
  /**
   * An absolute end to give a session that has none (stored before KuraStore had absolute lifetimes, or while
   * it was configured without one), epoch milliseconds. Written only where the session has none: one it has
   * (another change gave it one first) stays as it is.
   */
  readonly absoluteExpiresAtMs?: number;
  /** A new `indexed` note (see {@link ConnectSessionItem.indexed}); absent, the stored one stays. */
  readonly indexed?: string;
  /** The fingerprint of `cookie`'s settings (see {@link ConnectSessionItem.cookieSettings}); absent, none is kept. */
  readonly cookieSettings?: string;
  /**
   * The fingerprint the saving request read, when it did not change the cookie's settings: `cookie`,
   * `cookieSettings` and `expiresAtMs` are then written only where the stored fingerprint is still that one. A
   * cookie whose settings changed since (another request changed its `maxAge`, say) stays, with its expiry; the
   * rest of the change is written either way. Absent, the cookie and the expiry are written whatever is stored.
   */
  readonly cookieSettingsRead?: string;
}
