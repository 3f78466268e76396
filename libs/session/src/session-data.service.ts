import { Inject, Injectable } from '@nestjs/common';
import { applyMergePatch, isObject, MergePatchKeyError } from './merge-patch.js';
import { checkSessionDataPatch } from './session-data-patch.js';
import type { SessionData, SessionDataStore } from './session-data-store.port.js';
import {
  InvalidSessionDataError,
  SessionDataConflictError,
  SessionDataContentionError,
  SessionDataTooLargeError,
} from './session.errors.js';
import { SESSION_SETTINGS, type SessionSettings } from './session.options.js';
import { dataIdOf, type SessionRecord } from './session.types.js';

/**
 * Which versions of the data a patch may apply to: one version (HTTP's `If-Match: "<version>"`), or a test of the
 * version (`If-Match` with a list, `If-None-Match`). Asked of the version each attempt reads, which its write is
 * conditional on, so it holds for the version the patch lands on.
 */
export type SessionDataPrecondition = number | ((version: number) => boolean);

/** Attempts for an unconditional patch before giving up; 50 writers on one document need about a dozen. */
const MAX_ATTEMPTS = 16;

/**
 * A small JSON document per session (a cart, a wizard's progress), safe under concurrency: every change is
 * a read, a merge and a write conditional on the version read. A patch with a precondition fails once the version
 * read no longer meets it (one version named: any intervening write); an unconditional one merges again on the new version, so no update is ever lost.
 */
@Injectable()
export class SessionDataService {
  constructor(@Inject(SESSION_SETTINGS) private readonly settings: SessionSettings) {}

  private get store(): SessionDataStore {
    if (!this.settings.dataStore) throw new Error('SessionDataService needs SessionModule options.dataStore');
    return this.settings.dataStore;
  }

  /** The data; `read`, when given, is what the guard read with the session (`AuthenticatedSession.data`). */
  read(session: SessionRecord, read?: SessionData): Promise<SessionData> {
    return read ? Promise.resolve(read) : this.store.read(dataIdOf(session));
  }

  /**
   * Applies an RFC 7396 merge patch. With a `precondition`, only on a version it admits (else
   * `SessionDataConflictError` naming the current one): checked on the version each attempt reads, which its write
   * is conditional on. A patch that cannot be stored as sent (`checkSessionDataPatch`) is an
   * `InvalidSessionDataError` before any read. `read`, when given, is what the guard read with the session: the
   * first attempt starts from it (its write is conditional on its version like any other), every later one reads again.
   */
  async patch(session: SessionRecord, patch: unknown, precondition?: SessionDataPrecondition, read?: SessionData): Promise<SessionData> {
    if (!isObject(patch)) throw new InvalidSessionDataError('A session data patch must be a JSON object');
    checkSessionDataPatch(patch);
    const admits = typeof precondition === 'number' ? (version: number) => version === precondition : precondition;
    const key = dataIdOf(session);
    let prefetched = read;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      const current = prefetched ?? (await this.store.read(key));
      prefetched = undefined;
      if (admits && !admits(current.version)) throw new SessionDataConflictError(current.version);
      const data = this.merge(current.data, patch);
      // A patch that changes nothing (`{}`, a value set to what it is, a key removed that is not there) writes
      // nothing: a new version would fail every other client's If-Match for a document that did not change.
      if (data === current.data) return current;
      if (await this.store.write(key, data, current.version, session.absoluteExpiresAt)) {
        return { data, version: current.version + 1 };
      }
      // Another write landed: one version named is no longer current (the next read says which is); any other
      // precondition is asked again of the version that write made.
      if (typeof precondition !== 'number') await backoff(attempt);
    }
    throw new SessionDataContentionError(MAX_ATTEMPTS);
  }

  /** The merged document, or `current` itself when the patch changes nothing. */
  private merge(current: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
    let merged: unknown;
    try {
      merged = applyMergePatch(current, patch);
    } catch (error) {
      if (error instanceof MergePatchKeyError) throw new InvalidSessionDataError(error.message);
      throw error;
    }
    const text = JSON.stringify(merged);
    // A merge keeps the order of the keys it keeps and appends new ones: the same text is the same document.
    if (text === JSON.stringify(current)) return current;
    if (Buffer.byteLength(text) > this.settings.dataMaxBytes) {
      throw new SessionDataTooLargeError(this.settings.dataMaxBytes);
    }
    return merged as Record<string, unknown>;
  }
}

/** Full-jitter exponential backoff: spreads competing writers apart instead of making them collide again. */
function backoff(attempt: number): Promise<void> {
  const ceiling = Math.min(200, 5 * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}
