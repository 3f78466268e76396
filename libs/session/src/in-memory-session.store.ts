import { registerOutcome, StoreUnavailableError } from '@kura/common';
import type { SessionData, SessionDataStore } from './session-data-store.port.js';
import type { EndOptions, EndedSession, RegisterEntry, RegisterOutcome, SessionExtension, SessionStore } from './session-store.port.js';
import { dataIdOf, effectiveExpiry, type SessionRecord } from './session.types.js';

interface Register {
  credentialVersion: number;
  entries: Record<string, RegisterEntry>;
}

/** An ended session: kept until its own expiry so that nothing can bring the id back. */
interface Tombstone {
  ended: true;
  userId: string;
  expiresAt: number;
  /** The data id whose data the ending deleted (absent when a new session took the data over). */
  deletedData?: string;
}

/**
 * Sessions in this process's memory, copied through JSON like a real store would serialise them. Each method
 * is one atomic step with no await inside, as a single conditional write is on a real engine, so the session
 * protocol can be tested under every interleaving of those steps.
 *
 * For unit tests, and as the deliberately broken design Kura exists to replace: each replica or Lambda
 * instance sees only its own sessions, and a restart forgets them all. Never the default.
 */
export class InMemorySessionStore implements SessionStore, SessionDataStore {
  private readonly records = new Map<string, string>();
  private readonly registers = new Map<string, string>();
  private readonly documents = new Map<string, string>();

  async insert(record: SessionRecord): Promise<void> {
    const existing = this.item(record.id);
    if (existing && !('ended' in existing) && existing.user.id === record.user.id && existing.createdAt === record.createdAt) return;
    if (existing) throw new StoreUnavailableError('session.insert', { cause: new Error(`Session id ${record.id} is already taken`) });
    this.records.set(record.id, JSON.stringify(record));
  }

  async find(id: string, now: number): Promise<SessionRecord | undefined> {
    const record = this.live(id);
    return record && effectiveExpiry(record) > now ? record : undefined;
  }

  async findWithData(id: string, now: number, dataStore: SessionDataStore): Promise<{ record: SessionRecord | undefined; data: SessionData | undefined }> {
    return { record: await this.find(id, now), data: dataStore === this ? this.document(id) : undefined };
  }

  async extend(id: string, change: SessionExtension): Promise<boolean> {
    const record = this.live(id);
    if (!record) return false;
    this.records.set(id, JSON.stringify({ ...record, ...change }));
    return true;
  }

  async end(id: string, now: number, options: EndOptions = {}): Promise<EndedSession | undefined> {
    const existing = this.item(id);
    if (!existing) return undefined;
    if ('ended' in existing) {
      if (options.owner !== undefined && options.owner !== existing.userId) return undefined;
      // As the adapters do: an ending that deleted the data deletes it again when sent again (what a patch wrote
      // since, or what a first attempt failed to delete); data a new session took over stays.
      if (!options.keepData && existing.deletedData !== undefined) this.documents.delete(existing.deletedData);
      return { userId: existing.userId, live: false };
    }
    const userId = existing.user.id;
    if (options.owner !== undefined && options.owner !== userId) return undefined;
    const tombstone: Tombstone = { ended: true, userId, expiresAt: effectiveExpiry(existing), ...(options.keepData ? {} : { deletedData: dataIdOf(existing) }) };
    this.records.set(id, JSON.stringify(tombstone));
    if (!options.keepData) this.documents.delete(dataIdOf(existing));
    return { userId, live: effectiveExpiry(existing) > now };
  }

  async register(userId: string, entry: RegisterEntry, now: number): Promise<RegisterOutcome> {
    const register = this.registerOf(userId);
    if (register.credentialVersion > entry.credentialVersion) return { outcome: 'stale' };
    register.credentialVersion = entry.credentialVersion;
    for (const other of Object.values(register.entries)) if (other.absoluteExpiresAt <= now && other.credentialVersion >= entry.credentialVersion) delete register.entries[other.id];
    register.entries[entry.id] = entry;
    this.registers.set(userId, JSON.stringify(register));
    return registerOutcome(Object.values(register.entries), entry, now);
  }

  async registered(userId: string): Promise<RegisterEntry[]> {
    return Object.values(this.registerOf(userId).entries);
  }

  async unregister(userId: string, ids: readonly string[]): Promise<void> {
    const register = this.registerOf(userId);
    for (const id of ids) delete register.entries[id];
    this.registers.set(userId, JSON.stringify(register));
  }

  async removeAll(now: number): Promise<number> {
    let live = 0;
    // The sessions there are now: one begun while it runs is not ended (as a scan that passed its key would not).
    for (const id of [...this.records.keys()]) {
      const ended = await this.end(id, now);
      if (!ended) continue;
      if (ended.live) live += 1;
      await this.unregister(ended.userId, [id]);
    }
    return live;
  }

  async listOfUser(userId: string, now: number, limit: number): Promise<SessionRecord[]> {
    return [...this.records.keys()]
      .map((id) => this.live(id))
      .filter((record): record is SessionRecord => record?.user.id === userId && effectiveExpiry(record) > now)
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, limit);
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

  async retain(): Promise<void> {
    // Nothing expires here.
  }

  /** How many live sessions are held; for tests. */
  get size(): number {
    return [...this.records.keys()].filter((id) => this.live(id)).length;
  }

  private document(sessionId: string): SessionData {
    const stored = this.documents.get(sessionId);
    return stored === undefined ? { data: {}, version: 0 } : (JSON.parse(stored) as SessionData);
  }

  private registerOf(userId: string): Register {
    const stored = this.registers.get(userId);
    return stored === undefined ? { credentialVersion: 0, entries: {} } : (JSON.parse(stored) as Register);
  }

  private item(id: string): SessionRecord | Tombstone | undefined {
    const stored = this.records.get(id);
    return stored === undefined ? undefined : (JSON.parse(stored) as SessionRecord | Tombstone);
  }

  private live(id: string): SessionRecord | undefined {
    const item = this.item(id);
    return item && !('ended' in item) ? item : undefined;
  }
}
