import type { SessionData, SessionDataStore } from './session-data-store.port.js';
import type { SessionRecord } from './session-record.js';
import { asUpkeep } from './store-unavailable.error.js';

/** The fields `extend` changes. */
export type SessionExtension = Pick<SessionRecord, 'lastSeenAt' | 'idleExpiresAt' | 'absoluteExpiresAt' | 'authenticatedAt'>;

/** One session as its user's register names it. */
export interface RegisterEntry {
  readonly id: string;
  /** The session's absolute expiry (epoch ms): after it, the entry is only clutter. */
  readonly absoluteExpiresAt: number;
  /** The version of the user's credentials the session was issued on (see `SessionService.create`). */
  readonly credentialVersion: number;
}

/**
 * What `register` did: `registered`, with the entries of sessions issued on older credentials that must now
 * end (a password change whose sweep did not finish), and the other entries on the same credentials whose
 * absolute expiry is still ahead (`current`: sessions that may be live, as the register held them once this
 * entry was in; for a limit on sessions per user); or `stale`: the register has already moved to newer
 * credentials than the ones this session was issued on, and nothing was written.
 */
export type RegisterOutcome =
  | {
      readonly outcome: 'registered';
      readonly older: readonly RegisterEntry[];
      /** `SessionService` needs it for `maxSessionsPerUser`; `registerOutcome` makes both lists. */
      readonly current: readonly RegisterEntry[];
    }
  | { readonly outcome: 'stale' };

/**
 * The entries `register` answers with, from the register as it stands with `entry` in it: older credentials,
 * and the others on `entry`'s credentials still ahead of their absolute expiry. Shared by every adapter.
 */
export function registerOutcome(entries: readonly RegisterEntry[], entry: RegisterEntry, now: number): RegisterOutcome {
  return {
    outcome: 'registered',
    older: entries.filter((other) => other.credentialVersion < entry.credentialVersion),
    current: entries.filter((other) => other.credentialVersion >= entry.credentialVersion && other.absoluteExpiresAt > now && other.id !== entry.id),
  };
}

/**
 * What a register keeps from growing: entries stay until their session is logged out or passes its absolute
 * expiry, so a client that logs in every few seconds and never logs out fills a register with sessions long over.
 * Past `from` entries, every `every`-th registration prunes them (reading each entry's session).
 */
const PRUNE = { from: 1000, every: 100 } as const;

/**
 * What an adapter's `register` cleans up once `entry` is in, from the register as it stands: past 1,000 entries, every
 * 100th registration prunes the others (`prune`: the adapter reads their sessions, ends those past their expiry and
 * drops every entry of a session that is over); otherwise the entries past their absolute expiry on `entry`'s
 * credentials or newer are dropped without a read (`unregister`; older ones are the `older` of `registerOutcome`,
 * which the caller ends). Shared by every adapter, so that each register is kept the same way.
 */
export function registerCleanup(entries: readonly RegisterEntry[], entry: RegisterEntry, now: number): { readonly prune: readonly RegisterEntry[] } | { readonly unregister: readonly string[] } {
  if (entries.length >= PRUNE.from && entries.length % PRUNE.every === 0) return { prune: entries.filter((other) => other.id !== entry.id) };
  return { unregister: entries.filter((other) => other.credentialVersion >= entry.credentialVersion && other.absoluteExpiresAt <= now).map((other) => other.id) };
}

/** An adapter's own two steps of a register's clean-up (`registerCleanup` says which runs). */
export interface RegisterCleanupSteps {
  prune(entries: readonly RegisterEntry[]): Promise<void>;
  unregister(ids: readonly string[]): Promise<void>;
}

/**
 * Runs the clean-up `registerCleanup` chooses once `entry` is in, with the adapter's own steps. It is upkeep: the
 * registration has landed, and what a failed clean-up leaves is dropped by a later one (or names a tombstone, which
 * a sweep ends again as not live), so the store failing it (`StoreUnavailableError`) fails no login; answered 503,
 * such a login left a registered session nobody held (session 44).
 */
export async function cleanUpRegister(entries: readonly RegisterEntry[], entry: RegisterEntry, now: number, steps: RegisterCleanupSteps): Promise<void> {
  const cleanup = registerCleanup(entries, entry, now);
  if ('prune' in cleanup) await asUpkeep(steps.prune(cleanup.prune));
  else if (cleanup.unregister.length > 0) await asUpkeep(steps.unregister(cleanup.unregister));
}

/** How `end` ends a session. */
export interface EndOptions {
  /** Only a session of this user. */
  readonly owner?: string;
  /** Leave the session's data: a new session took it over. */
  readonly keepData?: boolean;
}

