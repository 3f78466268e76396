/** A user as stored. `email` is normalised (trimmed, lower-case) and unique. Times are epoch milliseconds. */
export interface UserRecord {
  readonly id: string;
  readonly email: string;
  readonly name: string | null;
  readonly passwordHash: string;
  readonly createdAt: number;
}

/** What may be shown of a user. */
export interface PublicUser {
  readonly id: string;
  readonly email: string;
  readonly name: string | null;
  readonly createdAt: string;
}

export function toPublicUser(user: UserRecord): PublicUser {
  return { id: user.id, email: user.email, name: user.name, createdAt: new Date(user.createdAt).toISOString() };
}

/** Emails compare case-insensitively; surrounding white space is never part of one. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}
