import { documentBytes, type SessionDocument } from './session-document.js';

/** Largest session kept, in bytes of names and JSON: DynamoDB refuses items over 400 KB. */
export const MAX_SESSION_BYTES = 350_000;

/**
 * A session grew past what one DynamoDB item holds. Not an outage: the application put too much in it (keep
 * large data elsewhere and its key in the session). Nothing was written.
 */
export class SessionTooLargeError extends Error {
  override readonly name = 'SessionTooLargeError';

  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`The session is ${bytes} bytes of JSON; KuraStore keeps at most ${limit}`);
  }
}

/** @throws SessionTooLargeError when `document` is larger than {@link MAX_SESSION_BYTES} */
export function checkSize(document: SessionDocument): void {
  const bytes = documentBytes(document);
  if (bytes > MAX_SESSION_BYTES) throw new SessionTooLargeError(bytes, MAX_SESSION_BYTES);
}
