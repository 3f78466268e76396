import { randomBytes } from 'node:crypto';
import type { Clock } from '@kura/common';

/**
 * For KuraStore's `migrateFrom` specs: sessions as express-session stores them, session ids, users, and the
 * `userOf` / `credentialOf` every one of those specs gives its stores.
 */
export const newSid = (): string => randomBytes(18).toString('base64url');
export const newUser = (): string => `user-${randomBytes(6).toString('hex')}`;
export const userOf = (session: Record<string, unknown>): unknown => session.user;
/** The credential: the session's `pw` (a password version). */
export const credentialOf = (session: Record<string, unknown>): unknown => session.pw;

/** Sessions whose cookie lasts `ms` (30 minutes unless told) from `clock`'s now, holding `data`. */
export const sessionsOn =
  (clock: Clock) =>
  (data: Record<string, unknown>, ms = 30 * 60_000): Record<string, unknown> => ({
    cookie: { originalMaxAge: ms, expires: new Date(clock.now() + ms).toISOString(), httpOnly: true, path: '/' },
    ...data,
  });
