import * as z from 'zod/mini';
import { deferred } from '../openapi/schema-meta.js';

/**
 * One check's state. A down check says why in one line: readiness's `starting: …` or `shutting down`, or the
 * store's reason, one of a fixed set of sentences naming at most a table (DynamoDB names are at most 255
 * characters), so 512 characters always hold it.
 */
const check = () =>
  z.object({
    status: z.enum(['up', 'down']),
    message: z.optional(z.string().check(z.maxLength(512))),
  });

/** What each check reported, by name: `lifecycle` for readiness, `store` for the store; liveness has none. */
export const HealthChecks = deferred(() =>
  z.object({ lifecycle: z.optional(check()), store: z.optional(check()) }).register(z.globalRegistry, { id: 'HealthChecks' }),
);

/** A passing health check (the report `@nestjs/terminus` made known); a failing one is a 503 problem with `checks`. */
export const HealthResponse = deferred(() =>
  z
    .object({ status: z.enum(['ok']), info: HealthChecks.schema, error: HealthChecks.schema, details: HealthChecks.schema })
    .register(z.globalRegistry, { id: 'Health' }),
);
