import type { CookieSettings } from './session-document.js';

/** What a request read of its session: the base its save is compared with. */
export interface SessionRead {
  /** The session id the request read (a read of another session never serves as a base), and its item key. */
  readonly sessionId: string;
  readonly id: string;
  readonly generation: string;
  /** Each top-level key as read (or as this request last wrote it), JSON text. */
  readonly data: ReadonlyMap<string, string>;
  readonly cookie: CookieSettings | undefined;
  /**
   * The fingerprint of the cookie's settings as stored when read (or as this request last wrote it): a save that
   * did not change them writes its cookie only where this one is still stored. None where unknown.
   */
  readonly cookieSettingsStored?: string | undefined;
  readonly expiresAtMs: number;
  /** When the session ends however it is used, as stored; none for a session stored without one. */
  readonly absoluteExpiresAtMs: number | undefined;
  /** Whose the session was, by the store's `userOf` (none without it). */
  readonly user?: string | undefined;
  /** The credential it was made with, by the store's `credentialOf` (none without it). */
  readonly credential?: string | undefined;
  /**
   * A following replica's read of a session in the previous store (`migrateFrom` with `move: false`): the count of
   * endings of its user's sessions it was written with. Its save goes there, whole; `generation` and the expiries
   * are not this store's then.
   */
  readonly there?: { readonly seen: number | undefined };
}

/**
 * The key under which a session loaded by `get` carries its read through @fastify/session, which copies every
 * enumerable key of what `get` returned onto its own `Session` and gives the store nothing else to recognise
 * it by. The value is an opaque object whose JSON form is nothing, so it is never saved, and it changes
 * neither session's hash (both libraries hash the JSON form). express-session never sees it.
 */
export const READ_MARKER_KEY = '__kura';

const REPLACED_MARKER =
  "KuraStore: the session's key __kura holds a value of the app's, and the key is KuraStore's own: it keeps what the request read of the session there (under @fastify/session; without it the session would be written whole, its absolute lifetime started again), and never stores it; give the app's value another key";

/** The opaque value under {@link READ_MARKER_KEY}: it carries the read, and its JSON form is nothing. */
class ReadMarker {
  constructor(readonly read: SessionRead) {}

  toJSON(): undefined {
    return undefined;
  }
}

/**
 * Remembers, per session object, what its request read: the base that lets a save write only the keys its
 * request changed. The base lives on the session object itself (under a symbol, or in a WeakMap for an object
 * that cannot take one), so it is gone with it; a WeakMap entry per request would cost the garbage collector
 * more than the rest of the store's work.
 *
 * - express-session turns what `get` returned into its `Session` through `store.createSession(req, sess)`,
 *   which the store overrides: the read is attached to that `Session` itself (`take`, then `remember`).
 * - @fastify/session copies what `get` returned onto its own `Session`, marker included; the marker leads back
 *   to the read (`of`).
 * After each write, the session object's base becomes what its request now knows (`remember`). A session
 * found gone when written keeps its base, so a later save of the same object cannot re-create it either.
 */
export class SessionReads {
  /** Where a session object keeps its base: a symbol of this store's own, which JSON, `for...in` and `Object.keys` never see. */
  private readonly base = Symbol('kura.sessionRead');
  private readonly sealed = new WeakMap<object, SessionRead>();

  /**
   * Marks what `get` returns with its read (`loaded` is a plain object the store just made). For express-session
   * (`hidden`), under the symbol the base lives under: its `Session` copies only string keys, and `createSession`
   * reads the symbol back, so there is nothing to take off. Otherwise under {@link READ_MARKER_KEY}, the key
   * @fastify/session copies onto its own `Session`.
   */
  mark(loaded: Record<string, unknown>, read: SessionRead, hidden: boolean): void {
    if (hidden) (loaded as Record<symbol, unknown>)[this.base] = read;
    else loaded[READ_MARKER_KEY] = new ReadMarker(read);
  }

  /**
   * The read `get` marked `loaded` with, for express-session's `createSession`. A marker under
   * {@link READ_MARKER_KEY} (a store marking for @fastify/session) is deleted, so that express-session does not copy it.
   */
  take(loaded: Record<string, unknown>): SessionRead | undefined {
    const hidden = (loaded as Record<symbol, unknown>)[this.base] as SessionRead | undefined;
    if (hidden) return hidden;
    const marker = loaded[READ_MARKER_KEY];
    if (!(marker instanceof ReadMarker)) return undefined;
    delete loaded[READ_MARKER_KEY];
    return marker.read;
  }

  /** The base for a save of `session` under `sessionId`, if its request read that session. */
  of(session: object, sessionId: string): SessionRead | undefined {
    const held = session as Record<string | symbol, unknown>;
    const marker = held[READ_MARKER_KEY];
    const read = (held[this.base] as SessionRead | undefined) ?? this.sealed.get(session);
    // Something else under the marker's key: the app wrote it (a key its client chose). Under @fastify/session the read
    // is lost, and saved whole the session would start its absolute lifetime again, so one kept alive so would never
    // end (an outside review, 2026-12-07); under express-session the read lives elsewhere, but the key is never stored,
    // so the app's value was dropped without a word. Refused under both, saying whose key it is.
    if (marker !== undefined && !(marker instanceof ReadMarker)) throw new TypeError(REPLACED_MARKER);
    const found = read ?? (marker instanceof ReadMarker ? marker.read : undefined);
    return found?.sessionId === sessionId ? found : undefined;
  }

  remember(session: object, read: SessionRead): void {
    if (Object.isExtensible(session)) (session as Record<symbol, unknown>)[this.base] = read;
    else this.sealed.set(session, read);
  }
}
