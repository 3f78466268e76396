import { Body, StandardSchemaValidationPipe } from '@nestjs/common';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { RequestValidationError } from './request-validation.error.js';

/**
 * Nest's Standard Schema pipe, except that the schema sees the body as the client sent it. Since Nest 12.6 the pipe
 * deletes every `constructor` and `prototype` key, at any depth, before validating: a body carrying one was
 * answered as if the key had never been sent (a strict object let it pass, a merge patch was written without it).
 * Kura refuses such keys instead: its request objects are strict, so an unknown key is a 400, and the session
 * data refuses them at any depth (400 `invalid-session-data`). `__proto__` never gets this far: Fastify's JSON
 * parser refuses it, and `constructor.prototype` with it (400 `invalid-request`, app.factory.ts).
 */
class AsSentValidationPipe extends StandardSchemaValidationPipe {
  protected override stripProtoKeys(): void {}
}

/** The one pipe that checks request bodies: a body its schema refuses is a `RequestValidationError` (400). */
export const VALIDATION_PIPE = new AsSentValidationPipe({ exceptionFactory: (issues) => new RequestValidationError(issues) });

/**
 * The request body, checked against `schema` before the handler runs (and documented from it).
 *
 * The pipe sits on the parameters that have a schema, not on the whole app: a global pipe makes Nest run its
 * asynchronous pipe machinery for every parameter of every request (the session, a header), about 5% of the
 * instructions of a cached `GET /auth/me` (cachegrind). `valid-body.spec.ts` fails for a body or query
 * parameter without it.
 */
export const ValidBody = (schema: StandardSchemaV1) => Body({ schema, pipes: [VALIDATION_PIPE] });
