import { errorCodes, type FastifyInstance } from 'fastify';
import { RequestValidationError } from './request-validation.error.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The code of a body sent with a Content-Encoding (gzip, br, ...): Kura decodes none, so 415 (RFC 9110, section 15.5.16). */
export const CONTENT_ENCODED = 'KURA_ERR_CONTENT_ENCODING';
const FORBIDDEN_KEY = [{ message: 'uses __proto__ or constructor.prototype', path: [] }];
const REPEATED_NAME = [{ message: 'names a member twice in one object', path: [] }];

/**
 * Kura's one body parser, for `application/json` and `application/merge-patch+json`: Fastify's own (a `__proto__` or
 * `constructor.prototype` key refused), given the body decoded as UTF-8, which JSON is (RFC 8259, section 8.1). Fastify
 * decodes bytes that are not UTF-8 as U+FFFD, so a Latin-1 `"café"` was stored as `"caf\uFFFD"` and answered 200:
 * such a body is not valid JSON (400), as its Content-Type's charset, if any, cannot make it.
 */
export function parseJsonBodies(fastify: FastifyInstance): void {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser(['application/json', 'application/merge-patch+json'], { parseAs: 'buffer' }, (request, body, done) => {
    // A compressed body was read as it came: a gzip body was "not valid JSON", and a plain one labelled gzip was
    // applied (an outside review, 2026-12-06).
    const coding = request.headers['content-encoding'];
    if (coding !== undefined && coding.trim().toLowerCase() !== 'identity') {
      return done(Object.assign(new Error('The request body has a Content-Encoding'), { statusCode: 415, code: CONTENT_ENCODED }), undefined);
    }
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      return done(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), undefined);
    }
    // Fastify's parser refuses `__proto__` (and `constructor` holding `prototype`) at any depth, so no object is given
    // another prototype, but says of such a body what it says of one that is not JSON: "not valid JSON", of a body
    // that was. Told apart once the parser has refused it: a 400 `invalid-request` that names the key.
    parse(request, text, (error, value) => {
      if (!error) return membersIn(value) === memberNamesIn(text) ? done(null, value) : done(new RequestValidationError(REPEATED_NAME), undefined);
      try {
        JSON.parse(text);
      } catch {
        return done(error, undefined); // not JSON at all: Fastify's own error
      }
      done(new RequestValidationError(FORBIDDEN_KEY), undefined);
    });
  });
}

/*
 * A body that names a member twice in one object (`{"email":"a","email":"b"}`) is refused (400), not read as its last
 * occurrence, as JSON.parse reads it: another reader (a proxy, a firewall, a log pipeline) may take the first, and
 * the body would mean one thing to it and another to Kura (RFC 8259, section 4: such a body is not interoperable).
 * The last occurrence also hid what it replaced from the `__proto__` check, which looks at the parsed value:
 * `{"a":{"__proto__":{}},"a":0}` passed it (an outside review, 2026-12-07). Told by counting: the member names
 * in the text against the keys of the value JSON.parse made of it (which keeps `__proto__` as an own key), so a
 * body without repeats costs one pass over its text and one over its value, no second parse. Written here because
 * the JSON parsers that report repeats (a full syntax tree, as @humanwhocodes/momoa builds) cost many times more.
 */

/** How many member names a text that is valid JSON holds: every string followed, past white space, by `:`. */
function memberNamesIn(text: string): number {
  let names = 0;
  let at = text.indexOf('"');
  while (at !== -1) {
    // The string's end: the next quote that no odd run of backslashes escapes.
    let end = text.indexOf('"', at + 1);
    for (;;) {
      let backslashes = 0;
      while (text.charCodeAt(end - 1 - backslashes) === 92) backslashes++;
      if (backslashes % 2 === 0) break;
      end = text.indexOf('"', end + 1);
    }
    let next = end + 1;
    for (let code = text.charCodeAt(next); code === 32 || code === 9 || code === 10 || code === 13; code = text.charCodeAt(++next));
    if (text.charCodeAt(next) === 58) names++;
    at = text.indexOf('"', next);
  }
  return names;
}

/** How many keys the objects of a parsed JSON value hold, at every depth (without recursion: depth is the client's). */
function membersIn(value: unknown): number {
  let members = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item !== 'object' || item === null) continue;
    if (Array.isArray(item)) {
      for (const element of item) if (typeof element === 'object' && element !== null) pending.push(element);
      continue;
    }
    for (const key in item) {
      members++;
      const member = (item as Record<string, unknown>)[key];
      if (typeof member === 'object' && member !== null) pending.push(member);
    }
  }
  return members;
}
