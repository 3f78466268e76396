import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type Clock, type ConnectSessionItem, type ConnectSessionStore, SessionItemTooLargeError } from '@kura/common';
import type { DynamoDbConnectionOptions as ConnectionOptions, StoreErrorWording } from '@kura/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CredentialReplacedError } from './credential-replaced.error.js';
import type { TableBootstrapStep } from './dynamodb.types.js';
import { expressCreateSession, expressSessionSettled, loadExpressSession } from './express-session-store.js';
import { type KuraStoreOptions, resolveKuraStoreOptions } from './kura-store.options.js';
import { Following, type SessionThere } from './following.js';
import { Migration } from './migration.js';
import { PreviousStore } from './previous-store.js';
import { checkGrowth, checkSize, MAX_SESSION_BYTES, SessionTooLargeError } from './session-too-large.error.js';
import {
  applyChanges,
  changesBetween,
  documentBytes,
  cookieHasSettings,
  cookieSettingsFingerprint,
  cookieSettingsOf,
  cookieText,
  fromDocument,
  hasChanges,
  liveCookieOf,
  type SessionChanges,
  toDocument,
} from './session-document.js';
import { cookieExpiryOf, mustMoveExpiry } from './session-expiry.js';
import { itemKeyOf } from './session-key.js';
import { READ_MARKER_KEY, type SessionRead, SessionReads } from './session-reads.js';
import { indexNote, type UserSession, UserSessions, userIdOf } from './user-sessions.js';

/** A session as `get` hands it to express-session or @fastify/session: plain JSON data, `cookie` included. */
export type StoredSession = Record<string, unknown>;
/**
 * A session object as the frameworks' own types name it (`SessionData` and `Session` in @types/express-session,
 * `Fastify.Session` in @fastify/session), which this package does not import: `any` at these few places of the
 * callback API, so that `KuraStore` is assignable to express-session's `Store` and @fastify/session's
 * `SessionStore` under `strict` (`test/packages` checks it against @types/express-session).
 */
type FrameworkSession = any;
type Done = (error?: unknown) => void;
type Loaded = (error: unknown, session?: FrameworkSession) => void;

const NOT_DATA = new Set([READ_MARKER_KEY]);
/** The same and the cookie: what a save compares key by key (the cookie is compared by its settings, and made text only to be written). */
const NOT_DATA_NOR_COOKIE = new Set([READ_MARKER_KEY, 'cookie']);
const NO_CHANGES: SessionChanges = { set: new Map(), remove: [] };
const WORDING: StoreErrorWording = {
  createTable: 'call store.ensureTable() or create it as connectSessionTableDefinition() (@kura/dynamodb) describes',
  checkTable: 'store.ensureTable() lists what differs',
  timeoutSetting: 'connection.timeoutMs',
  endpointSetting: 'connection.endpoint',
  localCredentials: 'for a local engine give connection.credentials (any accessKeyId and secretAccessKey will do)',
};

let dynamoDb: Promise<typeof import('@kura/dynamodb')> | undefined;
/**
 * Kura's DynamoDB adapter and the AWS SDK under it, optional peers loaded only by a store that keeps its sessions
 * in DynamoDB: an app on Redis neither installs nor loads them (about 100 ms and 8 MiB of resident memory at start,
 * measured). The `.catch` on the import itself also tells a bundler (esbuild) that the package may be missing.
 */
const loadDynamoDb = () =>
  (dynamoDb ??= import('@kura/dynamodb').catch((error: unknown) => {
    // Not "npm install @kura/dynamodb": the registry's @kura scope is not this project's, so that could install
    // anyone's code. Said at once as a warning too: the first request, which fails with it, may come much later.
    process.emitWarning(MISSING_DYNAMODB, { type: 'KuraStoreWarning', code: 'KURA_DYNAMODB_MISSING' });
    throw new Error(MISSING_DYNAMODB, { cause: error });
  }));
/** What a store on DynamoDB says when its adapter is not installed. */
const MISSING_DYNAMODB =
  "KuraStore: sessions in DynamoDB (connection or client) need @kura/dynamodb and @aws-sdk/client-dynamodb: npm install @aws-sdk/client-dynamodb <Kura's clone>/.packs/kura-dynamodb-0.1.0.tgz (npm run pack:packages makes it; not @kura/dynamodb by name: the @kura scope on the npm registry is not Kura's), or give an adapter (Redis: @kura/redis)";

