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
