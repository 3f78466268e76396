import { hash } from 'node:crypto';
import { type ConnectSessionStore, DELETED_SESSION_MARK_MS, StoreUnavailableError, type UserIndexEntry, UserIndexFullError } from '@kura/common';
import pLimit from 'p-limit';
import { CredentialReplacedError } from './credential-replaced.error.js';
import { fromDocument } from './session-document.js';

/** Who a session belongs to, as the app says (`KuraStore`'s `userOf` option). */
export type UserOf = (session: Record<string, unknown>) => unknown;

/** One of a user's live sessions, as `KuraStore.sessionsOf` lists it. */
export interface UserSession {
  /**
   * Names the session to `destroySessionOf`, e.g. from a "log out that device" button: derived from its stored
   * key, so it neither is nor leads to the session id (the cookie's secret), and it is not the storage's key either.
   */
  readonly handle: string;
  /** Whether it is the session of the id given as `current`. */
  readonly current: boolean;
  /** When it ends unless used again. */
  readonly expiresAt: Date;
  /** The session as stored (what `get` hands the framework, `cookie` included): whatever the app keeps to show, such as a device name. */
  readonly session: Record<string, unknown>;
}

/**
 * A user's id as the index knows it: a non-empty string, or a finite number as its decimal text. `undefined`,
 * `null`, `false` and `''` are no user (a session before its login). Anything else (the user object itself, say)
 * is a `userOf` that cannot be what was meant, and throws: taken as "no user", every login would be in no index,
 * and "log out everywhere" would end nothing while seeming to work.
 */
export function userIdOf(value: unknown): string | undefined {
  if (value === undefined || value === null || value === false || value === '') return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  const what = typeof value === 'object' ? 'an object' : typeof value === 'number' ? String(value) : `a ${typeof value}`;
  throw new TypeError(`KuraStore: userOf gave ${what}, not a user's id (a non-empty string or a number; undefined or null for no user): give the id, e.g. (session) => session.user?.id`);
}

/** A credential as text: a non-empty string, or a finite number as its decimal text (as a user's id). */
function credentialIdOf(value: unknown, what: string): string {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  const desc = value === null || typeof value === 'object' ? 'an object' : typeof value === 'number' ? String(value) : value === '' ? 'an empty string' : `a ${typeof value}`;
  throw new TypeError(`${what} ${desc}: give a non-empty string or a finite number, such as a password version`);
}

/**
 * The note a session carries of the user index it joined (`ConnectSessionItem.indexed`): the user, and the
 * absolute end the index was told to last until ('-' for none). A session whose note differs from what it is now
 * (another user, a later absolute end, or none: written by a store without `userOf`) joins its index again.
 */
export const indexNote = (userId: string, absoluteExpiresAtMs: number | undefined): string => `${absoluteExpiresAtMs ?? '-'}:${userId}`;

/** The key of a user's index: the SHA-256 of the user's id (and a prefix no session id shares), base64url. */
export const userIndexKeyOf = (userId: string): string => hash('sha256', `user\u0000${userId}`, 'base64url');

/**
 * Where a user's credential in force is noted (from their first `destroySessionsOf` with one): a set of its own under
 * the user-index methods, keyed apart from the index, one member (two while two changes race), never expiring.
 */
export const credentialKeyOfUser = (userId: string): string => hash('sha256', `credential-current\u0000${userId}`, 'base64url');
/** A credential as its note names it: the SHA-256 of its text, so the storage never holds what the app keeps. */
const credentialMemberOf = (credential: string): string => hash('sha256', `credential\u0000${credential}`, 'base64url');

/** A session's handle (see {@link UserSession.handle}): 128 bits of the SHA-256 of its item key. */
export const handleOf = (itemKey: string): string => hash('sha256', `handle\u0000${itemKey}`, 'base64url').slice(0, 22);

/**
 * How long an entry of a session that is not there stays in an index: the login that added it writes the session
 * right after, and that write may still be on its way (as long as a deleted session's mark stands). An entry whose
 * session reads as a deletion's mark goes at once: the mark refuses that write.
 */
const YOUNG_MS = DELETED_SESSION_MARK_MS;