/**
 * A session store for express-session (1.18+) and @fastify/session (11) on DynamoDB (`connection` or
 * `client`), or on any adapter of the `ConnectSessionStore` port (`adapter`), such as `@kura/redis`'s
 * `RedisConnectSessionStore`.
 *
 * - The item key is the SHA-256 of the session id: a dump of the table logs nobody in.
 * - A save writes only the top-level keys its request changed relative to what it read, so concurrent requests
 *   changing different keys of one session all keep their changes.
 * - A session whose data did not change is written only when the touch rule says its expiry must move.
 * - Expiry is checked on every read; a destroyed session is gone on every replica at once (consistent reads).
 * - Every failure to reach the storage is a `StoreUnavailableError` (with `retryAfterSeconds`), for a 503.
 *
 * Callbacks as both libraries call them; without a callback each method returns a promise.
 */
export class KuraStore extends EventEmitter {
  /** The DynamoDB table sessions live in; `undefined` with an `adapter`. */
  readonly tableName: string | undefined;
  /** Installed by express-session (`store.generate = ...`): makes a new session on a request. */
  declare generate?: (req: object) => void;

  /** The DynamoDB client, when DynamoDB is the storage (once its adapter has loaded). */
  private client: DynamoDBClient | undefined;
  private readonly ownsClient: boolean;
  private closed = false;
  /** The storage: the adapter given, or the DynamoDB adapter once loaded (`storage` until then). */
  private items: ConnectSessionStore | undefined;
  private readonly storage: Promise<ConnectSessionStore>;
  private readonly reads = new SessionReads();
  private readonly ttlMs: number;
  private readonly absoluteTtlMs: number | undefined;
  private readonly touchFraction: number;
  private readonly clock: Clock;
  /** The user index, with the `userOf` option. */
  private readonly users: UserSessions | undefined;
  /** Sessions moving from the store the app used before, with the `migrateFrom` option. */
  private readonly migration: Migration | undefined;
  /** With `migrateFrom` and `move: false`: sessions served from the previous store, moved ones from here. */
  private readonly following: Following | undefined;
  /** Whether this store has warned of a cookie that outlives `absoluteTtlSeconds`: once is enough to fix the setting. */
  private warnedOfShortLifetime = false;

  /** @throws KuraStoreOptionsError listing every problem with `options` */
  constructor(options: KuraStoreOptions) {
    super();
    const settings = resolveKuraStoreOptions(options);
    this.ownsClient = settings.connection !== undefined;
    if (settings.adapter) {
      this.items = settings.adapter;
      this.storage = Promise.resolve(settings.adapter);
    } else {
      this.tableName = settings.tableName;
      this.storage = loadDynamoDb().then((dynamodb) => {
        // The options' shapes stand for these types (dynamodb.types.ts), and the options were checked.
        const client = (settings.client as DynamoDBClient | undefined) ?? dynamodb.createDynamoDbClients(settings.connection as ConnectionOptions).client;
        this.client = client;
        if (this.closed && this.ownsClient) client.destroy();
        return (this.items = new dynamodb.DynamoDbConnectSessionStore(client, { tableName: settings.tableName, consistentRead: settings.consistentRead, wording: WORDING }));
      });
      // Unhandled, a failure to load would end the process; the first call that needs the storage reports it.
      this.storage.catch(() => undefined);
    }
    this.ttlMs = settings.ttlMs;
    this.absoluteTtlMs = settings.absoluteTtlMs;
    this.touchFraction = settings.touchFraction;
    this.clock = settings.clock;
    this.users = settings.userOf && new UserSessions(settings.userOf, settings.credentialOf);
    const { migrateFrom } = settings;
    const previous = migrateFrom && new PreviousStore(migrateFrom.store, migrateFrom.timeoutMs);
    this.migration =
      previous &&
      new Migration({
        previous,
        rolloutMs: migrateFrom.rolloutMs,
        previousTtlMs: migrateFrom.ttlMs,
        ttlMs: this.ttlMs,
        absoluteTtlMs: this.absoluteTtlMs,
        users: this.users,
        notData: NOT_DATA,
      });
    this.following = previous && !migrateFrom.move ? new Following(this.migration!, previous, this.users, NOT_DATA) : undefined;
  }

