import { hash } from 'node:crypto';

/**
 * The item key of a session: the SHA-256 of its id, base64url. The table never holds an id a cookie carries,
 * so a dump of it (a backup, an export, a support query) logs nobody in.
 */
export function itemKeyOf(sessionId: string): string {
  return hash('sha256', sessionId, 'base64url');
}
