import { Body, StandardSchemaValidationPipe } from '@nestjs/common';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { RequestValidationError } from './request-validation.error.js';

/** The one pipe that checks request bodies: a body its schema refuses is a `RequestValidationError` (400). */
export const VALIDATION_PIPE = new StandardSchemaValidationPipe({ exceptionFactory: (issues) => new RequestValidationError(issues) });

/**
 * The request body, checked against `schema` before the handler runs (and documented from it).
 *
 * The pipe sits on the parameters that have a schema, not on the whole app: a global pipe makes Nest run its
 * asynchronous pipe machinery for every parameter of every request (the session, a header), about 5% of the
 * instructions of a cached `GET /auth/me` (cachegrind). `valid-body.spec.ts` fails for a body or query
 * parameter without it.
 */
export const ValidBody = (schema: StandardSchemaV1) => Body({ schema, pipes: [VALIDATION_PIPE] });
