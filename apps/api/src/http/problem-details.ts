import { HttpException, HttpStatus } from '@nestjs/common';
import { EmailTakenError, InvalidCredentialsError, ReauthenticationFailedError, TooManyLoginAttemptsError, TooManyRegistrationsError, WeakPasswordError } from '@kura/accounts';
import { statusTitle } from '@kura/common';
import { ReauthenticationRequiredError, sessionProblemOf } from '@kura/session';
import { RequestValidationError } from './request-validation.error.js';
import { CONTENT_ENCODED } from './json-body.js';
import { INVALID_HOST, MISSING_HOST } from './host-header.js';
import { MethodNotAllowedError } from './route-methods.js';

/** An RFC 9457 problem document. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: readonly { pointer: string; detail: string }[];
  /** Readiness only: what each health check reported. */
  checks?: unknown;
}

/** What to send for an error: status, problem body and extra headers. */
export interface ProblemResponse {
  problem: Problem;
  headers: Record<string, string>;
  /** True for failures that are Kura's own fault (logged with the stack). */
  unexpected: boolean;
}

/** Every problem type Kura names; errors of the framework's own (no route, a bad URL) are `about:blank`. */
const SLUGS = [
  'invalid-request',
  'session-required',
  'invalid-credentials',
  'too-many-login-attempts',
  'too-many-registrations',
  'cross-site-request',
  'reauthentication-failed',
  'reauthentication-required',
  'session-not-found',
  'session-data-changed',
  'session-data-too-large',
  'invalid-session-data',
  'session-data-contention',
  'email-taken',
  'store-unavailable',
] as const;
type Slug = (typeof SLUGS)[number];

const problemType = (slug: Slug) => `urn:kura:problem:${slug}`;

/** The `type` of every problem Kura sends, so the API document can list them. */
export const PROBLEM_TYPES = ['about:blank', ...SLUGS.map(problemType)] as [string, ...string[]];

/** The longest `detail` a problem carries (the API document promises it). */
export const PROBLEM_DETAIL_LIMIT = 200;

function respond(status: number, slug: Slug | undefined, detail?: string, headers: Record<string, string> = {}): ProblemResponse {
  const title = statusTitle(status);
  return {
    problem: { type: slug ? problemType(slug) : 'about:blank', title, status, ...(detail ? { detail: detail.slice(0, PROBLEM_DETAIL_LIMIT) } : {}) },
    headers,
    unexpected: status >= 500 && status !== HttpStatus.SERVICE_UNAVAILABLE,
  };
}

/**
 * What to say for Fastify's own client errors. Never their message: some quote the URL (`'/…' is not a valid url
 * component`), and a token placed in a URL must not come back in a body. Codes not listed get no detail.
 */
const FASTIFY_DETAILS: Readonly<Record<string, string>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body is too large.',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'The request body must be JSON.',
  FST_ERR_CTP_INVALID_JSON_BODY: 'The request body is not valid JSON.',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The request body is empty.',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'The request body does not match its Content-Length.',
  FST_ERR_BAD_URL: 'The URL is not valid.',
  FST_ERR_MAX_PARAM_LENGTH: 'A part of the URL is too long.',
  [CONTENT_ENCODED]: 'The request body must be sent uncompressed (no Content-Encoding).',
  [MISSING_HOST]: 'The request has no Host header, which HTTP/1.1 requires.',
  [INVALID_HOST]: 'The request must have one Host header, naming one host (RFC 9112, section 3.2).',
};

/** Client errors of Kura's own, answered as Fastify's. */
const KURA_CLIENT_ERRORS: ReadonlySet<string> = new Set([CONTENT_ENCODED, MISSING_HOST, INVALID_HOST]);

/** Fastify's own errors (body parsing, size, media type, URL) carry a 4xx `statusCode` and an `FST_` code. */
function isFastifyClientError(error: unknown): error is Error & { statusCode: number; code: string } {
  const candidate = error as { statusCode?: unknown; code?: unknown };
  return (
    error instanceof Error &&
    typeof candidate.statusCode === 'number' &&
    candidate.statusCode >= 400 &&
    candidate.statusCode < 500 &&
    typeof candidate.code === 'string' &&
    (candidate.code.startsWith('FST_') || KURA_CLIENT_ERRORS.has(candidate.code))
  );
}