  /**
   * Whether express-session runs this store (its middleware installs `generate`): it hands what `get` returned
   * only to `createSession`, so the read can ride under a symbol; @fastify/session copies string keys only.
   */
  private get underExpressSession(): boolean {
    return this.generate !== undefined;
  }

  /** The live session `sessionId`, or `null` when there is none (never written, destroyed or expired). */
  get(sessionId: string): Promise<StoredSession | null>;
  get(sessionId: string, callback: Loaded): void;
  get(sessionId: string, callback?: Loaded): Promise<StoredSession | null> | void {
    return settle(this.readForExpress(sessionId), callback);
  }

  /**
   * Saves `session`. When its request read it through this store, only the top-level keys the request changed
   * are written (keys it deleted are deleted), and nothing at all when only the expiry moved less than the touch
   * rule allows (the callback then runs at once, as for `touch`); a session destroyed or expired meanwhile stays
   * so. Otherwise the session is written whole.
   */
  set(sessionId: string, session: object): Promise<void>;
  set(sessionId: string, session: object, callback: Done): void;
  set(sessionId: string, session: object, callback?: Done): Promise<void> | void {
    return settleSave(() => this.save(sessionId, session, 'set'), callback);
  }

  /**
   * Moves the session's expiry, if the touch rule says it must; never writes its data. When nothing is to be
   * written (a steady request), the callback runs at once, before `touch` returns: express-session then sends its
   * response in one write, where a later callback makes it hold back the response's last byte until the store
   * answers and send it in a second write (strace: 3.1 system calls per steady request, against 2.1).
   */
  touch(sessionId: string, session: object): Promise<void>;
  touch(sessionId: string, session: object, callback: Done): void;
  touch(sessionId: string, session: object, callback?: Done): Promise<void> | void {
    return settleSave(() => this.save(sessionId, session, 'touch'), callback);
  }

  /**
   * Deletes the session: the next read on any replica finds nothing, and no save still on its way can bring it
   * back (the storage keeps a mark for an hour). Destroying a missing session succeeds. With `migrateFrom`, a
   * session that did not start here is destroyed in the previous store too (an old replica still running it logs the
   * user out as well), and none ever moves here again.
   */
  destroy(sessionId: string): Promise<void>;
  destroy(sessionId: string, callback: Done): void;
  destroy(sessionId: string, callback?: Done): Promise<void> | void {
    return settle(
      Promise.resolve().then(() => {
        const id = itemKeyOf(checkedId(sessionId));
        return this.onStorage((items) => {
          const now = this.clock.now();
          if (this.following) return this.following.destroy(items, sessionId, id, now);
          return this.migration ? this.migration.destroy(items, sessionId, id, now) : items.delete(id, now);
        });
      }),
      callback,
    );
  }

  /**
   * express-session: turns what `get` returned into its `Session` (its own `Store.prototype.createSession`), and
   * remembers what was read as the base that session's saves are compared with.
   */
  createSession(req: object, sess: object): FrameworkSession {
    const loaded = sess as StoredSession;
    const read = this.reads.take(loaded);
    const session = expressCreateSession().call(this, req, loaded);
    if (read) this.reads.remember(session, read);
    return session;
  }

  /** express-session's `Store#load`: a live `Session` for `sessionId`, or nothing (`undefined`). */
  load(sessionId: string): Promise<FrameworkSession>;
  load(sessionId: string, callback: Loaded): void;
  load(sessionId: string, callback?: Loaded): Promise<FrameworkSession> | void {
    const loading = this.readForExpress(sessionId).then((sess) => (sess ? this.createSession({ sessionID: sessionId, sessionStore: this }, sess) : undefined));
    return settle(loading, callback);
  }