/** A session that `end` found: whose it was, and whether it was still usable until this call. */
export interface EndedSession {
  readonly userId: string;
  readonly live: boolean;
}

/**
 * Where sessions live: storage primitives, each one atomic step on the engine (one conditional write or one
 * strongly consistent read). The protocol that makes them safe together — in which order a login writes,
 * how a revocation sweeps, what a stale login must undo — lives in `SessionService`, once for every adapter;
 * `docs/concurrency.md` argues it operation pair by operation pair.
 *
 * Contract every adapter follows (the shared contract suite checks it against each real engine):
 * - a record whose effective expiry (the earlier of idle and absolute) has passed is absent, whether or not
 *   the engine has deleted it yet;
 * - failures to reach or use the engine throw `StoreUnavailableError`, never "absent";
 * - every write is safe to retry: a write whose answer was lost and that is sent again recognises its own
 *   effect instead of failing on its own condition;
 * - an ended session stays ended until its own expiry: no later `insert` (a late retry) or `extend` brings it back.
 */
export interface SessionStore {
  /**
   * Writes a new session item. Retrying after a lost answer succeeds; an id held by another session (a broken
   * random source, or a session ended meanwhile) throws `StoreUnavailableError`, never overwrites.
   */
  insert(record: SessionRecord): Promise<void>;

  /** Reads a session by id (strongly consistent unless configured otherwise); `undefined` if absent, ended or expired. */
  find(id: string, now: number): Promise<SessionRecord | undefined>;

  /**
   * Optional: `find`, and the document `dataStore` keeps under data id `id` (as its `read` gives it, strongly
   * consistent), in one round trip, for routes that use the data right after authenticating. `data` is
   * `undefined` when `dataStore` is not this adapter's own (another table, prefix or connection): the caller
   * then reads it itself. The document is the session's own unless the session was re-authenticated (its
   * `dataId` names another).
   */
  findWithData?(id: string, now: number, dataStore: SessionDataStore): Promise<{ record: SessionRecord | undefined; data: SessionData | undefined }>;

  /**
   * Moves the idle expiry forward. Returns `false` when the session no longer exists (it was ended between the
   * read and this write), in which case nothing is written.
   */
  extend(id: string, change: SessionExtension): Promise<boolean>;

  /**
   * Ends a session for good (a tombstone until its own expiry, so nothing can bring it back) and deletes its
   * data, unless `keepData` (the data goes on with a new session). With `owner`, only a session of that user.
   * Returns whose it was and whether it was live, or `undefined` when there was no such session (of that owner).
   * Ending an ended session of the owner again returns it with `live: false`, and deletes its data again only when
   * the first ending deleted it (`endingCall`): what a first attempt that failed part way left, or a patch wrote
   * since; data a new session took over is never touched.
   */
  end(id: string, now: number, options?: EndOptions): Promise<EndedSession | undefined>;

  /**
   * Adds a session to its user's register, unless the register has moved to a newer credential version than
   * `entry.credentialVersion` (`stale`). Raises the register's version to the entry's. Never shortens how long
   * the register is kept; may drop entries whose absolute expiry is before `now`, and entries of sessions that are
   * over (gone, ended, or past their expiry, which it then ends first) where the register's size is bounded.
   */
  register(userId: string, entry: RegisterEntry, now: number): Promise<RegisterOutcome>;

  /** The user's register, read strongly consistent: every session registered before this call started. */
  registered(userId: string): Promise<RegisterEntry[]>;

  /** Drops entries from the user's register (sessions that ended). Dropping absent entries is not an error. */
  unregister(userId: string, ids: readonly string[]): Promise<void>;

  /**
   * Ends every session of every user, with its data, and drops each from its user's register: the operator's last
   * resort (a suspected token leak). Walks the whole store; never on a request path. Returns how many were live.
   *
   * It removes nothing it did not end: a session begun while it runs may outlive it, but stays in its register
   * (so a logout-all or a password change still ends it), and each register keeps its credential version (so a
   * login that checked a replaced password stays refused).
   */
  removeAll(now: number): Promise<number>;

  /**
   * The user's newest live sessions, at most `limit` of them, newest first; reads no further than it needs to
   * find them. May lag behind by about a second (eventually consistent index).
   */
  listOfUser(userId: string, now: number, limit: number): Promise<SessionRecord[]>;

  /** Resolves when the store can serve requests; throws `StoreUnavailableError` otherwise. */
  ping(): Promise<void>;
}
