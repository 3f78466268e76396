/** A session's application state: a JSON object and the version it was written at (0: never written). */
export interface SessionData {
  readonly data: Record<string, unknown>;
  readonly version: number;
}

/**
 * Per-session JSON documents, written with optimistic concurrency: a write names the version it read and
 * fails if another write landed in between, so no update is ever lost.
 */
export interface SessionDataStore {
  /** The document, strongly consistent; `{data: {}, version: 0}` when none was written. */
  read(sessionId: string): Promise<SessionData>;

  /**
   * Writes `data` as version `expectedVersion + 1` if the stored version is still `expectedVersion`.
   * Returns `false` (writing nothing) when it is not. `expiresAt` (epoch ms) bounds how long the engine keeps a
   * document this write creates; a write never shortens how long an existing one is kept (`retain` may have kept it
   * for a new session, and a patch authenticated by the old one may still be on its way).
   */
  write(sessionId: string, data: Record<string, unknown>, expectedVersion: number, expiresAt: number): Promise<boolean>;

  /**
   * Keeps the document at least until `expiresAt` (epoch ms): a new session took it over. An absent one is created
   * empty at version 0 (what `read` answers for none), kept as long: the write of its first version, a patch the old
   * session authenticated still on its way, finds it and keeps that expiry; its version, and so its ETag, stays 0
   * until a write changes it.
   */
  retain(sessionId: string, expiresAt: number): Promise<void>;
}