  /**
   * express-session's `Store#regenerate`: destroys the request's session and gives it a new one (the new one even
   * when the destroy failed, whose error is then the answer). express-session hands it the app's callback as it
   * is: `req.session.regenerate()` without one gets a promise, as the other methods do.
   */
  regenerate(req: { sessionID: string }): Promise<void>;
  regenerate(req: { sessionID: string }, callback: Done): void;
  regenerate(req: { sessionID: string }, callback?: Done): Promise<void> | void {
    const destroyed = this.destroy(req.sessionID).then(
      () => this.generate?.(req),
      (error: unknown) => {
        this.generate?.(req);
        throw error;
      },
    );
    return settle(destroyed, callback);
  }

  /**
   * The user's live sessions, the most recently logged in first (needs the `userOf` option). Each has a `handle`
   * for `destroySessionOf`, and the session as stored, for the app to show what it keeps there (a device, a place).
   * @param options.current the session id of the request asking, to mark its session `current`
   */
  async sessionsOf(userId: string | number, options: { current?: string } = {}): Promise<UserSession[]> {
    const { users, user } = this.indexFor(userId, 'sessionsOf');
    const current = options.current === undefined ? undefined : itemKeyOf(checkedId(options.current));
    return this.onStorage((items) => users.list(items, user, current, this.clock.now()));
  }

  /**
   * Ends every session of the user on every replica at once (needs the `userOf` option): "log out everywhere",
   * or with `except` the request's own session id, "end my other sessions" after a password change (ASVS 7.4.3).
   * A login whose session was still being written when this began is ended too. With `credential` (the version
   * a password change put in force, as `credentialOf` tells it), every session made with another is refused from
   * then on when it names its user, a login not yet in the index included: its save fails with
   * `CredentialReplacedError`. Resolves to how many live sessions of the user it ended.
   */
  async destroySessionsOf(userId: string | number, options: { except?: string; credential?: string | number } = {}): Promise<number> {
    const { users, user } = this.indexFor(userId, 'destroySessionsOf');
    const except = options.except === undefined ? undefined : itemKeyOf(checkedId(options.except));
    // No credential (null, '': an account that had no password) replaces nothing; a wrong one throws before any call.
    const credential = options.credential === undefined || options.credential === null || options.credential === '' ? undefined : options.credential;
    if (credential !== undefined) users.checkSettable(credential);
    return this.onStorage(async (items) => {
      if (credential !== undefined) await users.setCredential(items, user, credential, this.clock.now());
      // Sessions still in the previous store cannot be found by user: a mark ends each of them where it would move.
      await this.migration?.endUser(items, user, except);
      return users.destroyAll(items, user, except, this.clock.now());
    });
  }

  /**
   * Ends the user's session of `handle` (from `sessionsOf`), and only if it is that user's: false, and nothing
   * written, when the user has no live session of that handle. Needs the `userOf` option.
   */
  async destroySessionOf(userId: string | number, handle: string): Promise<boolean> {
    const { users, user } = this.indexFor(userId, 'destroySessionOf');
    if (typeof handle !== 'string' || handle === '') throw new TypeError('KuraStore.destroySessionOf: the handle must be a non-empty string (from sessionsOf)');
    return this.onStorage((items) => users.destroyOne(items, user, handle, this.clock.now()));
  }

  /**
   * DynamoDB: creates the table (key `id`, TTL on `expiresAt`, on demand) if it is missing, for development and
   * tests. With an `adapter` there is nothing to create (Redis needs no schema): resolves to `undefined`.
   */
  async ensureTable(): Promise<TableBootstrapStep | undefined> {
    if (!this.tableName) return undefined;
    await this.storage;
    return (await loadDynamoDb()).ensureConnectSessionTable(this.client!, this.tableName, WORDING);
  }

  /** Ends the DynamoDB client the store made from `connection` (a `client` or an `adapter` you gave stays yours). */
  close(): void {
    this.closed = true;
    if (this.ownsClient) this.client?.destroy();
  }

  private indexFor(userId: string | number, method: string): { users: UserSessions; user: string } {
    if (!this.users) throw new Error(`KuraStore.${method} needs the userOf option, which tells the store whose each session is: new KuraStore({ ..., userOf: (session) => session.user })`);
    const user = userIdOf(userId);
    if (user === undefined) throw new TypeError(`KuraStore.${method}: the user id must be a non-empty string or a finite number`);
    return { users: this.users, user };
  }

