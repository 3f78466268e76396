import type { ConnectSessionChange, ConnectSessionItem } from '@kura/common';
/**
 * A session as the store keeps it: each top-level key but `cookie` as JSON text (under the name `toDocument` gives
 * it: the key itself, or an escape of one UTF-8 cannot carry), and the cookie apart.
 */
export interface SessionDocument {
  readonly data: ReadonlyMap<string, string>;
  readonly cookie: string | undefined;
}

/** What one save changes relative to what its request read: keys written (JSON text) and keys deleted. */
export interface SessionChanges {
  readonly set: ReadonlyMap<string, string>;
  readonly remove: readonly string[];
}

/**
 * The session as JSON would save it, key by key: own enumerable keys whose value has a JSON form (functions,
 * `undefined` and values whose `toJSON` gives `undefined` have none, so they count as absent). `skip` names keys
 * that are not session data.
 */
export function toDocument(session: object, skip: ReadonlySet<string>): SessionDocument {
  const data = new Map<string, string>();
  let cookie: string | undefined;
  for (const [key, value] of Object.entries(session)) {
    if (skip.has(key)) continue;
    const json = JSON.stringify(value) as string | undefined;
    if (json === undefined) continue;
    if (key === 'cookie') cookie = json;
    else data.set(storedNameOf(key), json);
  }
  return { data, cookie };
}

/** What begins the stored name of a key that cannot be stored as it is: its JSON text follows. */
const ESCAPED_KEY = '__kura:';

/**
 * The name a session key is stored under: the key itself, unless it is not well-formed Unicode (a lone surrogate,
 * which JSON escapes but UTF-8 cannot carry: DynamoDB refused every save of such a session, a 503, and Redis took
 * it for U+FFFD); then `__kura:` and its JSON text, which is ASCII. A key that begins with `__kura:` goes so too,
 * so that every stored name reads back as the key it was (`keyOfStoredName`).
 */
function storedNameOf(key: string): string {
  return key.isWellFormed() && !key.startsWith(ESCAPED_KEY) ? key : ESCAPED_KEY + JSON.stringify(key);
}

/** The session key stored under `name` (see {@link storedNameOf}). */
function keyOfStoredName(name: string): string {
  if (!name.startsWith(ESCAPED_KEY)) return name;
  try {
    const key: unknown = JSON.parse(name.slice(ESCAPED_KEY.length));
    if (typeof key === 'string') return key;
  } catch {
    // stored as it is by a version before the escape
  }
  return name;
}

/** A cookie as {@link liveCookieOf} gives it, as JSON text. */
export function cookieText(cookie: unknown): string | undefined {
  return cookie === undefined ? undefined : (JSON.stringify(cookie) as string | undefined);
}

/** The session object a store hands the framework: each key parsed back, under its own name, the cookie included. */
export function fromDocument(document: SessionDocument): Record<string, unknown> {
  const session: Record<string, unknown> = {};
  for (const [name, json] of document.data) {
    const key = keyOfStoredName(name);
    // A key `__proto__` stays data and never becomes the prototype.
    if (key === '__proto__') Object.defineProperty(session, key, { value: JSON.parse(json), enumerable: true, configurable: true, writable: true });
    else session[key] = JSON.parse(json);
  }
  if (document.cookie !== undefined) session.cookie = JSON.parse(document.cookie);
  return session;
}

/**
 * The merge rule, as a change: keys whose JSON differs from what was read (or that are new) are written, keys
 * that were read and are gone are deleted, and every other key is left alone, whatever it holds by now.
 */
export function changesBetween(read: ReadonlyMap<string, string>, current: ReadonlyMap<string, string>): SessionChanges {
  const set = new Map([...current].filter(([key, json]) => read.get(key) !== json));
  const remove = [...read.keys()].filter((key) => !current.has(key));
  return { set, remove };
}

export function hasChanges(changes: SessionChanges): boolean {
  return changes.set.size > 0 || changes.remove.length > 0;
}

/** What the request knows after its change was written: what it read, with its own change applied. */
/**
 * The change that writes `changes`' keys to a stored session and keeps its cookie and expiry as `item` read them:
 * those go only where the cookie's settings read are still stored, so a change of them made meanwhile (another
 * request's `maxAge`) stays (ConnectSessionChange.cookieSettingsRead).
 */
