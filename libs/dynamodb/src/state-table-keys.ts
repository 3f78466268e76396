/**
 * The sessions table holds a few kinds of item, told apart by the shape of their key. Session keys are
 * base64url SHA-256 digests (43 characters, never a `#`), so the prefixed keys below can never collide with them.
 */
export const itemKeys = {
  /** A session's application data. */
  data: (sessionId: string) => `data#${sessionId}`,
  /** The register of a user's sessions (for revoking them all without the index). */
  userRegister: (userId: string) => `user#${userId}`,
  /** A failed-login counter for one scope and time window. */
  loginFailures: (counter: string) => `fail#${counter}`,
  /** The key `ping` reads: never written. */
  ping: 'kura#ping',
} as const;

export type StateTableItem = Record<string, unknown>;
