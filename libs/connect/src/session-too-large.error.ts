import { dataBytes, documentBytes, type SessionDocument } from './session-document.js';

/**
 * Largest session kept, in bytes as DynamoDB counts its item (`documentBytes`): DynamoDB refuses items over 400 KB
 * (409 600 bytes), and the margin leaves room for keys concurrent saves add beside a save's own (see `checkGrowth`).
 */
export const MAX_SESSION_BYTES = 350_000;

/**
 * Longest name of a session's top-level key, in UTF-8 bytes as stored, kept on every storage alike. DynamoDB refuses
 * a name over 64 KB with a ValidationException, and DynamoDB Local fails (500) on names from about 55 KB: both were a
 * 503 that said to try again, on DynamoDB only (an outside review, 2026-12-06). Half DynamoDB's limit is clear of both.
 */
export const MAX_KEY_NAME_BYTES = 32_768;

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
    /** `keyName`: `bytes` is the length of one key's name, `limit` {@link MAX_KEY_NAME_BYTES} */
    options?: { cause?: unknown; keyName?: boolean },
  ) {
    super(
      options?.keyName
        ? `A key of the session has a name of ${bytes} bytes; KuraStore keeps names of at most ${limit}`
        : bytes > limit
          ? `The session is ${bytes} bytes as its stored item is counted; KuraStore keeps at most ${limit}`
          : `The session, with the keys other requests saved beside this one, is more than the storage keeps in one item (this save alone: ${bytes} bytes; KuraStore keeps at most ${limit})`,
      options,
    );
  }
}

/** @throws SessionTooLargeError when `document`, written whole, is larger than {@link MAX_SESSION_BYTES} */
export function checkSize(document: SessionDocument & { readonly indexed?: string | undefined }): void {
  checkKeyNames(document.data);
  checkBytes(document);
}

function checkBytes(document: SessionDocument & { readonly indexed?: string | undefined }): void {
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
  checkKeyNames(document.data, read);
  if (dataBytes(document.data) <= dataBytes(read)) return;
  checkBytes(document);
}

/**
 * @throws SessionTooLargeError when a key's stored name is longer than {@link MAX_KEY_NAME_BYTES} (a name of at most a
 * third as many characters never is). Names already in `read` pass: a session a storage kept with one before this
 * rule (Redis keeps any) is still saved and extended, as a session grown past the size limit is (`checkGrowth`).
 */
function checkKeyNames(data: ReadonlyMap<string, string>, read?: ReadonlyMap<string, string>): void {
  for (const name of data.keys()) {
    if (name.length * 3 <= MAX_KEY_NAME_BYTES || read?.has(name)) continue;
    const bytes = Buffer.byteLength(name);
    if (bytes > MAX_KEY_NAME_BYTES) throw new SessionTooLargeError(bytes, MAX_KEY_NAME_BYTES, { keyName: true });
  }
}
