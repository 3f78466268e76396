import type { HeaderObject, HeadersObject, ParameterObject } from '@nestjs/swagger';
import { ACCEPT_PATCH } from '../http/problem-details.filter.js';

/**
 * Response headers as the API document declares them, each only on the responses that carry it. Retry-After is
 * whole seconds: 1 or 2 for the store and for contended session data, and for the login throttle at most twice
 * the longest failure window (KURA_LOGIN_FAILURE_WINDOW, 86400 s), plus one.
 */
export const RETRY_AFTER: HeadersObject = {
  'Retry-After': {
    required: true,
    description: 'Seconds to wait before trying again.',
    schema: { type: 'integer', format: 'int32', minimum: 1, maximum: 172_801 },
  },
};

/** Sent with the 401 of a request that needed a session (not with a wrong password at login). */
export const WWW_AUTHENTICATE: HeadersObject = {
  'WWW-Authenticate': {
    description: '`Bearer` when the request had no valid session (cookie or bearer token).',
    schema: { type: 'string', enum: ['Bearer'] },
  },
};

/**
 * The session data's version as a strong entity tag (`etagOf`): up to 16 digits, as the version is an integer up
 * to 2^53 - 1 (9007199254740991, SessionData's `maximum`) and no ETag of a valid version may fail its pattern.
 */
export const ETAG: HeadersObject = {
  ETag: {
    required: true,
    description: 'The version of the session data, `"<version>"`: send it back in If-Match to patch only that version.',
    schema: { type: 'string', maxLength: 18, pattern: '^"(0|[1-9][0-9]{0,15})"$' },
  },
};

/** Sent with a 415 for a compressed body (RFC 9110, section 15.5.16): the one content coding Kura reads. */
export const ACCEPT_ENCODING_HEADER: HeadersObject = {
  'Accept-Encoding': {
    description: '`identity` when the body was refused for its Content-Encoding: send it uncompressed.',
    schema: { type: 'string', enum: ['identity'] },
  },
};

/** Sent with a 415 to `PATCH /session/data` (RFC 5789, section 2.2): the patch formats it takes. */
export const ACCEPT_PATCH_HEADER: HeadersObject = {
  'Accept-Patch': {
    required: true,
    description: 'The media types the patch may be sent as.',
    schema: { type: 'string', enum: [ACCEPT_PATCH] },
  },
};

/** What a caller's `X-Request-Id` must look like to be kept (`requestIdOf`); Kura's own are UUIDs, which do. */
const REQUEST_ID = { type: 'string', minLength: 8, maxLength: 128, pattern: '^[A-Za-z0-9._:-]{8,128}$' } as const;

/**
 * A signed session cache token: a compact HS256 JWS (`header.claims.signature`, base64url). Its claims are the
 * session record with the user's email (at most 254 characters) and name (at most 100): under 2 KB of JSON, 4096
 * characters once encoded leaves room.
 */
const SESSION_CACHE_TOKEN = { type: 'string', maxLength: 4096, pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$' } as const;

/**
 * The response headers of Kura's own a client acts on, declared once in the document's `components.headers` and
 * referenced where they are sent: the first two on every answer of every route (`createApp`'s hook), the cache
 * on the routes that read it (`SESSION_CACHE`).
 */
export const HEADER_COMPONENTS: Record<string, HeaderObject> = {
  'X-Request-Id': {
    required: true,
    description: "This request's id, under which the log holds it (name it when reporting a problem): the caller's `X-Request-Id` when it was 8-128 characters of `A-Za-z0-9._:-`, a new UUID otherwise.",
    schema: REQUEST_ID,
  },
  'Kura-Instance': {
    required: true,
    description: 'Which copy of Kura (a replica, or a Lambda execution environment) answered: a UUID it chose at start.',
    schema: { type: 'string', format: 'uuid', maxLength: 36, pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' },
  },
  'Kura-Session-Cache': {
    description:
      'Only with KURA_SESSION_CACHE_SECONDS set, to a bearer client (a cookie client gets it as a cookie): the signed session cache. ' +
      'Send it back in the `Kura-Session-Cache` request header with the token: a GET it vouches for is answered without reading the store.',
    schema: SESSION_CACHE_TOKEN,
  },
};

/** The request headers of Kura's own, in `components.parameters`: the request id on every route, the cache where it is read. */
export const PARAMETER_COMPONENTS: Record<string, ParameterObject> = {
  'X-Request-Id': {
    name: 'X-Request-Id',
    in: 'header',
    required: false,
    description: "An id for this request (a load balancer's trace id): kept, logged and sent back as the response's `X-Request-Id`. Another value is not refused; a new id replaces it.",
    schema: REQUEST_ID,
  },
  'Kura-Session-Cache': {
    name: 'Kura-Session-Cache',
    in: 'header',
    required: false,
    description: 'The last `Kura-Session-Cache` response header, sent back with the bearer token (only with KURA_SESSION_CACHE_SECONDS set; ignored otherwise, and with a cookie).',
    schema: SESSION_CACHE_TOKEN,
  },
};

const headerReference = (name: keyof typeof HEADER_COMPONENTS & string) => ({ $ref: `#/components/headers/${name}` });

/** Sent on every answer of every route: added to each response by `openapi-document.ts`. */
export const EVERY_ANSWER: HeadersObject = { 'X-Request-Id': headerReference('X-Request-Id'), 'Kura-Instance': headerReference('Kura-Instance') };

/**
 * Sent on the answers of the routes the signed session cache may answer (`@CacheableSession()`): their operations
 * also get the request header, found by this response header (`openapi-document.ts`).
 */
export const SESSION_CACHE: HeadersObject = { 'Kura-Session-Cache': headerReference('Kura-Session-Cache') };
