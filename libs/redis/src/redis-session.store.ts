import { effectiveExpiry, endedByUser, endingCall, endingDeletedData, type EndedSession, type EndOptions, type RegisterEntry, type RegisterOutcome, asUpkeep, cleanUpRegister, registerOutcome, type SessionData, type SessionDataStore, type SessionExtension, type SessionRecord, type SessionStore, StoreUnavailableError } from '@kura/common';
import { isCommandUnavailable, storeUnavailable } from './redis-errors.js';
import { flatHashOf, hashOf } from './redis-hash.js';
import { idOfKey, type RedisStoreOptions } from './redis-keys.js';
import { REASSERT, type RedisCommander, RedisScript } from './redis-script.js';
import { RedisSessionDataStore, sessionDataOf } from './redis-session-data.store.js';
import { RedisStoreBase } from './redis-store.base.js';

export interface RedisSessionStoreOptions extends RedisStoreOptions {
  /**
   * How long Redis keeps a session's key after the session expired (capped at its absolute expiry): reads treat
   * it as absent at once, but ending it still says whose it was, so a logout or revocation of an idle-expired
   * session unregisters it and deletes its data then rather than leaving them to their own expiry (DynamoDB's
   * TTL leaves items for up to days in the same way). @default 86_400_000 (one day)
   */
  retainExpiredMs?: number;
}

/** Register fields: `s:<id>` per session (`<absolute expiry ms>:<credential version>`), `cv` the register's version. */
const REGISTER_PREFIX = 's:';
/** Fields removed by one HDEL. */
const UNREGISTER_CHUNK = 500;
/** Session reads a prune has in flight at once (pipelined on the connection). */
const PRUNE_BATCH = 100;
/**
 * The steps a failover must not undo, sent with `sendDurable` (WAIT for replicas, when configured): the session
 * written at login, its tombstone at logout or revocation, and the register's raised credential version. The rest
 * (the listing index, idle extensions, deleting an ended session's data, unregistering) may be lost with a
 * failover without undoing anything acknowledged: the index is pruned on read, an extension is redone on the next
 * request, and the tombstone already ends the session.
 */
const DURABLE = true;
/**
 * What an ending removes: the session's body, which makes the hash a tombstone (no `createdAt`), its personal
 * details included. The owner, the expiry times and the data id stay, so that the ending sent again (ioredis
 * resends what was in flight when a connection dropped) can answer as the first one did (`endedBy`); the key's
 * TTL stays too: the tombstone's lifetime.
 */
const SESSION_BODY = ['createdAt', 'email', 'name', 'lastSeenAt', 'authenticatedAt', 'userAgent', 'ip'];

/**
 * Writes a new session unless its key exists. A key held by the same user with the same `createdAt` is this
 * insert's own earlier attempt (a retry after a lost answer): 1. Anything else there (another session, or the
 * tombstone of an ended one: no `createdAt`): 0, nothing written. Written: 2.
 * KEYS: session. ARGV: userId, createdAt, expiry (epoch ms), then field/value pairs.
 */
/**
 * A session and its data document, read together (one round trip; the two keys share their hash tag, so one
 * slot). KEYS: session, data. Returns the session's HGETALL and the document's `d` and `v`.
 */
const FIND_WITH_DATA = new RedisScript(`
return { redis.call('HGETALL', KEYS[1]), redis.call('HMGET', KEYS[2], 'd', 'v') }`);

