/** What a request read of its session: the base its save is compared with. */
export interface SessionRead {
  /** The item key (the SHA-256 of the session id): a read of another session never serves as a base. */
  readonly id: string;
  readonly generation: string;
  /** Each top-level key as read (or as this request last wrote it), JSON text. */
  readonly data: ReadonlyMap<string, string>;
  readonly cookie: string | undefined;
  readonly expiresAtMs: number;
}

/**
 * The key under which a session loaded by `get` carries its read through @fastify/session, which copies every
 * enumerable key of what `get` returned onto its own `Session` and gives the store nothing else to recognise
 * it by. The value is an opaque object whose JSON form is nothing, so it is never saved, and it changes
 * neither session's hash (both libraries hash the JSON form). express-session never sees it.
 */
export const READ_MARKER_KEY = '__kura';

/** The opaque value under {@link READ_MARKER_KEY}. */
class ReadMarker {
  toJSON(): undefined {
    return undefined;
  }
}

/**
 * Remembers, per session object, what its request read, without holding either alive (WeakMaps): the base
 * that lets a save write only the keys its request changed.
 *
 * - express-session turns what `get` returned into its `Session` through `store.createSession(req, sess)`,
 *   which the store overrides: the read is attached to that `Session` itself (`adopt`).
 * - @fastify/session copies what `get` returned onto its own `Session`, marker included; the marker leads back
 *   to the read (`of`).
 * After each write, the session object's base becomes what its request now knows (`remember`). A session
 * found gone when written keeps its base, so a later save of the same object cannot re-create it either.
 */
export class SessionReads {
  private readonly byMarker = new WeakMap<ReadMarker, SessionRead>();
  private readonly bySession = new WeakMap<object, SessionRead>();

  /** Marks what `get` returns with its read. */
  mark(loaded: Record<string, unknown>, read: SessionRead): void {
    const marker = new ReadMarker();
    this.byMarker.set(marker, read);
    Object.defineProperty(loaded, READ_MARKER_KEY, { value: marker, enumerable: true, configurable: true, writable: true });
  }

  /** Takes the marker off what `get` returned (express-session), giving back the read it carried. */
  take(loaded: Record<string, unknown>): SessionRead | undefined {
    const marker = loaded[READ_MARKER_KEY];
    if (!(marker instanceof ReadMarker)) return undefined;
    delete loaded[READ_MARKER_KEY];
    return this.byMarker.get(marker);
  }

  /** The base for a save of `session` under item key `id`, if its request read that session. */
  of(session: object, id: string): SessionRead | undefined {
    const marker = (session as Record<string, unknown>)[READ_MARKER_KEY];
    const read = this.bySession.get(session) ?? (marker instanceof ReadMarker ? this.byMarker.get(marker) : undefined);
    return read?.id === id ? read : undefined;
  }

  remember(session: object, read: SessionRead): void {
    this.bySession.set(session, read);
  }
}