  /**
   * Adds a session read with a user to that user's index, then notes it on the session (unless it changed since).
   * False, and the session deleted, when it was made with a credential a change replaced (`credentialOf`): in no
   * index, no `destroySessionsOf` could end it, so it is checked as it joins, as a save that names its user is.
   */
  private async catchUp(items: ConnectSessionStore, user: string, credential: string | undefined, id: string, item: ConnectSessionItem): Promise<boolean> {
    const now = this.clock.now();
    await this.users!.add(items, user, id, item.absoluteExpiresAtMs, now);
    try {
      await this.users!.checkCredential(items, user, credential);
    } catch (error) {
      if (!(error instanceof CredentialReplacedError)) throw error;
      await items.delete(id, now);
      return false;
    }
    // The note alone: a save that landed since this read keeps its cookie and expiry.
    await items.noteIndexed(id, item.generation, indexNote(user, item.absoluteExpiresAtMs), now);
    return true;
  }

  /** Runs `call` on the storage: at once, or once the DynamoDB adapter has loaded (a store's first calls). */
  private onStorage<T>(call: (items: ConnectSessionStore) => Promise<T>): Promise<T> {
    return this.items ? call(this.items) : this.storage.then(call);
  }

  /**
   * `read`, for a caller that may be express-session, whose `createSession` follows: the first reads also wait for
   * express-session to load (see `loadExpressSession`); later ones pay one boolean.
   */
  private readForExpress(sessionId: string): Promise<StoredSession | null> {
    const reading = this.read(sessionId);
    if (expressSessionSettled()) return reading;
    return Promise.all([reading, loadExpressSession()]).then(([session]) => session);
  }

  private async read(sessionId: string): Promise<StoredSession | null> {
    const id = itemKeyOf(checkedId(sessionId));
    const item = await this.onStorage((items) => (this.migration ? this.readMigrating(items, this.migration, sessionId, id) : items.read(id, this.clock.now())));
    if (!item) return null;
    return 'there' in item ? this.loadedThere(sessionId, id, item) : this.loaded(sessionId, id, item);
  }

  /**
   * A read with `migrateFrom`: a session this store does not hold may move here (or, following, be served from the
   * previous store); one that moved may have ended there.
   */
  private async readMigrating(items: ConnectSessionStore, migration: Migration, sessionId: string, id: string): Promise<ConnectSessionItem | SessionThere | undefined> {
    const now = this.clock.now();
    const item = await items.read(id, now);
    if (item) return (await migration.stillLive(items, sessionId, id, item, now)) ? item : undefined;
    if (this.following) return this.following.read(items, sessionId, id, now);
    return (await migration.move(items, sessionId, id, now)) ? items.read(id, this.clock.now()) : undefined;
  }

  /** What `get` hands the framework for a session a following replica serves from the previous store, its read remembered. */
  private loadedThere(sessionId: string, id: string, found: SessionThere): StoredSession {
    const loaded = found.there;
    const user = this.users?.userOfSession(loaded);
    const credential = user === undefined ? undefined : this.users!.credentialOfSession(loaded);
    const data = toDocument(loaded, NOT_DATA).data;
    this.reads.mark(loaded, { sessionId, id, generation: '', data, cookie: undefined, expiresAtMs: 0, absoluteExpiresAtMs: undefined, user, credential, there: { seen: found.seen } }, this.underExpressSession);
    return loaded;
  }

  /** A following replica's save of a session served from the previous store, or of a new one (a login): whole, there. */
  private saveThere(sessionId: string, session: object, call: 'set' | 'touch', read: SessionRead | undefined): Promise<void> {
    const { [READ_MARKER_KEY]: _marker, ...plain } = session as Record<string, unknown>;
    const id = read ? read.id : itemKeyOf(sessionId);
    if (call === 'touch') {
      const seen = read?.user !== undefined && read.there?.seen !== undefined ? { user: read.user, count: read.there.seen } : undefined;
      return this.onStorage((items) => this.following!.touch(items, sessionId, id, plain, seen, this.clock.now()));
    }
    const base = read && { data: read.data, user: read.user, credential: read.credential, seen: read.there?.seen };
    return this.onStorage((items) => this.following!.save(items, sessionId, id, plain, base, this.clock.now())).then((saved) => {
      this.reads.remember(session, { sessionId, id, generation: '', cookie: undefined, expiresAtMs: 0, absoluteExpiresAtMs: undefined, ...saved, there: { seen: saved.seen } });
    });
  }

