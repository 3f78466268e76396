import { errorCodes, type FastifyInstance } from 'fastify';
import { RequestValidationError } from './request-validation.error.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The code of a body sent with a Content-Encoding (gzip, br, ...): Kura decodes none, so 415 (RFC 9110, section 15.5.16). */
export const CONTENT_ENCODED = 'KURA_ERR_CONTENT_ENCODING';
const FORBIDDEN_KEY = [{ message: 'uses __proto__ or constructor.prototype', path: [] }];

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
      if (!error) return done(null, value);
      try {
        JSON.parse(text);
      } catch {
        return done(error, undefined); // not JSON at all: Fastify's own error
      }
      done(new RequestValidationError(FORBIDDEN_KEY), undefined);
    });
  });
}
