import { dataBytes, documentBytes, type SessionDocument } from './session-document.js';

/**
 * Largest session kept, in bytes as DynamoDB counts its item (`documentBytes`): DynamoDB refuses items over 400 KB
 * (409 600 bytes), and the margin leaves room for keys concurrent saves add beside a save's own (see `checkGrowth`).
 */
export const MAX_SESSION_BYTES = 350_000;

/**
 * A session grew past what one DynamoDB item holds. Not an outage: the application put too much in it (keep
 * large data elsewhere and its key in the session). Nothing was written.
 */
export class SessionTooLargeError extends Error {
  override readonly name = 'SessionTooLargeError';
  /** 413 Content Too Large, for express's and Fastify's own error handlers, which answer it as StoreUnavailableError's 503. */
  readonly statusCode = 413;

  /**
   * @param bytes the session's size as KuraStore measured it (`documentBytes`): under `limit` when the storage itself
   *   refused the session as other requests' saves had grown it
   */
  constructor(
    readonly bytes: number,
    readonly limit: number,
    options?: { cause?: unknown },
  ) {
    super(
      bytes > limit
        ? `The session is ${bytes} bytes as its stored item is counted; KuraStore keeps at most ${limit}`
        : `The session, with the keys other requests saved beside this one, is more than the storage keeps in one item (this save alone: ${bytes} bytes; KuraStore keeps at most ${limit})`,
      options,
    );
  }
}

/** @throws SessionTooLargeError when `document`, written whole, is larger than {@link MAX_SESSION_BYTES} */
export function checkSize(document: SessionDocument & { readonly indexed?: string | undefined }): void {
  const bytes = documentBytes(document);
  if (bytes > MAX_SESSION_BYTES) throw new SessionTooLargeError(bytes, MAX_SESSION_BYTES);
}

/**
 * The size rule of a save that writes only its changes (`document`: the session as its request read it, `read`,
 * with them applied). Refused only when it grows the session's data and leaves it larger than
 * {@link MAX_SESSION_BYTES}: a touch, or a save that removes keys or shrinks values, is written whatever the size,
 * since saves of other keys merged meanwhile may have grown the stored session past the limit, and refusing those
 * writes would leave the session never extended, and the user logged out at its expiry.
 * @throws SessionTooLargeError
 */
export function checkGrowth(read: ReadonlyMap<string, string>, document: SessionDocument): void {
  if (dataBytes(document.data) <= dataBytes(read)) return;
  checkSize(document);
}
