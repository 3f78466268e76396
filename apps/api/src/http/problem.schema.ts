import { applyDecorators } from '@nestjs/common';
import { ApiResponse, type HeadersObject } from '@nestjs/swagger';
import * as z from 'zod/mini';
import { HealthChecks } from '../health/health.schemas.js';
import { deferred, described } from '../openapi/schema-meta.js';
import { PROBLEM_DETAIL_LIMIT, PROBLEM_TYPES } from './problem-details.js';
import { FIELD_ERROR_LIMITS } from './request-validation.error.js';
import { ACCEPT_ENCODING_HEADER } from '../openapi/response-headers.js';

/** The OpenAPI shape of every error response (RFC 9457 problem details, see `toProblem`). */
export const ProblemResponse = deferred(() =>
  z
    .object({
      type: described(z.enum(PROBLEM_TYPES), 'What went wrong; `about:blank` for plain HTTP errors (no route, a bad URL).'),
      title: described(z.string().check(z.maxLength(64)), "The status code's reason phrase."),
      status: z.int().check(z.minimum(100), z.maximum(599), z.meta({ format: 'int32' })),
      detail: z.optional(z.string().check(z.maxLength(PROBLEM_DETAIL_LIMIT))),
      errors: described(
        z.optional(
          z
            .array(
              z.object({
                pointer: described(
                  z.string().check(z.maxLength(FIELD_ERROR_LIMITS.pointer), z.regex(/^\//)),
                  'Where in the body: `/email`, or `/` for the whole body.',
                ),
                detail: z.string().check(z.maxLength(FIELD_ERROR_LIMITS.detail)),
              }),
            )
            .check(z.maxLength(FIELD_ERROR_LIMITS.count)),
        ),
        `With \`invalid-request\`: what is wrong with the body, field by field (the first ${FIELD_ERROR_LIMITS.count}).`,
      ),
      checks: described(z.optional(HealthChecks.schema), 'From /health/ready and /health/store: what each check reported.'),
    })
    .register(z.globalRegistry, { id: 'Problem' }),
);

/** Documents one error response: a problem document (its media type is set in `openapi.ts`), with its headers. */
export function ApiProblem(status: number, description: string, headers?: HeadersObject): MethodDecorator & ClassDecorator {
  return ApiResponse({ status, description, standardSchema: ProblemResponse, ...(headers ? { headers } : {}) });
}

/** A state-changing request that carries the session cookie from another site (the CSRF defence). */
export const CROSS_SITE = 'Refused: a request from another site carrying the session cookie.';

/**
 * The answers Fastify gives on every POST, PATCH and DELETE before the route sees the request: it reads a body
 * on each of them, whether or not the route needs one. `invalid` describes the route's own 400, if any, and
 * `tooLarge` its own 413: here, not in an `ApiProblem` of the route's, which @nestjs/swagger would print after
 * this one's description, the body limit said twice.
 */
export function ApiBodyProblems(invalid?: string, unsupported?: HeadersObject, tooLarge?: string): MethodDecorator {
  return applyDecorators(
    ApiProblem(400, `The body is not valid JSON (or is empty with a JSON Content-Type), names \`__proto__\` or \`constructor.prototype\`, or names a member twice in one object (\`invalid-request\`).${invalid ? ` ${invalid}` : ''}`),
    ApiProblem(413, `The body is larger than KURA_BODY_LIMIT (16 KiB by default)${tooLarge ? `, ${tooLarge}` : ''}.`),
    ApiProblem(415, 'The body is not JSON, or is sent compressed (a Content-Encoding other than `identity`: Accept-Encoding then says `identity`).', { ...unsupported, ...ACCEPT_ENCODING_HEADER }),
  );
}

/**
 * The failure no route is meant to have: a defect in Kura. A problem without detail; the log has the error
 * under the response's `X-Request-Id`. Store failures are never 500 but 503.
 */
export const ApiDefect = () => ApiProblem(500, 'A defect in Kura (not expected): no detail is given; the log holds it under X-Request-Id.');
