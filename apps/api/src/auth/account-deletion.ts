import type { AccountService } from '@kura/accounts';
import type { SessionService } from '@kura/session';

/**
 * Deletes an account and everything of it that identifies the user, in an order that keeps every step safe to
 * stop at and to run again (docs/concurrency.md, "Account deletion"):
 * 1. close it (`AccountService.closeAccount`): its password hash becomes a mark no password matches, so no login
 *    succeeds from here on;
 * 2. end its sessions (`SessionService.closeAll`) with their data, on every replica at once, and move its register
 *    to the closing's credential version, so that a login already past its password check is refused;
 * 3. remove it: the email is free to register again, as a new account.
 * `keep` (the session asking, on the API) is left to the caller to end last, so that a deletion that fails
 * between steps can be asked for again. `account`, on the API, is the id of the user `keep` belongs to: an email
 * that belongs to another account by then (the deletion finished but for its last step, and someone registered the
 * email again) is not that user's, and is left alone. Returns how many live sessions ended, or `undefined` when
 * there is no such account.
 */
export async function deleteAccount(accounts: AccountService, sessions: SessionService, email: string, keep?: string, account?: string): Promise<number | undefined> {
  const closed = await accounts.closeAccount(email, account);
  if (!closed) return undefined;
  const ended = await sessions.closeAll(closed.userId, closed.credentialVersion, keep);
  await accounts.removeAccount(closed);
  return ended;
}
