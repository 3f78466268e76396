/** A session as the store keeps it: each top-level key but `cookie` as JSON text, and the cookie apart. */
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
    else data.set(key, json);
  }
  return { data, cookie };
}

/**
 * Only the cookie (JSON text) of a session, as `toDocument` would give it: what a touch needs, without turning
 * every other key into JSON on a path every request takes.
 */
export function cookieOf(session: object): string | undefined {
  return Object.prototype.propertyIsEnumerable.call(session, 'cookie') ? (JSON.stringify((session as { cookie: unknown }).cookie) as string | undefined) : undefined;
}

/** The session object a store hands the framework: each key parsed back, the cookie included. */
export function fromDocument(document: SessionDocument): Record<string, unknown> {
  // fromEntries defines own properties: a key `__proto__` stays data and never becomes the prototype.
  const session: Record<string, unknown> = Object.fromEntries([...document.data].map(([key, json]) => [key, JSON.parse(json)]));
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
export function applyChanges(read: ReadonlyMap<string, string>, changes: SessionChanges): Map<string, string> {
  const next = new Map(read);
  for (const key of changes.remove) next.delete(key);
  for (const [key, json] of changes.set) next.set(key, json);
  return next;
}

/** Cookie fields that move on every request; the rest are the cookie's settings. */
const MOVING_COOKIE_FIELDS = new Set(['expires', 'originalExpires', 'originalMaxAge']);
/**
 * express-session recomputes `originalMaxAge` from `expires` and the clock whenever it resets the expiry, so it
 * drifts by a millisecond now and then: smaller differences are not a new setting.
 */
const MAX_AGE_DRIFT_MS = 1000;

/**
 * Whether two cookies (JSON text) carry the same settings (`path`, `maxAge`, `sameSite`, ...), ignoring the
 * expiry, which the touch rule decides on.
 */
export function sameCookieSettings(a: string | undefined, b: string | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  const [x, y] = [parseCookie(a), parseCookie(b)];
  if (x === undefined || y === undefined) return false;
  const maxAges = [x.originalMaxAge, y.originalMaxAge];
  const sameMaxAge =
    maxAges[0] === maxAges[1] || (typeof maxAges[0] === 'number' && typeof maxAges[1] === 'number' && Math.abs(maxAges[0] - maxAges[1]) < MAX_AGE_DRIFT_MS);
  return sameMaxAge && settingsOf(x) === settingsOf(y);
}

function parseCookie(json: string): Record<string, unknown> | undefined {
  const cookie: unknown = JSON.parse(json);
  return typeof cookie === 'object' && cookie !== null && !Array.isArray(cookie) ? (cookie as Record<string, unknown>) : undefined;
}

function settingsOf(cookie: Record<string, unknown>): string {
  return JSON.stringify(Object.entries(cookie).filter(([field]) => !MOVING_COOKIE_FIELDS.has(field)).sort(([x], [y]) => (x < y ? -1 : 1)));
}

/** The size DynamoDB counts for the item, near enough: names and values in UTF-8. */
export function documentBytes(document: SessionDocument): number {
  let bytes = document.cookie === undefined ? 0 : Buffer.byteLength(document.cookie) + 6;
  for (const [key, json] of document.data) bytes += Buffer.byteLength(key) + Buffer.byteLength(json);
  return bytes;
}