export function keysKeepingCookie(item: Pick<ConnectSessionItem, 'cookie' | 'expiresAtMs' | 'cookieSettings'>, changes: SessionChanges): ConnectSessionChange {
  const { cookie, expiresAtMs, cookieSettings } = item;
  return { ...changes, cookie, expiresAtMs, ...(cookieSettings === undefined ? {} : { cookieSettings, cookieSettingsRead: cookieSettings }) };
}

export function applyChanges(read: ReadonlyMap<string, string>, changes: SessionChanges): Map<string, string> {
  const next = new Map(read);
  for (const key of changes.remove) next.delete(key);
  for (const [key, json] of changes.set) next.set(key, json);
  return next;
}

/**
 * A cookie's settings (`path`, `maxAge`, `sameSite`, ...) as JSON would keep them: every field but the expiry,
 * which moves on every request and which the touch rule decides on. A copy, taken without turning the cookie
 * into JSON text, because every request compares the cookie it read with the one it holds.
 */
export type CookieSettings = Readonly<Record<string, unknown>>;

/** Cookie fields that move on every request (`originalMaxAge` is compared apart, with its drift allowed). */
const isExpiryField = (field: string) => field === 'expires' || field === 'originalExpires';
/** The settings of a cookie that is not a JSON object (no framework makes one): its whole JSON text. */
const WHOLE = '\u0000json';
/**
 * express-session recomputes `originalMaxAge` from `expires` and the clock whenever it resets the expiry, so it
 * drifts by a millisecond now and then: smaller differences are not a new setting.
 */
const MAX_AGE_DRIFT_MS = 1000;

/**
 * The cookie of a session as `JSON.stringify` would see it (its `toJSON()` applied), without making the text:
 * `undefined` when the session has none, as `toDocument` would leave it out.
 */
export function liveCookieOf(session: object): unknown {
  if (!Object.prototype.propertyIsEnumerable.call(session, 'cookie')) return undefined;
  const cookie = (session as { cookie: unknown }).cookie;
  const value = typeof cookie === 'object' && cookie !== null && typeof (cookie as { toJSON?: unknown }).toJSON === 'function' ? (cookie as { toJSON(key: string): unknown }).toJSON('cookie') : cookie;
  return typeof value === 'function' || typeof value === 'symbol' ? undefined : value;
}

/** Whether a cookie is a JSON object of fields (as every framework makes it), not a value JSON writes whole. */
const hasFields = (cookie: unknown): cookie is Record<string, unknown> => typeof cookie === 'object' && cookie !== null && !Array.isArray(cookie) && !(cookie instanceof Date);

/** The settings of a cookie as {@link liveCookieOf} or `JSON.parse` gives it; `undefined` for no cookie. */
export function cookieSettingsOf(cookie: unknown): CookieSettings | undefined {
  if (cookie === undefined) return undefined;
  if (!hasFields(cookie)) return { [WHOLE]: JSON.stringify(cookie) };
  const settings: Record<string, unknown> = {};
  // `__proto__` is no cookie setting, and assigning it would set the prototype.
  for (const field of Object.keys(cookie)) if (!isExpiryField(field) && field !== '__proto__') settings[field] = cookie[field];
  return settings;
}

/**
 * Whether two cookies carry the same settings, as their JSON would say: a field JSON leaves out (undefined)
 * counts as absent, field order does not count, and `originalMaxAge` may drift by under a second.
 */
export function sameCookieSettings(a: CookieSettings | undefined, b: CookieSettings | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  for (const field in a) if (field !== 'originalMaxAge' && !sameJson(a[field], b[field])) return false;
  for (const field in b) if (!(field in a) && JSON.stringify(b[field]) !== undefined) return false;
  return sameMaxAge(a.originalMaxAge, b.originalMaxAge);
}

/**
 * Whether `cookie` (as {@link liveCookieOf} gives it) carries `settings`: `sameCookieSettings(settings,
 * cookieSettingsOf(cookie))`, without making the copy, which every steady request would make only to compare.
 */