  /**
   * What `get` hands the framework for `item`, the session `sessionId` (item key `id`), its read remembered; `null`
   * when it was refused. A promise only where the session must catch up with its user's index: a steady read
   * resolves `get` without another turn.
   */
  private loaded(sessionId: string, id: string, item: ConnectSessionItem): StoredSession | null | Promise<StoredSession | null> {
    const loaded = fromDocument(item);
    const user = this.users?.userOfSession(loaded);
    const credential = this.users?.credentialOfSession(loaded);
    // A session whose note does not say it joined this user's index until its absolute end (written by a store
    // without `userOf`, before it was turned on or by a replica not given it yet; given another user or a later
    // end by one) joins it now, and the note says so: once, not on every read. One made with a replaced credential is
    // deleted instead.
    if (user !== undefined && item.indexed !== indexNote(user, item.absoluteExpiresAtMs)) {
      return this.onStorage((items) => this.catchUp(items, user, credential, id, item)).then((kept) => (kept ? this.marked(loaded, sessionId, id, item, user, credential) : null));
    }
    return this.marked(loaded, sessionId, id, item, user, credential);
  }

  /** `loaded`, marked with its read. */
  private marked(loaded: StoredSession, sessionId: string, id: string, item: ConnectSessionItem, user: string | undefined, credential: string | undefined): StoredSession {
    const read: SessionRead = {
      sessionId,
      id,
      generation: item.generation,
      data: item.data,
      cookie: cookieSettingsOf(loaded.cookie),
      cookieSettingsStored: item.cookieSettings,
      expiresAtMs: item.expiresAtMs,
      absoluteExpiresAtMs: item.absoluteExpiresAtMs,
      user,
      credential,
    };
    this.reads.mark(loaded, read, this.underExpressSession);
    return loaded;
  }

