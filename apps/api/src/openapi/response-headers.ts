import type { HeadersObject } from '@nestjs/swagger';
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