export function cookieHasSettings(cookie: unknown, settings: CookieSettings | undefined): boolean {
  if (settings === undefined || !hasFields(cookie)) return sameCookieSettings(settings, cookieSettingsOf(cookie));
  // Each setting the cookie holds (own enumerable fields, those of the expiry aside) against the settings, counting
  // those found with a JSON form; then every setting with one must have been found. (A field `__proto__` is never
  // a setting: no settings object owns one, and every one has it.)
  let found = 0;
  // for...in and hasOwn: Object.keys's fields, without making its array.
  for (const field in cookie) {
    if (!Object.hasOwn(cookie, field) || isExpiryField(field)) continue;
    const value = cookie[field];
    if (Object.hasOwn(settings, field)) {
      const held = settings[field];
      if (!(field === 'originalMaxAge' ? sameMaxAge(held, value) : sameJson(held, value))) return false;
      if (hasJson(held)) found++;
    } else if (!(field in settings) && hasJson(value)) return false;
  }
  let withJson = 0;
  for (const field in settings) if (hasJson(settings[field])) withJson++;
  return found === withJson;
}

/** Whether JSON writes `value` (it leaves out `undefined`, functions, symbols, and what `toJSON` makes `undefined`). */
const hasJson = (value: unknown) =>
  typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || ((typeof value === 'object' || typeof value === 'bigint') && JSON.stringify(value) !== undefined);

/** `originalMaxAge` read and held: the same as JSON, or numbers less than the drift apart. */
const sameMaxAge = (x: unknown, y: unknown) => sameJson(x, y) || (typeof x === 'number' && typeof y === 'number' && Math.abs(x - y) < MAX_AGE_DRIFT_MS);

/**
 * A fingerprint of cookie settings, stored with the cookie: their JSON, fields in order, those JSON leaves out
 * left out, `originalMaxAge` to the second (so that express-session's drift seldom changes it).
 */
export function cookieSettingsFingerprint(settings: CookieSettings): string {
  const fields = Object.keys(settings)
    .sort()
    .map((field) => [field, field === 'originalMaxAge' && typeof settings[field] === 'number' ? Math.round(settings[field] / 1000) * 1000 : settings[field]] as const)
    .filter(([, value]) => JSON.stringify(value) !== undefined);
  return JSON.stringify(fields);
}

/**
 * Equal as JSON: the same value, or the same JSON text (a `Date` and its ISO string are the same). Two different
 * strings, booleans or finite numbers never have the same text: told apart without making it (the drift of
 * `originalMaxAge` makes two numbers on most steady requests).
 */
const sameJson = (x: unknown, y: unknown) => x === y || (!distinctPrimitives(x, y) && JSON.stringify(x) === JSON.stringify(y));
const distinctPrimitives = (x: unknown, y: unknown) =>
  typeof x === typeof y && (typeof x === 'string' || typeof x === 'boolean' || (typeof x === 'number' && Number.isFinite(x) && Number.isFinite(y)));

/**
 * What DynamoDB counts for the item of a session, near enough ("Item sizes and formats" in its guide): every
 * attribute's name and value in UTF-8, and in the map `data` 3 bytes and, per element, a byte beside its name and
 * value (so many tiny keys weigh more than their JSON suggests); the cookie, and its settings' fingerprint beside
 * it (never longer than the cookie); the user-index note; and {@link ITEM_OVERHEAD_BYTES} for the rest.
 */
export function documentBytes(document: SessionDocument & { readonly indexed?: string | undefined }): number {
  let bytes = ITEM_OVERHEAD_BYTES + dataBytes(document.data);
  if (document.cookie !== undefined) bytes += 2 * Buffer.byteLength(document.cookie) + 'cookie'.length + 'cookieSettings'.length;
  if (document.indexed !== undefined) bytes += Buffer.byteLength(document.indexed) + 'indexed'.length;
  return bytes;
}

/** The map `data` as DynamoDB counts it: 3 bytes, and each element's name, value and one byte. */
export function dataBytes(data: ReadonlyMap<string, string>): number {
  let bytes = 'data'.length + 3;
  for (const [key, json] of data) bytes += Buffer.byteLength(key) + Buffer.byteLength(json) + 1;
  return bytes;
}

/**
 * The item's attributes whose size does not depend on the session: its key (`id`, 43 characters), the expiries
 * (`expiresAt`, `expiresAtMs`, `absoluteExpiresAtMs`, `movedAtMs`: names and numbers) and `generation` (a UUID)
 * come to about 230 bytes; the rest is margin.
 */
export const ITEM_OVERHEAD_BYTES = 256;