const INSERT = new RedisScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  local held = redis.call('HMGET', KEYS[1], 'userId', 'createdAt')
  if held[1] == ARGV[1] and held[2] == ARGV[2] then
    ${REASSERT("'userId', held[1]")}
    return 1
  end
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return 2`);

/**
 * Moves a live session's expiry: only while it has a body (never recreates an ended or expired session).
 * KEYS: session. ARGV: expiry (epoch ms), then field/value pairs. Returns 1 when written, 0 otherwise.
 */
const EXTEND = new RedisScript(`
if redis.call('HEXISTS', KEYS[1], 'createdAt') == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1`);

/**
 * Ends a session: leaves a tombstone (owner, `endedAt` and `endedBy`, the key's TTL unchanged) so no late write
 * brings it back. KEYS: session. ARGV: whether to check the owner ('1' or '0': an empty user id is an id too),
 * the owner, now, this call's id, then the body fields to remove.
 * Returns nil when there is no session (of that owner); `{userId, 0, dataId or '', endedBy}` for a tombstone;
 * `{userId, 1, dataId or '', idleExpiresAt, absoluteExpiresAt}` the first time, and to that call sent again.
 */
const END = new RedisScript(`
local held = redis.call('HMGET', KEYS[1], 'userId', 'createdAt', 'dataId', 'idleExpiresAt', 'absoluteExpiresAt')
if not held[1] then return false end
if ARGV[1] == '1' and held[1] ~= ARGV[2] then return false end
if not held[2] then
  ${REASSERT("'endedAt', redis.call('HGET', KEYS[1], 'endedAt') or ARGV[3]")}
  local endedBy = redis.call('HGET', KEYS[1], 'endedBy')
  if endedBy == ARGV[4] then return {held[1], 1, held[3] or '', held[4], held[5]} end
  return {held[1], 0, held[3] or '', endedBy or ''}