/** An index larger than this is pruned at every {@link PRUNE_EVERY}th entry a login adds. */
const PRUNE_ABOVE = 64;
const PRUNE_EVERY = 16;
/**
 * The most sessions a user keeps at once: a login that takes the index past this, and every hundredth after it
 * while the index stays past it (entries of sessions not there, younger than {@link YOUNG_MS}, stay), reads the
 * index and ends the user's oldest sessions down to {@link TRIM_TO}, so the next hundred logins read nothing more
 * and still leave the user at most this many. 1000 entries are about 57 KB, far below DynamoDB's 400 KB item.
 */
export const MAX_SESSIONS_PER_USER = 1000;
const TRIM_TO = 900;
/** Logins between two caps of an index that stays past {@link MAX_SESSIONS_PER_USER}. */
const CAP_EVERY = MAX_SESSIONS_PER_USER - TRIM_TO;
/** Storage calls at once when a user's sessions are read or ended. */
const CALLS_AT_ONCE = 16;

/** A session an index names: its entries, and what a read found. */
interface Indexed {
  readonly id: string;
  readonly entries: UserIndexEntry[];
  readonly newestMs: number;
  /** The session as read, when it is live. */
  readonly session: Record<string, unknown> | undefined;
  readonly expiresAtMs: number;
  /**
   * Whose the session is: `mine` (live, the user's by `userOf`), `other` (live, another user's), `ended` (a
   * deletion's mark stands: it never comes back), `gone` (not there: its write may still come), or `unknown`
   * (`userOf` threw on it: another replica's `userOf` may not, so its entries stay).
   */
  readonly owner: 'mine' | 'other' | 'ended' | 'gone' | 'unknown';
}

/**
 * KuraStore's user index: which sessions were written with a user, so they can be listed and ended together
 * (ASVS 7.4.3, 7.4.5, 7.5.2), as Spring Session's principal-name index does for Java apps.
 *
 * The rule everything rests on: **a session is added to its user's index before it is written with that user**.
 * So a session live with a user was in that index before it was, and ending every session the index names ends
 * it. Entries are never taken out on a read alone: a session's entry goes when the session was ended through the
 * index, or, when pruned, only once it is older than any write still on its way (`YOUNG_MS`) and its session is
 * gone or someone else's. A login adding its entry again is another entry (another time), which a removal of the
 * old one leaves in place.
 */
export class UserSessions {
  constructor(
    private readonly userOf: UserOf,
    private readonly credentialOf: UserOf | undefined,
  ) {}

  /** The credential a session was made with (`credentialOf`), or `undefined` (none, or no such option). */
  credentialOfSession(session: object): string | undefined {
    if (!this.credentialOf) return undefined;
    const credential = this.credentialOf(session as Record<string, unknown>);
    return credential === undefined || credential === null || credential === '' ? undefined : credentialIdOf(credential, 'KuraStore: credentialOf gave');
  }

  /** Throws, before anything is written, what `setCredential` would refuse. */
  checkSettable(credential: unknown): void {
    if (!this.credentialOf) throw new TypeError('KuraStore.destroySessionsOf: { credential } needs the credentialOf option, which tells the credential of each session');
    credentialIdOf(credential, 'KuraStore.destroySessionsOf: { credential } was');
  }

  /** The user a session belongs to, or `undefined`. */
  userOfSession(session: object): string | undefined {
    return userIdOf(this.userOf(session as Record<string, unknown>));
  }

  /**
   * Notes that `credential` is `userId`'s credential in force (a password change's new version), before
   * `destroyAll` reads the index (the order the check below rests on): a login made with any other that adds its
   * entry after that read finds the note. Each version is noted with its order (an integer version is its own
   * order, so racing changes keep the highest whatever the order their calls land in; another, the time of the
   * change, past every order noted before it, so that a change made after another outranks it whatever the clocks
   * of the replicas that made them: give one kind for a user), and the ones before it are taken out: the note never
   * empties, and the highest order is in force. It never expires: a session made with an old credential is refused
   * whenever it names its user, however long it lived before (a step after the password).
   */
  async setCredential(items: ConnectSessionStore, userId: string, credential: string | number, now: number): Promise<void> {
    this.checkSettable(credential);
    const key = credentialKeyOfUser(userId);
    // The time alone let a replica whose clock is ahead outrank the change made after it, for good.
    const order = Number.isSafeInteger(credential)
      ? (credential as number)
      : Math.max(now, ...(await items.userIndex(key)).map((entry) => Math.min(entry.addedAtMs + 1, Number.MAX_SAFE_INTEGER)));
    const mine = { id: credentialMemberOf(String(credential)), addedAtMs: order };
    await items.addToUserIndex(key, mine, undefined);
    await items.removeFromUserIndex(key, (await items.userIndex(key)).filter((entry) => entry.addedAtMs < mine.addedAtMs));
  }

