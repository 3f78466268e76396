import type { UserRecord } from '@kura/common';

export type { UserRecord } from '@kura/common';

/** What may be shown of a user. */
export interface PublicUser {
  readonly id: string;
  readonly email: string;
  readonly name: string | null;
  readonly createdAt: string;
}

/** A user whose password was just checked, and the version of the credentials that check was made on. */
export interface VerifiedUser extends PublicUser {
  readonly credentialVersion: number;
}

export function toPublicUser(user: UserRecord): PublicUser {
  return { id: user.id, email: user.email, name: user.name, createdAt: new Date(user.createdAt).toISOString() };
}

/** Emails compare case-insensitively; surrounding white space is never part of one. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}
