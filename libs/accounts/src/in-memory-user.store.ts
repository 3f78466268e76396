import { EmailTakenError } from './account.errors.js';
import type { UserRecord } from './account.types.js';
import type { UserStore } from './user-store.port.js';

/** Users in this process's memory, copied through JSON like a real store. For unit tests and the broken-design demo. */
export class InMemoryUserStore implements UserStore {
  private readonly users = new Map<string, string>();

  async insert(user: UserRecord): Promise<void> {
    if (this.users.has(user.email) && (await this.findByEmail(user.email))?.id !== user.id) throw new EmailTakenError();
    this.users.set(user.email, JSON.stringify(user));
  }

  async findByEmail(email: string): Promise<UserRecord | undefined> {
    const stored = this.users.get(email);
    return stored === undefined ? undefined : (JSON.parse(stored) as UserRecord);
  }

  async replacePasswordHash(email: string, expectedHash: string, newHash: string): Promise<number | undefined> {
    // No await before the write: check and write are one step, as the engines' conditional writes are.
    const stored = this.users.get(email);
    const user = stored === undefined ? undefined : (JSON.parse(stored) as UserRecord);
    // A retried change that met its own first attempt: the new hash (salted, so unique) is already there.
    if (user !== undefined && user.passwordHash === newHash) return user.credentialVersion ?? 0;
    if (user?.passwordHash !== expectedHash) return undefined;
    const credentialVersion = (user.credentialVersion ?? 0) + 1;
    this.users.set(email, JSON.stringify({ ...user, passwordHash: newHash, credentialVersion }));
    return credentialVersion;
  }

  async rehashPassword(email: string, expectedHash: string, newHash: string): Promise<boolean> {
    const stored = this.users.get(email);
    const user = stored === undefined ? undefined : (JSON.parse(stored) as UserRecord);
    if (user === undefined || user.passwordHash === newHash) return user !== undefined;
    if (user.passwordHash !== expectedHash) return false;
    this.users.set(email, JSON.stringify({ ...user, passwordHash: newHash }));
    return true;
  }

  async remove(email: string, expectedHash: string): Promise<boolean> {
    const stored = this.users.get(email);
    if (stored !== undefined && (JSON.parse(stored) as UserRecord).passwordHash !== expectedHash) return false;
    this.users.delete(email);
    return true;
  }
}
