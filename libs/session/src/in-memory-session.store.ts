import type { SessionStore } from './session-store.port.js';
import { effectiveExpiry, type SessionRecord } from './session.types.js';

/**
 * Sessions in this process's memory, copied through JSON like a real store would serialise them.
 *
 * For unit tests, and as the deliberately broken design Kura exists to replace: each replica or Lambda
 * instance sees only its own sessions, and a restart forgets them all. Never the default.
 */
export class InMemorySessionStore implements SessionStore {
  private readonly records = new Map<string, string>();

  async insert(record: SessionRecord): Promise<void> {
    if (this.records.has(record.id)) throw new Error(`Session ${record.id} already exists`);
    this.records.set(record.id, JSON.stringify(record));
  }

  async find(id: string, now: number): Promise<SessionRecord | undefined> {
    const stored = this.records.get(id);
    if (stored === undefined) return undefined;
    const record = JSON.parse(stored) as SessionRecord;
    return effectiveExpiry(record) <= now ? undefined : record;
  }

  async extend(id: string, change: Pick<SessionRecord, 'lastSeenAt' | 'idleExpiresAt' | 'absoluteExpiresAt'>): Promise<boolean> {
    const stored = this.records.get(id);
    if (stored === undefined) return false;
    this.records.set(id, JSON.stringify({ ...(JSON.parse(stored) as SessionRecord), ...change }));
    return true;
  }

  async remove(id: string): Promise<void> {
    this.records.delete(id);
  }

  async ping(): Promise<void> {}

  /** How many sessions are held; for tests. */
  get size(): number {
    return this.records.size;
  }
}