  /**
   * After a session joined `userId`'s index and before it is written with that user or its credential: refuses it
   * when the user's credential in force (noted by a change: the highest order) is another. Either the change's
   * `destroySessionsOf` read the index after the entry was added, and ends the session, or the note was there
   * before this read. One read, only with `credentialOf` and a session that has a credential.
   * @throws CredentialReplacedError
   */
  async checkCredential(items: ConnectSessionStore, userId: string, credential: string | undefined): Promise<void> {
    if (credential === undefined) return;
    const noted = await items.userIndex(credentialKeyOfUser(userId));
    if (noted.length === 0) return;
    const highest = Math.max(...noted.map((entry) => entry.addedAtMs));
    const member = credentialMemberOf(credential);
    if (!noted.some((entry) => entry.addedAtMs === highest && entry.id === member)) throw new CredentialReplacedError();
  }

  /**
   * Adds session `id` to `userId`'s index, before it is written with that user; prunes a large index now and then,
   * and past {@link MAX_SESSIONS_PER_USER} ends the user's oldest sessions. An addition the storage refuses (an
   * index grown past what one item holds) prunes the index, then is tried once more.
   * @throws StoreUnavailableError when the entry could not be added (the index still full after pruning included)
   */
  async add(items: ConnectSessionStore, userId: string, id: string, untilMs: number | undefined, now: number): Promise<void> {
    const entry = { id, addedAtMs: now };
    let count: number;
    try {
      count = await items.addToUserIndex(userIndexKeyOf(userId), entry, untilMs);
    } catch (error) {
      // Only an index too large for the storage is pruned and tried again; an outage is reported as it is.
      if (!(error instanceof UserIndexFullError)) throw error;
      await this.prune(items, userId, await this.indexed(items, userId, now), now);
      count = await this.addAfterPruning(items, userId, entry, untilMs);
    }
    // Every addition takes the count one higher, so each hundredth past the cap is some login's.
    if (count > MAX_SESSIONS_PER_USER && (count - MAX_SESSIONS_PER_USER - 1) % CAP_EVERY === 0) await this.cap(items, userId, id, now);
    else if (count > PRUNE_ABOVE && count % PRUNE_EVERY === 0) await this.prune(items, userId, await this.indexed(items, userId, now), now);
  }

  /**
   * The second try of an addition the storage refused as full: refused again (the index holds as many entries of
   * sessions not there, younger than {@link YOUNG_MS}, as one item holds), the login fails as any login whose entry
   * could not be written, with nothing of its session written.
   */
  private async addAfterPruning(items: ConnectSessionStore, userId: string, entry: UserIndexEntry, untilMs: number | undefined): Promise<number> {
    try {
      return await items.addToUserIndex(userIndexKeyOf(userId), entry, untilMs);
    } catch (error) {
      if (!(error instanceof UserIndexFullError)) throw error;
      throw new StoreUnavailableError('connect.index', { cause: error, reason: "the user's index is full of entries of recent logins whose sessions are not there; it empties as they age (an hour at most)" });
    }
  }

  /**
   * Prunes the index, then, if the user has more than {@link TRIM_TO} live sessions, ends the oldest (by their
   * newest entry) down to that: only the user's own, never the one being added (`keep`). Down to {@link TRIM_TO},
   * not {@link MAX_SESSIONS_PER_USER}: an index that stays past the cap is capped again only {@link CAP_EVERY} logins later.
   */
  private async cap(items: ConnectSessionStore, userId: string, keep: string, now: number): Promise<void> {
    const indexed = await this.indexed(items, userId, now);
    await this.prune(items, userId, indexed, now);
    const mine = indexed.filter((session) => session.owner === 'mine' && session.id !== keep);
    if (mine.length + 1 <= TRIM_TO) return;
    const oldest = mine.sort((a, b) => a.newestMs - b.newestMs).slice(0, mine.length + 1 - TRIM_TO);
    await pLimit(CALLS_AT_ONCE).map(oldest, (session) => items.delete(session.id, now));
    await items.removeFromUserIndex(userIndexKeyOf(userId), oldest.flatMap((session) => session.entries));
  }

