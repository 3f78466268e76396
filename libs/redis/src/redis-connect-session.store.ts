import { randomBytes } from 'node:crypto';
import {
  type ConnectSessionChange,
  type ConnectSessionItem,
  type ConnectSessionStore,
  DELETED_SESSION_MARK_MS,
  type UserIndexEntry,
  userIndexEntryOf,
  userIndexMember,
} from '@kura/common';
import { EvictionGuard } from './eviction-guard.js';
import { storeUnavailable } from './redis-errors.js';
import { flatHashOf } from './redis-hash.js';
import { REASSERT, RedisScript } from './redis-script.js';
import { RedisStoreBase } from './redis-store.base.js';

/** Hash fields: the generation, the expiry (epoch ms), the cookie (JSON), and `d:<key>` per session key (JSON). */
const GENERATION = 'gen';
const EXPIRES_AT_MS = 'exp';
/** The absolute expiry (epoch ms), when the session has one: written whole with it, never by an update. */
const ABSOLUTE_EXPIRES_AT_MS = 'abs';
const COOKIE = 'cookie';
/** The fingerprint of the cookie's settings (ConnectSessionItem.cookieSettings), written with the cookie. */
const COOKIE_SETTINGS = 'cs';
/** KuraStore's note of the user index the session joined (ConnectSessionItem.indexed), when it has one. */
const INDEXED = 'ix';
/** When KuraStore moved the session here from a previous store (epoch ms; ConnectSessionItem.movedAtMs). */
const MOVED_AT_MS = 'mv';
const DATA = 'd:';
/**
 * A save's token while no replica has confirmed it (with `WAIT` configured): written with the save, removed once
 * the replicas confirmed it. A read that finds one confirms it first (see `read`).
 */
const UNCONFIRMED = 'uc';
/** The one field of a deleted session's mark: `UNCONFIRMED_MARK` until the replicas confirmed the deletion. */
const DELETED = 'deleted';
const CONFIRMED_MARK = '1';
const UNCONFIRMED_MARK = 'u';
/** The member an index entry written again adds and takes out (not a `<ms>:<id>` entry: never read as one). */
const REWRITE_MEMBER = 'rewrite';
/** Sent with `sendDurable` (see the class's comment). */
const DURABLE = true;
/**
 * KuraStore needs `noeviction`:
 * - under an `allkeys-*` policy Redis may evict what has no expiry too (a user's credential in force, the endings of
 *   `destroySessionsOf`), undoing a password change: every call is refused (a 503 whose reason says so), as Kura's
 *   service is never ready on one (`EvictionGuard` reads the policy again while it lasts);
 * - under a `volatile-*` one (ElastiCache's default is `volatile-lru`), a deletion's mark or a user's index evicted
 *   lets an ended session back in, or hides one from `destroySessionsOf`: a warning (`KuraRedisWarning`, code
 *   `KURA_REDIS_EVICTION`), at the first reading and whenever the policy read changes.
 */
const KURA_STORE_EVICTION = {
  refusal: (policy: string) =>
    `Redis's maxmemory-policy is ${policy}, which may evict a user's credential in force and the endings of their sessions, undoing a password change or a logout: KuraStore needs noeviction (CONFIG SET maxmemory-policy noeviction, or on ElastiCache a parameter group of your own)`,
  accepted: (policy: string | undefined) => {
    if (policy === undefined || policy === 'noeviction') return;
    process.emitWarning(
      `Redis's maxmemory-policy is ${policy}: under memory pressure it may evict the marks that keep ended sessions ended and the user indexes destroySessionsOf reads, letting a logged-out session back in. KuraStore needs noeviction (Redis's default; on ElastiCache, a parameter group of your own).`,
      { type: 'KuraRedisWarning', code: 'KURA_REDIS_EVICTION' },
    );
  },
};
/** Arguments per HSET / HDEL inside a script: far below Lua's stack limit (8000) whatever the session's size. */
const LUA_CHUNK = `
local function each_chunk(command, first, last)
  for i = first, last, 200 do redis.call(command, KEYS[1], unpack(ARGV, i, math.min(i + 199, last))) end
end`;
/**
 * Takes out the fields of `held` (the key's fields before this script wrote) that it did not write again (`written`,
 * a set). The key is written before its old fields go, never deleted and written again: on the old owner of a
 * Redis Cluster slot on the move, a key that vanishes mid-script makes the next command fail ("a non local key")
 * with the deletion already made, and a whole write of a live session then deleted it.
 */