  /** The write a save needs, or `undefined` when it needs none: decided without waiting, so a steady request does not. */
  private save(sessionId: string, session: object, call: 'set' | 'touch'): Promise<void> | undefined {
    if (typeof session !== 'object' || session === null) throw new TypeError(`KuraStore.${call}: the session must be an object`);
    const read = this.reads.of(session, checkedId(sessionId));
    if (this.following && (read === undefined || read.there)) return this.saveThere(sessionId, session, call, read);
    // The item key its read already holds: a steady request hashes the id once, to read.
    const id = read ? read.id : itemKeyOf(sessionId);
    const now = this.clock.now();
    // The cookie as JSON would see it, but not yet as text: a steady request only compares it, and writes nothing.
    const cookie = liveCookieOf(session);
    // A session written whole starts its absolute lifetime now; one read keeps the one it has, and one stored
    // without any (before KuraStore had them, or under absoluteTtlSeconds: null) starts it now, written at once.
    // The cookie's expiry never goes past it (a touch of a session this store did not read may: the read refuses it then).
    const starting = this.absoluteTtlMs === undefined || (read && read.absoluteExpiresAtMs !== undefined) ? undefined : now + this.absoluteTtlMs;
    const absoluteExpiresAtMs = read?.absoluteExpiresAtMs ?? starting;
    const cookieExpiresAtMs = cookieExpiryOf(cookie);
    if (cookieExpiresAtMs !== undefined && !this.warnedOfShortLifetime) this.warnIfCookieOutlives(cookieExpiresAtMs - now);
    const expiresAtMs = Math.min(cookieExpiresAtMs ?? now + this.ttlMs, absoluteExpiresAtMs ?? Infinity);
    if (expiresAtMs <= now) return this.onStorage((items) => items.delete(id, now));
    if (!read) {
      // A touch never writes data: only the cookie (and the expiry it asks for).
      if (call === 'touch') return this.onStorage((items) => items.update(id, undefined, { ...NO_CHANGES, cookie: cookieText(cookie), expiresAtMs }, now)).then(() => undefined);
      const user = this.users?.userOfSession(session);
      const credential = user === undefined ? undefined : this.users!.credentialOfSession(session);
      const settings = cookieSettingsOf(cookie);
      const written: ConnectSessionItem = {
        ...toDocument(session, NOT_DATA),
        ...(settings === undefined ? {} : { cookieSettings: cookieSettingsFingerprint(settings) }),
        expiresAtMs,
        ...(absoluteExpiresAtMs === undefined ? {} : { absoluteExpiresAtMs }),
        ...(user === undefined ? {} : { indexed: indexNote(user, absoluteExpiresAtMs) }),
        generation: randomUUID(),
      };
      checkSize(written);
      return this.onStorage(async (items) => {
        // The user's index first: a session is never live with a user whose index does not name it. Then its
        // credential, unless replaced meanwhile (credentialOf).
        if (user !== undefined) {
          await this.users!.add(items, user, id, absoluteExpiresAtMs, now);
          if (credential !== undefined) await this.refusedIfReplaced(items, user, credential, id, now);
        }
        await items.replace(id, written).catch(tooLarge(written));
      }).then(() => {
        this.reads.remember(session, { sessionId, id, generation: written.generation, data: written.data, cookie: settings, cookieSettingsStored: written.cookieSettings, expiresAtMs, absoluteExpiresAtMs, user, credential });
      });
    }
    const sameSettings = cookieHasSettings(cookie, read.cookie);
    const moved = starting !== undefined || !sameSettings || mustMoveExpiry(read.expiresAtMs, expiresAtMs, now, this.touchFraction);
    const changes = call === 'touch' ? NO_CHANGES : changesBetween(read.data, toDocument(session, NOT_DATA_NOR_COOKIE).data);
    if (!hasChanges(changes) && !moved) return undefined;
    const settings = cookieSettingsOf(cookie);
    const cookieJson = cookieText(cookie);
    const data = applyChanges(read.data, changes);
    checkGrowth(read.data, { data, cookie: cookieJson });
    // A request that did not change the cookie's settings writes its cookie and expiry only where the settings it
    // read are still stored: settings changed since (another request's `maxAge`) are not put back as they were.
    const fingerprint = cookieJson === undefined || settings === undefined ? undefined : cookieSettingsFingerprint(settings);
    const cookieSettingsRead = fingerprint !== undefined && sameSettings ? read.cookieSettingsStored : undefined;
    const change = {
      ...changes,
      cookie: cookieJson,
      expiresAtMs,
      ...(starting === undefined ? {} : { absoluteExpiresAtMs: starting }),
      ...(fingerprint === undefined ? {} : { cookieSettings: fingerprint }),
      ...(cookieSettingsRead === undefined ? {} : { cookieSettingsRead }),
    };
    // A session that now names a user it did not name when read (a login that kept its session id) joins that
    // user's index before the change is written.
    const user = call === 'set' && this.users ? this.users.userOfSession(session) : read.user;
    const joins = user !== undefined && user !== read.user;
    // A credential is checked where the session gets it with its user, in this save or a later one (Passport's
    // login saves the user before the app can add anything).
    const credential = call === 'set' && this.users ? this.users.credentialOfSession(session) : read.credential;
    const checks = user !== undefined && credential !== undefined && (joins || credential !== read.credential);
    return this.onStorage(async (items) => {
      if (joins) await this.users!.add(items, user, id, absoluteExpiresAtMs, now);
      if (checks) await this.refusedIfReplaced(items, user, credential, id, now);
      return items.update(id, read.generation, joins ? { ...change, indexed: indexNote(user, absoluteExpiresAtMs) } : change, now).catch(tooLarge({ data, cookie: cookieJson }));
    }).then((written) => {
      if (written) this.reads.remember(session, { ...read, data, cookie: settings, cookieSettingsStored: fingerprint, expiresAtMs, absoluteExpiresAtMs, user, credential });
    });
  }

