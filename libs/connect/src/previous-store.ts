import { hash } from 'node:crypto';
import { StoreUnavailableError } from '@kura/common';

type Callback<T> = (error: unknown, value?: T) => void;

/**
 * The store an app used before KuraStore, as express-session and @fastify/session call stores: connect-redis,
 * connect-dynamodb, connect-pg-simple, connect-mongo, … Only these three methods are used, with callbacks (every
 * such store takes one; connect-redis also returns a promise, which is then left alone).
 */
export interface PreviousSessionStore {
  get(sessionId: string, callback: Callback<unknown>): unknown;
  set(sessionId: string, session: object, callback: Callback<unknown>): unknown;
  destroy(sessionId: string, callback: Callback<unknown>): unknown;
  /** Called by a following replica (`move: false`) where the app's old replicas call it: on a session served from there. */
  touch?(sessionId: string, session: object, callback: Callback<unknown>): unknown;
}

/**
 * The key of the stub a moved session leaves in the previous store: a session of nothing but its cookie and this
 * (when it moved, ISO 8601). An old replica still running the previous store finds the user logged out there,
 * under the same session id, so the browser keeps its cookie; KuraStore reads the stub as "nothing to move".
 */
export const MOVED_KEY = 'kuraMovedAt';

/**
 * The key under which a following replica (`move: false`) writes, in a session it saves there with a user, how many
 * times that user's sessions had been ended everywhere (`destroySessionsOf`) when the session got its user: a later
 * ending ends it where any Kura replica reads it, an earlier one does not. Kept by old replicas as any other key;
 * never handed to the app by KuraStore, nor moved. It names the user it counts for (`{ count, of }`, `of` a hash of
 * the user's id): an old replica that gives the session another user (an app keeping the session id at login) keeps
 * it, and another user's count is none for that user.
 */
export const MARK_SEEN_KEY = 'kuraMarkSeen';

/** The count of endings of `user`'s sessions a session saw, as a following replica writes it there. */
export interface MarkSeen {
  readonly user: string;
  readonly count: number;
}

const markSeenOf = (user: string): string => hash('sha256', `mark-seen\u0000${user}`, 'base64url').slice(0, 22);

/** The count of endings the session there saw of `user`'s sessions; none when it has none, or one for another user. */
export function seenBy(there: PreviousSession, user: string): number | undefined {
  return there.seen !== undefined && there.seen.of === markSeenOf(user) ? there.seen.count : undefined;
}

function withMarkSeen(session: Record<string, unknown>, seen: MarkSeen | undefined): Record<string, unknown> {
  return seen === undefined ? session : { ...session, [MARK_SEEN_KEY]: { count: seen.count, of: markSeenOf(seen.user) } };
}

/** What the previous store holds under a session id: a session, or the stub of one that moved (`moved`). */
export interface PreviousSession {
  /** The session as the app keeps it (without {@link MARK_SEEN_KEY}). */
  readonly session: Record<string, unknown>;
  readonly moved: boolean;
  /** {@link MARK_SEEN_KEY}, when a following replica wrote one (read it with {@link seenBy}). */
  readonly seen: { readonly count: number; readonly of: string } | undefined;
}

/**
 * The previous store, every call bounded by `timeoutMs`: a call that fails or does not answer in time is a
 * `StoreUnavailableError` (a 503), never "no session", so an outage of the previous store never logs anyone out
 * and never hangs a request.
 */
export class PreviousStore {
  constructor(
    private readonly store: PreviousSessionStore,
    private readonly timeoutMs: number,
  ) {}

  /** What the previous store holds under `sessionId`; `undefined` for none. */
  async get(sessionId: string): Promise<PreviousSession | undefined> {
    const found = await this.call<unknown>('get', (done) => this.store.get(sessionId, done));
    if (typeof found !== 'object' || found === null || Array.isArray(found)) return undefined;
    const { [MARK_SEEN_KEY]: seen, ...session } = found as Record<string, unknown>;
    const { count, of } = (typeof seen === 'object' && seen !== null ? seen : {}) as { count?: unknown; of?: unknown };
    return { session, moved: Object.hasOwn(session, MOVED_KEY), seen: Number.isSafeInteger(count) && typeof of === 'string' ? { count: count as number, of } : undefined };
  }

  /** Writes the session whole (a following replica's save), with the count of endings its user had seen, if it has a user. */
  set(sessionId: string, session: Record<string, unknown>, seen: MarkSeen | undefined): Promise<void> {
    const written = withMarkSeen(session, seen);
    return this.call('set', (done) => this.store.set(sessionId, written, done)).then(() => undefined);
  }

  /** The previous store's `touch`, as old replicas call it; nothing for a store without one (old replicas call none). */
  touch(sessionId: string, session: Record<string, unknown>, seen: MarkSeen | undefined): Promise<void> {
    const { store } = this;
    if (typeof store.touch !== 'function') return Promise.resolve();
    const touched = withMarkSeen(session, seen);
    return this.call('touch', (done) => store.touch!(sessionId, touched, done)).then(() => undefined);
  }

  /**
   * Replaces the session with the stub of a moved one, its cookie kept (the previous store's expiry follows it);
   * a session without a cookie, which neither framework could load as a stub, is destroyed instead. The cookie is
   * handed over as express-session's `Cookie` is, with a `maxAge` (what is left of it, never in its JSON): some
   * stores set their expiry by that alone (connect-dynamodb: one day without it, however long the stub must last).
   */
  leaveStub(sessionId: string, cookie: unknown, movedAtMs: number): Promise<void> {
    if (typeof cookie !== 'object' || cookie === null) return this.destroy(sessionId);
    const stub = { cookie: withMaxAge(cookie), [MOVED_KEY]: new Date(movedAtMs).toISOString() };
    return this.call('set', (done) => this.store.set(sessionId, stub, done)).then(() => undefined);
  }

  destroy(sessionId: string): Promise<void> {
    return this.call('destroy', (done) => this.store.destroy(sessionId, done)).then(() => undefined);
  }

  private call<T>(operation: string, start: (done: Callback<T>) => unknown): Promise<T> {
    const name = `migrateFrom.${operation}`;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new StoreUnavailableError(name, { reason: `the previous session store did not answer within ${this.timeoutMs} ms (migrateFrom.timeoutMs)` })), this.timeoutMs);
      const done: Callback<T> = (error, value) => {
        clearTimeout(timer);
        if (error) reject(error instanceof StoreUnavailableError ? error : new StoreUnavailableError(name, { cause: error, reason: 'the previous session store (migrateFrom) failed' }));
        else resolve(value as T);
      };
      try {
        const returned = start(done);
        // A store that also returns a promise (connect-redis) has reported through the callback already.
        if (isThenable(returned)) returned.then(undefined, () => undefined);
      } catch (error) {
        done(error);
      }
    });
  }
}

/** A copy of `cookie` whose `maxAge` (not enumerable, so no store writes it) is what is left of it, as express-session's `Cookie#maxAge`. */
function withMaxAge(cookie: object): object {
  const copy = { ...cookie };
  const expires = new Date((cookie as { expires?: unknown }).expires as string).getTime();
  if (Number.isFinite(expires)) Object.defineProperty(copy, 'maxAge', { get: () => expires - Date.now(), enumerable: false, configurable: true });
  return copy;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