const LUA_REMOVE_OTHERS = `
local function fields_from(first)
  local written = {}
  for i = first, #ARGV, 2 do written[ARGV[i]] = true end
  return written
end
local function remove_others(held, written)
  local gone = {}
  for _, field in ipairs(held) do if not written[field] then gone[#gone + 1] = field end end
  for i = 1, #gone, 200 do redis.call('HDEL', KEYS[1], unpack(gone, i, math.min(i + 199, #gone))) end
end`;

/**
 * Writes the session whole, whatever was there: one HSET writes every field, then its other old fields go (in chunks
 * only for a very large session). Nothing over a deleted session's mark, nor over the same generation (this
 * write, delivered late or retried). Refused, and a WAIT to follow (`waited`), it writes what refused it again
 * (the mark, the generation), so that the WAIT waits for that too: a refusal is then as confirmed as a write. KEYS: session. ARGV: expiry
 * (epoch ms), then field/value pairs (the generation first, the expiry and the cookie among them). Returns 1 when
 * written, 0 otherwise. With a WAIT to follow, the key's own expiry only moves later (see UPDATE): a whole write
 * with a nearer end, refused, must not have the master free the key at an end no replica has.
 */
const replaceScript = (waited: boolean) =>
  new RedisScript(`${LUA_CHUNK}${LUA_REMOVE_OTHERS}
local held = redis.call('HMGET', KEYS[1], '${DELETED}', '${GENERATION}')
if held[1] then
  ${waited ? REASSERT(`'${DELETED}', held[1]`) : ''}
  return 0
end
if held[2] == ARGV[3] then
  ${waited ? REASSERT(`'${GENERATION}', ARGV[3]`) : ''}
  return 0
end
${waited ? `local freed = redis.call('PEXPIRETIME', KEYS[1])` : ''}
local fields = redis.call('HKEYS', KEYS[1])
each_chunk('HSET', 2, #ARGV)
remove_others(fields, fields_from(2))
${waited ? `if freed > tonumber(ARGV[1]) then redis.call('PEXPIREAT', KEYS[1], freed) else redis.call('PEXPIREAT', KEYS[1], ARGV[1]) end` : `redis.call('PEXPIREAT', KEYS[1], ARGV[1])`}
return 1`);
const REPLACE = { plain: replaceScript(false), waited: replaceScript(true) };

/**
 * Applies a change to the live session of a generation: nothing when the key is gone, of another generation, or
 * expired (its stored expiry not after `now`). KEYS: session. ARGV: now, check generation ('1'/'0'),
 * generation, expiry (epoch ms), an absolute end to give a session that has none ('' for none), the cookie's
 * settings as the request read them ('' for none: see ConnectSessionChange.cookieSettingsRead), how many of the
 * field/value arguments are the expiry and the cookie (the first ones; skipped, with the key's expiry, when the
 * stored settings are no longer the ones read; under 6, the cookie goes without its settings, and their stored
 * fingerprint with it), number of field/value arguments, the field/value pairs, then the fields to delete (the cookie, when it
 * has gone). Returns 1 when written, 0 otherwise (nothing left to write counts). A steady change is HMGET, one HSET and
 * PEXPIREAT. Refused by a deletion's mark, another generation or the session's end, and a WAIT to follow
 * (`reassert`), it writes that again (see REPLACE): a save that lands on a logout, or an end, the replicas do not
 * have yet waits for it, and is refused with it. With replicas (`later`, a touch too), the key's own expiry only
 * moves later (the `exp` field says when the session ends): a write the replicas may not have (a save refused, a
 * touch, which never waits) must not have the master free the key, and its token, at an end no replica has; a
 * save that then found nothing would wait for nothing, and be acknowledged with the session live on the replicas.
 * A touch with replicas (`touchToken`: ARGV's last, after the fields to delete) that brings the session's end
 * nearer writes that token as a save does: a read finding the session ended by it (or a listing, or the handle of
 * `destroySessionOf`) has the replicas confirm it first, else it would answer "no session" on the master's word.
 */