  /**
   * Warns, once per store, of a cookie meant to last longer than the absolute lifetime (a 30-day `maxAge` under the
   * default day): the browser keeps the cookie, but the session behind it ends, and the user is logged out early with
   * nothing said anywhere. A rolling cookie that merely reaches past the end of an old session is not warned of.
   */
  private warnIfCookieOutlives(cookieLifetimeMs: number): void {
    if (this.absoluteTtlMs === undefined || cookieLifetimeMs <= this.absoluteTtlMs) return;
    this.warnedOfShortLifetime = true;
    process.emitWarning(
      `KuraStore: a session's cookie lasts ${spanOf(cookieLifetimeMs)} (its maxAge), but absoluteTtlSeconds is ${spanOf(this.absoluteTtlMs)} (86400 unless given): every session ends that long after login while the browser keeps its cookie, and the user must log in again. Give KuraStore absoluteTtlSeconds at least the cookie's maxAge in seconds (null for no absolute lifetime), or give the cookie a shorter maxAge.`,
      { type: 'KuraStoreWarning', code: 'KURA_COOKIE_OUTLIVES_SESSION' },
    );
  }

  /**
   * The credential check of a save that gives a session its user or its credential. Refused, or not made (the
   * storage failed), whatever is stored under the id is deleted as well (it may be live for the user since an
   * earlier save, or hold the login's pending step; at worst the user logs in again), then the error thrown.
   */
  private async refusedIfReplaced(items: ConnectSessionStore, user: string, credential: string, id: string, now: number): Promise<void> {
    try {
      await this.users!.checkCredential(items, user, credential);
    } catch (error) {
      await items.delete(id, now).catch(() => undefined);
      throw error;
    }
  }
}

/**
 * The storage's own refusal of a session too large for one item (DynamoDB's 400 KB: saves of other keys merged into
 * it grew it past what this save measured) as the `SessionTooLargeError` the app answers with 413, not a 503.
 */
const tooLarge =
  (document: Parameters<typeof documentBytes>[0]) =>
  (error: unknown): never => {
    if (error instanceof SessionItemTooLargeError) throw new SessionTooLargeError(documentBytes(document), MAX_SESSION_BYTES, { cause: error });
    throw error;
  };

/** A span of time as a person reads it: `2592000 s (30 days)`, `86400 s (24 hours)`. */
function spanOf(ms: number): string {
  const seconds = Math.round(ms / 1000);
  const days = seconds / 86_400;
  return days >= 2 ? `${seconds} s (${Number(days.toFixed(1))} days)` : `${seconds} s (${Number((seconds / 3600).toFixed(1))} hours)`;
}

function checkedId(sessionId: unknown): string {
  if (typeof sessionId !== 'string' || sessionId === '') throw new TypeError('KuraStore: the session id must be a non-empty string');
  // Hashed as UTF-8, a lone surrogate becomes U+FFFD: two such ids (a custom genid's) would name one session.
  if (!sessionId.isWellFormed()) throw new TypeError('KuraStore: the session id must be well-formed Unicode (it holds a lone surrogate)');
  return sessionId;
}

/**
 * A save as `settle` hands it over, but one that needs no write calls back at once (or resolves): the decision
 * takes no waiting, and express-session writes its response in one piece only when the callback comes before
 * `touch` or `set` returns. A failure, thrown or asynchronous, still reaches the callback on a later tick.
 */
function settleSave(save: () => Promise<void> | undefined, callback: Done | undefined): Promise<void> | void {
  let pending: Promise<void> | undefined;
  try {
    pending = save();
  } catch (error) {
    pending = Promise.reject(error);
  }
  if (pending) return settle(pending, callback);
  if (!callback) return Promise.resolve();
  callback(null);
}

/**
 * Hands a result to a Node-style callback (on the next tick, so a throwing callback is not a rejection), or returns
 * the promise. A promise nobody awaits fails without ending the process: express-session drops what the store
 * returns when the app gave no callback (`req.session.destroy()` at a logout), and an unhandled rejection (Redis
 * refusing writes, say) would end every request the process serves. Awaited, it rejects as ever.
 */
function settle<T>(work: Promise<T>, callback: ((error: unknown, value?: T) => void) | undefined): Promise<T> | void {
  if (!callback) {
    work.catch(() => undefined);
    return work;
  }
  work.then(
    (value) => process.nextTick(callback, null, value),
    (error: unknown) => process.nextTick(callback, error),
  );
}