  /** The user's live sessions, newest entry first; the index is pruned on the way. */
  async list(items: ConnectSessionStore, userId: string, currentId: string | undefined, now: number): Promise<UserSession[]> {
    const indexed = await this.indexed(items, userId, now);
    await this.prune(items, userId, indexed, now);
    return indexed
      .filter((entry) => entry.owner === 'mine')
      .sort((a, b) => b.newestMs - a.newestMs)
      .map((entry) => ({ handle: handleOf(entry.id), current: entry.id === currentId, expiresAt: new Date(entry.expiresAtMs), session: entry.session! }));
  }

  /**
   * Ends every session the user's index names but `exceptId` (each left deleted for good, as `destroy` leaves
   * it, so a login's write still on its way cannot land), then takes their entries out. Resolves to how many of
   * them were live and the user's.
   */
  async destroyAll(items: ConnectSessionStore, userId: string, exceptId: string | undefined, now: number): Promise<number> {
    const targets = (await this.indexed(items, userId, now)).filter((entry) => entry.id !== exceptId);
    await pLimit(CALLS_AT_ONCE).map(targets, (entry) => items.delete(entry.id, now));
    await items.removeFromUserIndex(userIndexKeyOf(userId), targets.flatMap((entry) => entry.entries));
    return targets.filter((entry) => entry.owner === 'mine').length;
  }

  /** Ends the user's live session of `handle`; false when the user has none of that handle (nothing is written). */
  async destroyOne(items: ConnectSessionStore, userId: string, handle: string, now: number): Promise<boolean> {
    const [target] = await this.indexed(items, userId, now, (id) => handleOf(id) === handle);
    if (target?.owner !== 'mine') return false;
    await items.delete(target.id, now);
    await items.removeFromUserIndex(userIndexKeyOf(userId), target.entries);
    return true;
  }

  /** The sessions the user's index names (those `wanted` lets through), each read. */
  private async indexed(items: ConnectSessionStore, userId: string, now: number, wanted: (id: string) => boolean = () => true): Promise<Indexed[]> {
    const byId = new Map<string, UserIndexEntry[]>();
    for (const entry of await items.userIndex(userIndexKeyOf(userId))) {
      if (!wanted(entry.id)) continue;
      const entries = byId.get(entry.id);
      if (entries) entries.push(entry);
      else byId.set(entry.id, [entry]);
    }
    return pLimit(CALLS_AT_ONCE).map([...byId], async ([id, entries]) => {
      const found = items.readOrMark ? await items.readOrMark(id, now) : await items.read(id, now);
      const item = found === 'deleted' ? undefined : found;
      const session = item && fromDocument(item);
      const newestMs = Math.max(...entries.map((entry) => entry.addedAtMs));
      const owner = found === 'deleted' ? 'ended' : session === undefined ? 'gone' : this.ownerOf(session, userId);
      return { id, entries, newestMs, session, expiresAtMs: item?.expiresAtMs ?? 0, owner };
    });
  }

  /** Whose a live session is; `unknown` when `userOf` throws on it (it is not listed, and is still ended with the rest). */
  private ownerOf(session: Record<string, unknown>, userId: string): 'mine' | 'other' | 'unknown' {
    try {
      return this.userOfSession(session) === userId ? 'mine' : 'other';
    } catch {
      return 'unknown';
    }
  }

  /**
   * Takes out the entries of sessions ended for good (a deletion's mark stands), and those old enough that name a
   * session that is gone or another user's, or that a newer entry repeats.
   */
  private async prune(items: ConnectSessionStore, userId: string, indexed: readonly Indexed[], now: number): Promise<void> {
    const stale = indexed.flatMap((session) =>
      session.entries.filter(
        (entry) =>
          session.owner === 'ended' || (entry.addedAtMs < now - YOUNG_MS && (session.owner === 'gone' || session.owner === 'other' || entry.addedAtMs < session.newestMs)),
      ),
    );
    await items.removeFromUserIndex(userIndexKeyOf(userId), stale);
  }
}