end
redis.call('HDEL', KEYS[1], unpack(ARGV, 5))
redis.call('HSET', KEYS[1], 'endedAt', ARGV[3], 'endedBy', ARGV[4])
return {held[1], 1, held[3] or '', held[4], held[5]}`);

/**
 * Adds a session to its user's register unless the register has moved to newer credentials (nil: stale);
 * raises the register's version. Returns the register (HGETALL). The register never expires (`PERSIST` takes the
 * expiry registers had before): under a `volatile-*` eviction policy (ElastiCache's default is `volatile-lru`)
 * Redis evicts only keys with one, and a register, read by revocations alone, is the least recently used of a
 * user's keys; evicted, it left "log out everywhere" and a password change ending none of the sessions still live.
 * It holds one field per live session (ended ones leave it) and the version: one small hash per user, as accounts.
 * KEYS: register. ARGV: field, value, credential version.
 */
const REGISTER = new RedisScript(`
local cv = redis.call('HGET', KEYS[1], 'cv')
if cv and tonumber(cv) > tonumber(ARGV[3]) then return false end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2], 'cv', ARGV[3])
redis.call('PERSIST', KEYS[1])
return redis.call('HGETALL', KEYS[1])`);

/**
 * Adds a session to its user's listing index, keeping the index at least as long as the session.
 * KEYS: index. ARGV: createdAt, id, expiry (epoch ms).
 */
const INDEX = new RedisScript(`
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
if redis.call('PEXPIRETIME', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIREAT', KEYS[1], ARGV[3]) end
return 1`);


function fieldsOf(record: SessionRecord): string[] {
  const { user } = record;
  const fields: [string, string | number | undefined][] = [
    ['userId', user.id],
    ['email', user.email],
    ['name', typeof user.name === 'string' ? user.name : undefined],
    ['createdAt', record.createdAt],
    ['lastSeenAt', record.lastSeenAt],
    ['idleExpiresAt', record.idleExpiresAt],
    ['absoluteExpiresAt', record.absoluteExpiresAt],
    ['authenticatedAt', record.authenticatedAt],
    ['dataId', record.dataId],
    ['userAgent', record.userAgent],
    ['ip', record.ip],
  ];
  return fields.filter(([, value]) => value !== undefined).flatMap(([name, value]) => [name, String(value)]);
}

/** The live session an `HGETALL <session>` reply holds: Redis expires keys on its own clock, so a session past its expiry on ours is absent all the same. */
function liveRecordOf(reply: unknown, id: string, now: number): SessionRecord | undefined {
  const record = recordOf(reply, id);
  return record && effectiveExpiry(record) > now ? record : undefined;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The session an `HGETALL` reply (a flat list of names and values) holds, read in one pass: this is every strict
 * request's read, and an object of the hash then a copy of it cost more than the rest of the decoding. `undefined`
 * for an absent key or a tombstone (no `createdAt`).
 */
function recordOf(reply: unknown, id: string): SessionRecord | undefined {
  const flat = flatHashOf(reply);
  let userId: string | undefined, email: string | undefined, name: string | undefined, createdAt: string | undefined;
  let lastSeenAt: string | undefined, idleExpiresAt: string | undefined, absoluteExpiresAt: string | undefined;
  let authenticatedAt: string | undefined, dataId: string | undefined, userAgent: string | undefined, ip: string | undefined;
  for (let index = 0; index + 1 < flat.length; index += 2) {
    const value = flat[index + 1];
    switch (flat[index]) {
      case 'userId': userId = value; break;
      case 'email': email = value; break;
      case 'name': name = value; break;
      case 'createdAt': createdAt = value; break;
      case 'lastSeenAt': lastSeenAt = value; break;
      case 'idleExpiresAt': idleExpiresAt = value; break;
      case 'absoluteExpiresAt': absoluteExpiresAt = value; break;
      case 'authenticatedAt': authenticatedAt = value; break;
      case 'dataId': dataId = value; break;
      case 'userAgent': userAgent = value; break;
      case 'ip': ip = value; break;
    }
  }
  if (createdAt === undefined || userId === undefined) return undefined;
  const record: Writable<SessionRecord> = {
    id,
    user: email === undefined ? { id: userId, name: name ?? null } : { id: userId, email, name: name ?? null },
    createdAt: Number(createdAt),
    lastSeenAt: Number(lastSeenAt),
    idleExpiresAt: Number(idleExpiresAt),
    absoluteExpiresAt: Number(absoluteExpiresAt),
  };
  if (authenticatedAt !== undefined) record.authenticatedAt = Number(authenticatedAt);
  if (dataId !== undefined) record.dataId = dataId;
  if (userAgent !== undefined) record.userAgent = userAgent;
  if (ip !== undefined) record.ip = ip;
  return record;
}

/** The sessions a register names. */
function entriesOf(register: Record<string, string>): RegisterEntry[] {
  return Object.entries(register)
    .filter(([name]) => name.startsWith(REGISTER_PREFIX))
    .map(([name, value]) => {
      const [expiry, version] = value.split(':');
      return { id: name.slice(REGISTER_PREFIX.length), absoluteExpiresAt: Number(expiry), credentialVersion: Number(version ?? 0) };
    });
}

/**
 * Sessions in Redis: one hash per session, keyed by the token's hash, deleted by Redis (PEXPIREAT) a while after the session
 * expires (`retainExpiredMs`) and absent on read once its expiry has passed. Each user has a register
 * (a hash naming their sessions and the credential version they are on) for revocation, and a sorted set of
 * their session ids by creation for listing; neither is ever found by KEYS or SCAN. An ended session leaves a
 * tombstone (its owner and `endedAt`) until it would have expired, so no late write can bring it back.
 * Every conditional step is one Lua script on one key; steps on different keys are sequenced as in the DynamoDB
 * adapter, so the protocol of docs/concurrency.md holds unchanged, on a single node or a cluster.
 */
export class RedisSessionStore extends RedisStoreBase implements SessionStore {
  private readonly retainExpiredMs: number;

  constructor(
    redis: RedisCommander,
    options: RedisSessionStoreOptions = {},
  ) {
    super(redis, options);
    this.retainExpiredMs = options.retainExpiredMs ?? 86_400_000;
  }

  /** When Redis may delete a session's key (epoch ms): some time after it expires, never after its absolute expiry. */
  private keyExpiry(record: Pick<SessionRecord, 'idleExpiresAt' | 'absoluteExpiresAt'>): number {
    return Math.max(effectiveExpiry(record), Math.min(record.absoluteExpiresAt, effectiveExpiry(record) + this.retainExpiredMs));
  }

  async insert(record: SessionRecord): Promise<void> {
    const written = await this.call('session.insert', () =>
      INSERT.run(this.redis, [this.keys.session(record.id)], [record.user.id, record.createdAt, this.keyExpiry(record), ...fieldsOf(record)], DURABLE),
    );
    // 256-bit random ids do not collide; a taken id means a broken random source or an ended session: never overwrite.
    if (Number(written) === 0) throw storeUnavailable('session.insert', new Error(`Session id ${record.id} is already taken`));
    // After the session: an index entry always names a session that was written (see listOfUser's pruning).
    await this.call('session.insert', () =>
      INDEX.run(this.redis, [this.keys.sessionsOf(record.user.id)], [record.createdAt, record.id, record.absoluteExpiresAt]),
    );
  }

  async find(id: string, now: number): Promise<SessionRecord | undefined> {
    return liveRecordOf(await this.call('session.find', () => this.redis.sendCommand(['HGETALL', this.keys.session(id)])), id, now);
  }

  async findWithData(id: string, now: number, dataStore: SessionDataStore): Promise<{ record: SessionRecord | undefined; data: SessionData | undefined }> {
    if (!(dataStore instanceof RedisSessionDataStore && this.sharesKeysWith(dataStore))) return { record: await this.find(id, now), data: undefined };
    const [session, document] = (await this.call('session.find', () =>
      FIND_WITH_DATA.run(this.redis, [this.keys.session(id), this.keys.data(id)], []),
    )) as [unknown, unknown];
    return { record: liveRecordOf(session, id, now), data: sessionDataOf(document) };
  }

  async extend(id: string, change: SessionExtension): Promise<boolean> {
    const fields = [
      'lastSeenAt',
      String(change.lastSeenAt),
      'idleExpiresAt',
      String(change.idleExpiresAt),
      'absoluteExpiresAt',
      String(change.absoluteExpiresAt),
      ...(change.authenticatedAt === undefined ? [] : ['authenticatedAt', String(change.authenticatedAt)]),
    ];
    const written = await this.call('session.extend', () => EXTEND.run(this.redis, [this.keys.session(id)], [this.keyExpiry(change), ...fields]));
    return Number(written) === 1;
  }

  async end(id: string, now: number, options: EndOptions = {}): Promise<EndedSession | undefined> {
    const reply = (await this.call('session.end', () =>
      END.run(this.redis, [this.keys.session(id)], [options.owner === undefined ? '0' : '1', options.owner ?? '', now, endingCall(options.keepData === true), ...SESSION_BODY], DURABLE),
    )) as [string, number, string?, string?, string?] | null;
    if (!reply) return undefined;
    const [userId, firstEnding, dataId, fourth, absolute] = reply;
    const first = Number(firstEnding) === 1;
    // The first ending owns the data. A later one deletes it again only when the first was to delete it (its
    // `endedBy` says so): the first may have failed after its tombstone landed (a WAIT that timed out: a 503), and
    // the client's retry, a new call, finishes the job; data a new session took over is never touched. Both steps
    // are idempotent, so they run again on every such ending.
    if (!options.keepData && (first || endingDeletedData(fourth))) await this.call('session.end', () => this.redis.sendCommand(['UNLINK', this.keys.data(dataId || id)]));
    // Leaving the listing index is upkeep, as unregistering is: the ending has landed, and a listing drops the entry of
    // a tombstone itself. On a Cluster the index lives with the user (`{userId}`), often on another master than the
    // session: that master failing answered 503 for an ending that had landed, and the client's retry of its own
    // session's revocation met a 401 (an outside review, 10 of 10 with the user's master paused, 2026-12-07).
    await asUpkeep(this.call('session.end', () => this.redis.sendCommand(['ZREM', this.keys.sessionsOf(userId), id])));
    if (!first) return { userId, live: false };
    return { userId, live: effectiveExpiry({ idleExpiresAt: Number(fourth), absoluteExpiresAt: Number(absolute) }) > now };
  }

  async register(userId: string, entry: RegisterEntry, now: number): Promise<RegisterOutcome> {
    const reply = await this.call('session.register', () =>
      REGISTER.run(
        this.redis,
        [this.keys.register(userId)],
        [`${REGISTER_PREFIX}${entry.id}`, `${entry.absoluteExpiresAt}:${entry.credentialVersion}`, entry.credentialVersion],
        DURABLE,
      ),
    );
    if (reply === null) return { outcome: 'stale' };
    const entries = entriesOf(hashOf(reply));
    const outcome = registerOutcome(entries, entry, now);
    await cleanUpRegister(entries, entry, now, { prune: (others) => this.prune(userId, others, now), unregister: (ids) => this.unregister(userId, ids) });
    return outcome;
  }

  /**
   * Drops from the register the entries of sessions that are over: past their absolute expiry (no read needed), or
   * whose hash is absent, a tombstone, or past its effective (idle) expiry. A session past its expiry whose hash is
   * still there (Redis keeps it `retainExpiredMs` longer) is ended first: a use that read it in time may still
   * extend it, and unregistered it would then escape logout-all and a password change. No entry of a session that
   * may still be live goes: a login writes its session before it registers it, so an absent hash was deleted by
   * its expiry (or evicted: logged out all the same) and nothing writes it again; a login on its way is not among
   * the entries read, and only those are dropped. The same rules as the DynamoDB adapter's prune.
   */
  private async prune(userId: string, entries: readonly RegisterEntry[], now: number): Promise<void> {
    const over = entries.filter((entry) => entry.absoluteExpiresAt <= now).map((entry) => entry.id);
    const ahead = entries.filter((entry) => entry.absoluteExpiresAt > now).map((entry) => entry.id);
    const [gone, expired]: [string[], string[]] = [[], []];
    for (let start = 0; start < ahead.length; start += PRUNE_BATCH) {
      const ids = ahead.slice(start, start + PRUNE_BATCH);
      const replies = await Promise.all(
        ids.map((id) => this.call('session.register', () => this.redis.sendCommand(['HMGET', this.keys.session(id), 'createdAt', 'idleExpiresAt', 'absoluteExpiresAt']))),
      );
      ids.forEach((id, at) => {
        const [createdAt, idle, absolute] = (replies[at] as (string | null)[] | null) ?? [];
        if (createdAt === null || createdAt === undefined) gone.push(id);
        else if (effectiveExpiry({ idleExpiresAt: Number(idle), absoluteExpiresAt: Number(absolute) }) <= now) expired.push(id);
      });
    }
    for (let start = 0; start < expired.length; start += PRUNE_BATCH) {
      await Promise.all(expired.slice(start, start + PRUNE_BATCH).map((id) => this.end(id, now)));
    }
    await this.unregister(userId, [...over, ...gone, ...expired]);
  }

  async registered(userId: string): Promise<RegisterEntry[]> {
    return entriesOf(hashOf(await this.call('session.registered', () => this.redis.sendCommand(['HGETALL', this.keys.register(userId)]))));
  }

  async unregister(userId: string, ids: readonly string[]): Promise<void> {
    for (let start = 0; start < ids.length; start += UNREGISTER_CHUNK) {
      const fields = ids.slice(start, start + UNREGISTER_CHUNK).map((id) => `${REGISTER_PREFIX}${id}`);
      await this.call('session.unregister', () => this.redis.sendCommand(['HDEL', this.keys.register(userId), ...fields]));
    }
  }

  async listOfUser(userId: string, now: number, limit: number): Promise<SessionRecord[]> {
    if (limit <= 0) return [];
    const index = this.keys.sessionsOf(userId);
    const records: SessionRecord[] = [];
    // Pages by score (a session's createdAt), newest first, from where the last page ended: a login or an ending
    // on another device between two pages moves ranks, so paging by rank listed a session twice or skipped one (the
    // review of 2026-12-05). A page asks again for the members at its upper score it has seen (ties of one
    // millisecond), and leaves them out.
    let upper = '+inf';
    const seen = new Set<string>();
    let seenAtUpper = 0;
    for (;;) {
      const count = limit + seenAtUpper;
      const page = scoredMembersOf(
        await this.call('session.listOfUser', () => this.redis.sendCommand(['ZRANGE', index, upper, '-inf', 'BYSCORE', 'REV', 'LIMIT', '0', String(count), 'WITHSCORES'])),
      );
      const ids = page.filter(({ member }) => !seen.has(member)).map(({ member }) => member);
      const hashes = await Promise.all(ids.map((id) => this.call('session.listOfUser', () => this.redis.sendCommand(['HGETALL', this.keys.session(id)]))));
      const gone: string[] = [];
      ids.forEach((id, position) => {
        seen.add(id);
        const record = recordOf(hashes[position], id);
        if (!record) gone.push(id);
        else if (effectiveExpiry(record) > now) records.push(record);
      });
      // Ended or expired sessions (their key is a tombstone or gone) leave the index: the next listing reads less.
      if (gone.length > 0) await this.call('session.listOfUser', () => this.redis.sendCommand(['ZREM', index, ...gone]));
      if (records.length >= limit || page.length < count) break;
      const last = page.at(-1)!.score;
      upper = last;
      seenAtUpper = page.filter(({ score }) => score === last).length;
    }
    return records.slice(0, limit);
  }

  /**
   * Whether Redis answers and can be trusted with accounts and sessions, reported as unavailable (the service then
   * never becomes ready) where it cannot:
   * - an `allkeys-*` eviction policy could delete accounts, sessions and login counters to make room. `noeviction`
   *   (writes fail with OOM, a 503) is the recommended policy; `volatile-*` keeps accounts (no expiry) but may end
   *   sessions early under memory pressure;
   * - a replica (a URL naming ElastiCache's reader endpoint, a replica's own address, a Global Datastore's
   *   secondary) answers every read and refuses every login and logout with `READONLY`;
   * - a Redis loading its dataset (`loading:1`) answers `INFO` and refuses everything else with `LOADING`;
   * - with durable writes (`replicasToWait`), a master with fewer replicas connected refuses every login, logout and
   *   registration after its `WAIT` (on a cluster, the master `INFO` reached is the one checked).
   *
   * - a Redis refusing writes while it answers reads: out of memory under `noeviction` (OOM), a failed snapshot
   *   with `stop-writes-on-bgsave-error` (MISCONF), fewer replicas than `min-replicas-to-write` (NOREPLICAS). `INFO`
   *   is a read, answered all the same, so one small write follows it: an `HSET` of the `health` key and its
   *   `PEXPIREAT` a minute on (both in the docs' ACL), refused in each of those states as a login would be.
   *
   * One `INFO` with no section: its default sections hold these answers on every Redis and Valkey (Redis 6 takes
   * one section at most). An ACL user without `INFO` (as `+@all -@dangerous` makes one), or a server that renamed it
   * (`rename-command INFO …`), gets no `INFO` checks, only the write: Redis answers, and the policy is not checked,
   * which the docs' ACL avoids by allowing `info`. (A renamed `INFO` read as an outage kept the service from ever
   * becoming ready.)
   */
  async ping(): Promise<void> {
    let info: string | undefined;
    try {
      info = String(await this.redis.sendCommand(['INFO']));
    } catch (error) {
      if (!isCommandUnavailable(error)) throw storeUnavailable('session.ping', error);
    }
    if (info !== undefined) {
      // The stores' own reading of the policy, brought up to date: one set since is refused on every call from now on.
      this.sharedEviction?.observe(info);
      checkInfo(info, this.redis.replicasToWait ?? 0);
    }
    const key = this.keys.health();
    const now = Date.now();
    await this.call('session.ping', () => this.redis.sendCommand(['HSET', key, 'at', String(now)]));
    await this.call('session.ping', () => this.redis.sendCommand(['PEXPIREAT', key, String(now + 60_000)]));
  }

  /**
   * The one SCAN in this package, for the operator's "end every session": ends each session (tombstones, as
   * every ending does, deleting its data and leaving the user's index) and drops it from its user's register.
   * Nothing else is deleted: a register, index or document may belong to a session begun after the scan passed
   * its key, which must stay registered, with its data (those of ended sessions expire with them). Failed-login
   * counters stay. On a Redis Cluster it scans every master (`RedisCommander.masters`).
   */
  async removeAll(now: number): Promise<number> {
    let live = 0;
    await this.scan(this.keys.pattern('session'), async (keys) => {
      const ids = keys.map(idOfKey);
      const ended = await Promise.all(ids.map((id) => this.end(id, now)));
      live += ended.filter((session) => session?.live).length;
      await Promise.all([...endedByUser(ids, ended)].map(([userId, own]) => this.unregister(userId, own)));
    });
    return live;
  }

  private async scan(pattern: string, each: (keys: string[]) => Promise<void>): Promise<void> {
    for (const node of this.redis.masters?.() ?? [this.redis]) {
      let cursor = '0';
      do {
        const [next, keys] = (await this.call('session.removeAll', () =>
          node.sendCommand(['SCAN', cursor, 'MATCH', pattern, 'COUNT', '500']),
        )) as [string, string[]];
        if (keys.length > 0) await each(keys);
        cursor = next;
      } while (cursor !== '0');
    }
  }

  private async call<T>(operation: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw storeUnavailable(operation, error);
    }
  }
}

/** What `INFO` says that makes Redis unfit to serve now though it answers (`RedisSessionStore.ping` lists each case). */
function checkInfo(info: string, replicasToWait: number): void {
  const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
  if (policy?.startsWith('allkeys-')) {
    throw new StoreUnavailableError('session.ping', {
      reason: `Redis's maxmemory-policy is ${policy}, which may evict accounts and sessions: set it to noeviction (or a volatile-* policy)`,
    });
  }
  // INFO is answered while Redis loads its dataset (after a restart, from its append-only file or snapshot), when
  // every other command is refused with LOADING: Redis answers, but serves nothing yet.
  if (/^loading:1\r?$/m.test(info)) throw new StoreUnavailableError('session.ping', { reason: 'Redis is still loading its dataset' });
  if (/^role:slave\r?$/m.test(info)) {
    throw new StoreUnavailableError('session.ping', {
      reason: 'Redis answered from a replica, which refuses every write (READONLY): point the URL at the master (ElastiCache: the primary endpoint, not the reader endpoint)',
    });
  }
  // Only a replica in sync (state=online) acknowledges a WAIT: connected_slaves counts those still syncing too.
  const online = info.match(/^slave\d+:.*\bstate=online\b/gm)?.length ?? 0;
  if (online < replicasToWait) {
    throw new StoreUnavailableError('session.ping', {
      reason: `Redis has ${online} replica(s) in sync, fewer than the ${replicasToWait} each login, logout and registration waits for (waitForReplicas, KURA_REDIS_WAIT_REPLICAS): those are refused until enough are`,
    });
  }
}

/**
 * A `ZRANGE … WITHSCORES` reply as members and their scores (as Redis writes them): a flat list of member, score in
 * RESP2, pairs in RESP3 (node-redis v6 and ioredis 6 clients of an app's own may speak it).
 */
function scoredMembersOf(reply: unknown): { member: string; score: string }[] {
  const items = (reply ?? []) as unknown[];
  if (items.length > 0 && Array.isArray(items[0])) return (items as [unknown, unknown][]).map(([member, score]) => ({ member: String(member), score: String(score) }));
  const pairs: { member: string; score: string }[] = [];
  for (let index = 0; index + 1 < items.length; index += 2) pairs.push({ member: String(items[index]), score: String(items[index + 1]) });
  return pairs;
}
