import type { FastifyReply, FastifyRequest } from 'fastify';

/** The entity tag of a session data version: a strong validator, `"<version>"`. */
export function etagOf(version: number): string {
  return `"${version}"`;
}

/** A field that is `*` or a list of entity tags (RFC 9110, sections 5.6.1 and 8.8.3); anything else names no version. */
const ENTITY_TAGS = /^(\s*((W\/)?"[^"]*"\s*)?(,|$))+$/;

/**
 * Whether an `If-Match` or `If-None-Match` field names `etag` (one `etagOf` wrote): `*` names any, since the data
 * always has a current version (`{}` at 0); otherwise one of its tags, compared character by character (`"01"` is
 * not `"1"`), a weak one (`W/"1"`) only when `weak` (If-None-Match's comparison; If-Match's is strong). An absent
 * field names none.
 */
export function namesETag(field: string | undefined, etag: string, weak: boolean): boolean {
  if (field?.trim() === '*') return true;
  return !!field && ENTITY_TAGS.test(field) && field.match(/(W\/)?"[^"]*"/g)?.some((tag) => tag === etag || (weak && tag === `W/${etag}`)) === true;
}

/**
 * What `If-Match` and `If-None-Match` ask of the session data's version (RFC 9110, sections 13.1.1, 13.1.2 and
 * 13.2.2), or `undefined` when the request sends neither: `If-Match` must name it (any tag of a list), and
 * `If-None-Match` must not (so `If-None-Match: *` fails). A tag Kura never issued names no version.
 */
export function preconditionOf(ifMatch: string | undefined, ifNoneMatch: string | undefined): ((version: number) => boolean) | undefined {
  if (ifMatch === undefined && ifNoneMatch === undefined) return undefined;
  return (version) => (ifMatch === undefined || namesETag(ifMatch, etagOf(version), false)) && !namesETag(ifNoneMatch, etagOf(version), true);
}

/**
 * An `onSend` step: a 200 to a GET or HEAD (the data's other method, PATCH, answers with an ETag too) whose ETag the request's If-None-Match names (weakly, RFC 9110, section
 * 13.1.2) becomes 304 Not Modified, with no body and the 200's ETag and Cache-Control (section 15.4.5). Returns the
 * payload to send.
 */
export function notModifiedAnswer<Payload>(request: FastifyRequest, reply: FastifyReply, payload: Payload): Payload | null {
  // Every answer passes here: what no conditional request can change returns first, before a header is looked up.
  const ifNoneMatch = request.headers['if-none-match'];
  if (ifNoneMatch === undefined || reply.statusCode !== 200 || request.method === 'PATCH') return payload;
  const etag = reply.getHeader('etag');
  if (typeof etag !== 'string' || !namesETag(ifNoneMatch, etag, true)) return payload;
  // Without a payload Fastify sends no Content-Length; a HEAD keeps its payload, which Fastify's own HEAD step measures
  // for a Content-Length equal to the 200's (the one a 304 may carry, RFC 9110, section 8.6) and never sends.
  void reply.code(304).removeHeader('content-type');
  return request.method === 'HEAD' ? payload : null;
}