/** 400 `invalid-request`, with what is wrong in each field. */
function invalidRequest(errors: NonNullable<Problem['errors']>): ProblemResponse {
  const response = respond(400, 'invalid-request', 'The request is not valid.');
  response.problem.errors = errors;
  return response;
}

const WEAK_PASSWORD_DETAILS: Readonly<Record<WeakPasswordError['reason'], string>> = {
  common: 'is a commonly used password (or one with digits or symbols around it); choose another',
  context: "is made of the account's email or name or of the service's name; choose another",
};

/**
 * The one place where errors become HTTP: domain errors from the libs, validation errors, framework
 * errors. Anything unknown is a 500 with no detail (the log has it).
 */
export function toProblem(error: unknown): ProblemResponse {
  if (error instanceof RequestValidationError) return invalidRequest(error.errors);
  // A password the policy refuses is a field of the request that is not valid, answered as the schema's are.
  if (error instanceof WeakPasswordError) return invalidRequest([{ pointer: `/${error.field}`, detail: WEAK_PASSWORD_DETAILS[error.reason] }]);
  // The session layer's errors, as @kura/session's own filter answers them (one table, sessionProblemOf); only the
  // confirmation's detail names this API's route.
  const session = sessionProblemOf(error);
  if (session) {
    const detail = error instanceof ReauthenticationRequiredError
      ? `Confirm your password (POST /auth/reauthenticate) and try again within ${error.windowSeconds} seconds.`
      : session.detail;
    return { problem: { type: session.type, title: session.title, status: session.status, detail: detail.slice(0, PROBLEM_DETAIL_LIMIT) }, headers: { ...session.headers }, unexpected: false };
  }
  if (error instanceof InvalidCredentialsError) {
    return respond(401, 'invalid-credentials', 'Invalid email or password.');
  }
  if (error instanceof TooManyLoginAttemptsError) {
    return respond(429, 'too-many-login-attempts', 'Too many failed logins; try again later.', {
      'retry-after': String(error.retryAfterSeconds),
    });
  }
  if (error instanceof TooManyRegistrationsError) {
    return respond(429, 'too-many-registrations', 'Too many registrations from this client; try again later.', {
      'retry-after': String(error.retryAfterSeconds),
    });
  }
  if (error instanceof ReauthenticationFailedError) {
    return respond(403, 'reauthentication-failed', 'The current password is not correct.');
  }
  if (error instanceof EmailTakenError) {
    return respond(409, 'email-taken', 'An account with this email already exists.');
  }
  if (error instanceof MethodNotAllowedError) {
    return respond(405, undefined, `This path takes ${error.allowed.join(', ')} only.`, { allow: error.allowed.join(', ') });
  }
  if (error instanceof HttpException) {
    // Nest's FastifyAdapter turns Fastify's own client errors (a body that is not JSON, too large, empty) into
    // HttpExceptions before any filter sees them, keeping the original as the cause: answer that one, in words of
    // Kura's own.
    if (isFastifyClientError(error.cause)) return toProblem(error.cause);
    // Kura throws none itself: these are Nest's, and their messages quote the request (`Cannot GET /path?query`).
    const status = error.getStatus();
    const response = respond(status, undefined, status === 404 ? 'No route matches this method and path.' : undefined);
    const body = error.getResponse();
    // A failed health check is a 503 whose body lists every check (health.controller.ts).
    if (typeof body === 'object' && body !== null && 'details' in body) response.problem.checks = body.details;
    return response;
  }
  if (isFastifyClientError(error)) {
    return respond(error.statusCode, undefined, FASTIFY_DETAILS[error.code], error.code === CONTENT_ENCODED ? { 'accept-encoding': 'identity' } : {});
  }
  return respond(500, undefined);
}
