import type { SessionData, SessionDataStore } from './session-data-store.port.js';
import type { SessionExtension, SessionStore } from './session-store.port.js';
import { effectiveExpiry, type SessionRecord } from './session.types.js';

/**
 * Sessions in this process's memory, copied through JSON like a real store would serialise them.
 *
 * For unit tests, and as the deliberately broken design Kura exists to replace: each replica or Lambda
 * instance sees only its own sessions, and a restart forgets them all. Never the default.
 */
export class InMemorySessionStore implements SessionStore, SessionDataStore {
  private readonly records = new Map<string, string>();
  private readonly documents = new Map<string, string>();

  async insert(record: SessionRecord): Promise<void> {
    if (this.records.has(record.id)) throw new Error(`Session ${record.id} already exists`);
    this.records.set(record.id, JSON.stringify(record));
  }

  async find(id: string, now: number): Promise<SessionRecord | undefined> {
    const record = this.get(id);
    return record && effectiveExpiry(record) > now ? record : undefined;
  }

  async extend(id: string, change: SessionExtension): Promise<boolean> {
    const record = this.get(id);
    if (!record) return false;
    this.records.set(id, JSON.stringify({ ...record, ...change }));
    return true;
  }

  async remove(id: string): Promise<void> {
    this.records.delete(id);
    this.documents.delete(id);
  }

  async removeOwned(id: string, userId: string): Promise<boolean> {
    if (this.get(id)?.user.id !== userId) return false;
    await this.remove(id);
    return true;
  }

  async removeAllOfUser(userId: string, keep?: string): Promise<number> {
    const ids = [...this.records.keys()].filter((id) => id !== keep && this.get(id)?.user.id === userId);
    for (const id of ids) await this.remove(id);
    return ids.length;
  }

  async removeAll(): Promise<number> {
    const count = this.records.size;
    this.records.clear();
    this.documents.clear();
    return count;
  }

  async listOfUser(userId: string, now: number): Promise<SessionRecord[]> {
    return [...this.records.keys()]
      .map((id) => this.get(id)!)
      .filter((record) => record.user.id === userId && effectiveExpiry(record) > now)
      .sort((a, b) => b.createdAt - a.createdAt);
  }

  async ping(): Promise<void> {}

  async read(sessionId: string): Promise<SessionData> {
    return this.document(sessionId);
  }

  async write(sessionId: string, data: Record<string, unknown>, expectedVersion: number): Promise<boolean> {
    // Check and set with no await in between: the compare-and-swap a conditional write gives on a real engine.
    if (this.document(sessionId).version !== expectedVersion) return false;
    this.documents.set(sessionId, JSON.stringify({ data, version: expectedVersion + 1 }));
    return true;
  }

  /** How many sessions are held; for tests. */
  get size(): number {
    return this.records.size;
  }

  private document(sessionId: string): SessionData {
    const stored = this.documents.get(sessionId);
    return stored === undefined ? { data: {}, version: 0 } : (JSON.parse(stored) as SessionData);
  }

  private get(id: string): SessionRecord | undefined {
    const stored = this.records.get(id);
    return stored === undefined ? undefined : (JSON.parse(stored) as SessionRecord);
  }
}