const updateScript = ({ reassert, later, touchToken }: { reassert: boolean; later: boolean; touchToken: boolean }) =>
  new RedisScript(`${LUA_CHUNK}
local held = redis.call('HMGET', KEYS[1], '${GENERATION}', '${EXPIRES_AT_MS}', '${DELETED}', '${COOKIE_SETTINGS}')
if not held[1] then
  ${reassert ? `if held[3] then ${REASSERT(`'${DELETED}', held[3]`)} end` : ''}
  return 0
end
if ARGV[2] == '1' and held[1] ~= ARGV[3] then
  ${reassert ? REASSERT(`'${GENERATION}', held[1]`) : ''}
  return 0
end
if not (tonumber(held[2] or '0') > tonumber(ARGV[1])) then
  ${reassert ? `if held[2] then ${REASSERT(`'${EXPIRES_AT_MS}', held[2]`)} end` : ''}
  return 0
end
local last = 8 + tonumber(ARGV[8])
local first = 9
if ARGV[6] ~= '' and held[4] ~= ARGV[6] then
  first = 9 + tonumber(ARGV[7])
  if first > last and last + 1 > #ARGV${touchToken ? ' - 1' : ''} and ARGV[5] == '' then return 0 end
end
each_chunk('HSET', first, last)
each_chunk('HDEL', last + 1, #ARGV${touchToken ? ' - 1' : ''})
if tonumber(ARGV[7]) < 6 and held[4] then redis.call('HDEL', KEYS[1], '${COOKIE_SETTINGS}') end
if ARGV[5] ~= '' then redis.call('HSETNX', KEYS[1], '${ABSOLUTE_EXPIRES_AT_MS}', ARGV[5]) end
if first > 9 then return 1 end
${touchToken ? `if tonumber(ARGV[4]) < tonumber(held[2]) then redis.call('HSET', KEYS[1], '${UNCONFIRMED}', ARGV[#ARGV]) end` : ''}
${
    later
      ? `local freed = redis.call('PEXPIRETIME', KEYS[1])
if freed < 0 or freed < tonumber(ARGV[4]) then redis.call('PEXPIREAT', KEYS[1], ARGV[4]) end`
      : `redis.call('PEXPIREAT', KEYS[1], ARGV[4])`
  }
return 1`);
/** Without replicas; a save of data with a WAIT to follow; a touch with replicas (it does not wait). */
const UPDATE = {
  plain: updateScript({ reassert: false, later: false, touchToken: false }),
  waited: updateScript({ reassert: true, later: true, touchToken: false }),
  touch: updateScript({ reassert: false, later: true, touchToken: true }),
};

/**
 * Deletes the session, leaving a mark (one field, freed at ARGV[1], epoch ms) that reads as absent and that no
 * REPLACE or UPDATE writes over. KEYS: session. ARGV[2]: the mark's value, `UNCONFIRMED_MARK` until the replicas
 * confirmed the deletion (with WAIT), `CONFIRMED_MARK` otherwise. With a WAIT to follow, the key's own expiry only
 * moves later (see UPDATE): a mark the replicas never confirmed must stand as long as the session they still hold
 * could, else the master frees it after its hour and answers "no session" (and a save finds nothing to wait for)
 * on its word alone; once confirmed, the mark is brought back to its end (see CONFIRMED).
 */
const deleteScript = (waited: boolean) =>
  new RedisScript(`${LUA_REMOVE_OTHERS}
${waited ? `local freed = redis.call('PEXPIRETIME', KEYS[1])` : ''}
local fields = redis.call('HKEYS', KEYS[1])
redis.call('HSET', KEYS[1], '${DELETED}', ARGV[2])
remove_others(fields, { ['${DELETED}'] = true })
${waited ? `if freed > tonumber(ARGV[1]) then redis.call('PEXPIREAT', KEYS[1], freed) else redis.call('PEXPIREAT', KEYS[1], ARGV[1]) end` : `redis.call('PEXPIREAT', KEYS[1], ARGV[1])`}
return 1`);
const DELETE = { plain: deleteScript(false), waited: deleteScript(true) };

/**
 * Adds a member to a user index (a set). KEYS: the index. ARGV: the member, the expiry (epoch ms, or '' for
 * none). A new index expires then; an index with an expiry keeps the later one; '' makes it last, and an index
 * that holds members and no expiry never gets one back. Returns how many members it holds. A member already
 * there (a retry, or a mark written again), with a WAIT to follow, is written again, so that the WAIT waits for the first: a
 * member of its own added and taken out in the same script (taking that member out and adding it back would empty
 * a set of one, which Redis deletes with its expiry).
 */
const addToIndexScript = (waited: boolean) =>
  new RedisScript(`
local expiry = redis.call('PEXPIRETIME', KEYS[1])
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then
  ${waited ? `redis.call('SADD', KEYS[1], '${REWRITE_MEMBER}')
  redis.call('SREM', KEYS[1], '${REWRITE_MEMBER}')` : ''}
end
if ARGV[2] == '' then redis.call('PERSIST', KEYS[1])
elseif expiry == -2 or (expiry >= 0 and expiry < tonumber(ARGV[2])) then redis.call('PEXPIREAT', KEYS[1], ARGV[2]) end
return redis.call('SCARD', KEYS[1])`);
const ADD_TO_INDEX = { plain: addToIndexScript(false), waited: addToIndexScript(true) };

/**
 * Makes the replicas confirm a write they have not (a save's token, a deletion's mark): writes the field again,
 * whatever it holds now, or, when it is gone (confirmed meanwhile, or written over by a deletion or a whole write
 * since the read), what the key holds now (the mark, the generation), so that the WAIT after it waits for
 * everything before it. Nothing only when the key is gone (expired). KEYS: session. ARGV: the field.
 */
const CONFIRM = new RedisScript(`
local held = redis.call('HMGET', KEYS[1], ARGV[1], '${DELETED}', '${GENERATION}')
if held[1] then ${REASSERT(`ARGV[1], held[1]`)}
elseif held[2] then ${REASSERT(`'${DELETED}', held[2]`)}
elseif held[3] then ${REASSERT(`'${GENERATION}', held[3]`)} end
return 1`);

/**
 * Once the replicas confirmed a write: its field goes (a save's token), or holds what says so (a deletion's
 * mark), unless a later write of the same kind wrote its own. KEYS: session. ARGV: the field, the value written,
 * the value that says confirmed ('' to remove the field), and for a mark its end (epoch ms): a key kept longer
 * while unconfirmed (see DELETE) is freed then.
 */
const CONFIRMED = new RedisScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  if ARGV[3] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end
  if ARGV[4] and redis.call('PEXPIRETIME', KEYS[1]) > tonumber(ARGV[4]) then redis.call('PEXPIREAT', KEYS[1], ARGV[4]) end
end
return 1`);

/**
 * Writes the note of the user index a session joined, and nothing else, on the live session of a generation. KEYS:
 * session. ARGV: now, generation, note. Returns 1 when written, 0 otherwise.
 */
const NOTE_INDEXED = new RedisScript(`
local held = redis.call('HMGET', KEYS[1], '${GENERATION}', '${EXPIRES_AT_MS}')
if held[1] ~= ARGV[2] or not (tonumber(held[2] or '0') > tonumber(ARGV[1])) then return 0 end
redis.call('HSET', KEYS[1], '${INDEXED}', ARGV[3])
return 1`);

/**
 * express-session and @fastify/session sessions in Redis for `@kura/connect`'s KuraStore (`new KuraStore({
 * adapter: new RedisConnectSessionStore(client) })`): one hash per session at `<prefix>connect:{<SHA-256 of the
 * session id>}`, a field per top-level session key (JSON), so a save writes only the keys it changed.
 *
 * - A read is one `HGETALL` and never writes (but, with WAIT configured, to have the replicas confirm a write they
 *   have not: see below); a session whose expiry has passed is absent, whatever Redis has freed yet (`PEXPIREAT`
 *   frees it at its expiry).
 * - `replace` and `update` are each one Lua script on one key (Redis Cluster ready): `update` writes only to the
 *   live session of the generation its request read, so a destroyed, expired or replaced session stays so.
 * - Every command has a deadline; every failure is a `StoreUnavailableError` (operation `connect.get`,
 *   `connect.set`, `connect.touch` or `connect.destroy`), never "absent".
 * - The writes a failover must not undo go through `sendDurable` (`WAIT` for the replicas the connection is
 *   configured to wait for: `connectRedis({ waitForReplicas })`, `fromIoredis(client, { waitForReplicas })`): a
 *   session written whole (a login, a new session), a save that changes the session's data (a user set or
 *   removed), a deletion (a logout, `destroySessionsOf`) and a user index's entry or mark. A touch (the idle
 *   extension), an index's pruning and the catch-up note do not wait: lost with a failover, each is made again by
 *   the next request. Nothing is decided on a write the replicas have not confirmed: a whole write's, a save's or a
 *   nearer end's token (a touch's) and a deletion's unconfirmed mark are confirmed by the read that finds them (and
 *   no key is freed before the replicas would free it), and a refused write writes again what refused it, so that
 *   its WAIT covers that too. Without WAIT none of this is written.
 */
export class RedisConnectSessionStore extends RedisStoreBase implements ConnectSessionStore {
  /** Redis's eviction policy, read at the store's first call: see {@link KURA_STORE_EVICTION}. */
  private readonly eviction = new EvictionGuard(this.redis, KURA_STORE_EVICTION);

  protected override guardsItsOwnEviction(): boolean {
    return true;
  }

  async read(id: string, now: number): Promise<ConnectSessionItem | undefined> {
    const found = await this.readOrMark(id, now);
    return found === 'deleted' ? undefined : found;
  }

  /** As `read`, but `'deleted'` where `delete` left its mark (confirmed by the replicas first, as `read` does). */
  async readOrMark(id: string, now: number): Promise<ConnectSessionItem | 'deleted' | undefined> {
    this.eviction.refuse('connect.get');
    let reply: unknown;
    try {
      reply = await this.redis.sendCommand(['HGETALL', this.keys.connect(id)]);
    } catch (error) {
      throw storeUnavailable('connect.get', error);
    }
    // Read in one pass, on a path every request takes.
    const flat = flatHashOf(reply);
    const data = new Map<string, string>();
    let generation: string | undefined;
    let expiresAtMs = NaN;
    let absoluteExpiresAtMs: number | undefined;
    let cookie: string | undefined;
    let cookieSettings: string | undefined;
    let indexed: string | undefined;
    let movedAtMs: number | undefined;
    let unconfirmed: string | undefined;
    let deleted: string | undefined;
    for (let index = 0; index + 1 < flat.length; index += 2) {
      const field = flat[index]!;
      const value = flat[index + 1]!;
      if (field.startsWith(DATA)) data.set(field.slice(DATA.length), value);
      else if (field === GENERATION) generation = value;
      else if (field === EXPIRES_AT_MS) expiresAtMs = Number(value);
      else if (field === COOKIE) cookie = value;
      else if (field === COOKIE_SETTINGS) cookieSettings = value;
      else if (field === ABSOLUTE_EXPIRES_AT_MS) absoluteExpiresAtMs = Number(value);
      else if (field === INDEXED) indexed = value;
      else if (field === MOVED_AT_MS) movedAtMs = Number(value);
      else if (field === UNCONFIRMED) unconfirmed = value;
      else if (field === DELETED) deleted = value;
    }
    // A deletion the replicas did not confirm reads as absent only once they do: else a retry of the logout, or
    // a pruning of the user's index, would take the master's word for it, write nothing, and wait for nothing.
    if (deleted === UNCONFIRMED_MARK) await this.confirm(id, DELETED, deleted, CONFIRMED_MARK, now + DELETED_SESSION_MARK_MS);
    // A login or save the replicas did not confirm (refused, its process gone before it knew): the master already
    // holds it, so a retry would find nothing to write, and be acknowledged with nothing the replicas have. Before
    // the expiry is judged: a save that shortened it ends the session on the master alone.
    if (unconfirmed !== undefined) await this.confirm(id, UNCONFIRMED, unconfirmed, '');
    // The key lives no longer than its mark (DELETE's PEXPIREAT): a mark found stands.
    if (deleted !== undefined) return 'deleted';
    if (generation === undefined || !(expiresAtMs > now)) return undefined;
    if (absoluteExpiresAtMs !== undefined && !(absoluteExpiresAtMs > now)) return undefined;
    const item: { -readonly [K in keyof ConnectSessionItem]: ConnectSessionItem[K] } = { data, cookie, expiresAtMs, generation };
    if (absoluteExpiresAtMs !== undefined) item.absoluteExpiresAtMs = absoluteExpiresAtMs;
    if (indexed !== undefined) item.indexed = indexed;
    if (movedAtMs !== undefined) item.movedAtMs = movedAtMs;
    if (cookieSettings !== undefined) item.cookieSettings = cookieSettings;
    return item;
  }

  /**
   * Has the replicas confirm the write whose `field` holds `written` (a save's token, a deletion's mark), then
   * notes it (`confirmed`: what the field then holds, '' for nothing; a mark's end, for a mark); refused as
   * `connect.get` while they cannot.
   */
  private async confirm(id: string, field: string, written: string, confirmed: string, markEndMs?: number): Promise<void> {
    try {
      await CONFIRM.run(this.redis, [this.keys.connect(id)], [field], DURABLE);
      await CONFIRMED.run(this.redis, [this.keys.connect(id)], [field, written, confirmed, ...(markEndMs === undefined ? [] : [markEndMs])]);
    } catch (error) {
      throw storeUnavailable('connect.get', error);
    }
  }

  async replace(id: string, item: ConnectSessionItem): Promise<void> {
    await this.eviction.refuseWrite('connect.set');
    const fields = [GENERATION, item.generation, EXPIRES_AT_MS, String(item.expiresAtMs), ...(item.cookie === undefined ? [] : [COOKIE, item.cookie])];
    if (item.absoluteExpiresAtMs !== undefined) fields.push(ABSOLUTE_EXPIRES_AT_MS, String(item.absoluteExpiresAtMs));
    if (item.indexed !== undefined) fields.push(INDEXED, item.indexed);
    if (item.movedAtMs !== undefined) fields.push(MOVED_AT_MS, String(item.movedAtMs));
    if (item.cookie !== undefined && item.cookieSettings !== undefined) fields.push(COOKIE_SETTINGS, item.cookieSettings);
    for (const [key, json] of item.data) fields.push(DATA + key, json);
    // With replicas to wait for, the session carries a token until they confirm it (a login's, as a save's).
    const token = this.redis.sendDurable ? randomBytes(9).toString('base64url') : undefined;
    if (token) fields.push(UNCONFIRMED, token);
    const key = this.keys.connect(id);
    try {
      const written = Number(await (token ? REPLACE.waited : REPLACE.plain).run(this.redis, [key], [item.expiresAtMs, ...fields], DURABLE)) === 1;
      if (written && token) await CONFIRMED.run(this.redis, [key], [UNCONFIRMED, token, '']).catch(() => undefined);
    } catch (error) {
      throw storeUnavailable('connect.set', error);
    }
  }

  async update(id: string, generation: string | undefined, change: ConnectSessionChange, now: number): Promise<boolean> {
    await this.eviction.refuseWrite('connect.set');
    const settings = change.cookie === undefined ? undefined : change.cookieSettings;
    const fields = [EXPIRES_AT_MS, String(change.expiresAtMs), ...(change.cookie === undefined ? [] : [COOKIE, change.cookie]), ...(settings === undefined ? [] : [COOKIE_SETTINGS, settings])];
    // The cookie, its settings and the expiry (the fields so far) are written only where the stored settings are
    // still those read (`cookieSettingsRead`).
    const cookieFields = fields.length;
    if (change.indexed !== undefined) fields.push(INDEXED, change.indexed);
    for (const [key, json] of change.set) fields.push(DATA + key, json);
    const touch = change.set.size + change.remove.length === 0;
    // A save of data, with replicas to wait for, carries a token until they confirm it; a touch, one the script
    // writes only if it brings the session's end nearer (see UPDATE).
    const token = this.redis.sendDurable ? randomBytes(9).toString('base64url') : undefined;
    if (token && !touch) fields.push(UNCONFIRMED, token);
    const removed = change.remove.map((key) => DATA + key);
    if (change.cookie === undefined) removed.push(COOKIE);
    if (token && touch) removed.push(token);
    // Only with a cookie and its settings to write: `removed` then holds neither, and a kept cookie loses nothing.
    const cookieRead = settings !== undefined && change.cookieSettingsRead !== undefined ? change.cookieSettingsRead : '';
    const args = [now, generation === undefined ? '0' : '1', generation ?? '', change.expiresAtMs, change.absoluteExpiresAtMs ?? '', cookieRead, cookieFields, fields.length, ...fields, ...removed];
    const key = this.keys.connect(id);
    try {
      const script = this.redis.sendDurable === undefined ? UPDATE.plain : touch ? UPDATE.touch : UPDATE.waited;
      const written = Number(await script.run(this.redis, [key], args, !touch)) === 1;
      // Left behind (this call failed), the token only makes the next read confirm the save again.
      if (written && token && !touch) await CONFIRMED.run(this.redis, [key], [UNCONFIRMED, token, '']).catch(() => undefined);
      return written;
    } catch (error) {
      throw storeUnavailable(touch ? 'connect.touch' : 'connect.set', error);
    }
  }

  async addToUserIndex(user: string, entry: UserIndexEntry, untilMs: number | undefined): Promise<number> {
    await this.eviction.refuseWrite('connect.set');
    try {
      const script = this.redis.sendDurable ? ADD_TO_INDEX.waited : ADD_TO_INDEX.plain;
      return Number(await script.run(this.redis, [this.keys.connectUser(user)], [userIndexMember(entry), untilMs === undefined ? '' : untilMs], DURABLE));
    } catch (error) {
      throw storeUnavailable('connect.index', error);
    }
  }

  async userIndex(user: string): Promise<UserIndexEntry[]> {
    this.eviction.refuse('connect.get');
    let members: unknown;
    try {
      members = await this.redis.sendCommand(['SMEMBERS', this.keys.connectUser(user)]);
    } catch (error) {
      throw storeUnavailable('connect.index', error);
    }
    return (Array.isArray(members) ? members : []).map((member) => userIndexEntryOf(String(member))).filter((entry) => entry !== undefined);
  }

  async removeFromUserIndex(user: string, entries: readonly UserIndexEntry[]): Promise<void> {
    await this.eviction.refuseWrite('connect.set');
    if (entries.length === 0) return;
    try {
      await this.redis.sendCommand(['SREM', this.keys.connectUser(user), ...entries.map(userIndexMember)]);
    } catch (error) {
      throw storeUnavailable('connect.index', error);
    }
  }

  async noteIndexed(id: string, generation: string, note: string, now: number): Promise<boolean> {
    await this.eviction.refuseWrite('connect.set');
    try {
      return Number(await NOTE_INDEXED.run(this.redis, [this.keys.connect(id)], [now, generation, note])) === 1;
    } catch (error) {
      throw storeUnavailable('connect.index', error);
    }
  }

  async delete(id: string, now: number): Promise<void> {
    await this.eviction.refuseWrite('connect.destroy');
    const key = this.keys.connect(id);
    // With replicas to wait for, the mark says "unconfirmed" until they confirm it (see read).
    const mark = this.redis.sendDurable ? UNCONFIRMED_MARK : CONFIRMED_MARK;
    try {
      await (mark === UNCONFIRMED_MARK ? DELETE.waited : DELETE.plain).run(this.redis, [key], [now + DELETED_SESSION_MARK_MS, mark], DURABLE);
      if (mark === UNCONFIRMED_MARK) await CONFIRMED.run(this.redis, [key], [DELETED, mark, CONFIRMED_MARK, now + DELETED_SESSION_MARK_MS]).catch(() => undefined);
    } catch (error) {
      throw storeUnavailable('connect.destroy', error);
    }
  }
}

