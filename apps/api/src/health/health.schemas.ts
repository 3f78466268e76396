import * as z from 'zod/mini';

/**
 * One check's state. A down check says why in one line: readiness's `starting: …` or `shutting down`, or the
 * store's reason, one of a fixed set of sentences naming at most a table (DynamoDB names are at most 255
 * characters), so 512 characters always hold it.
 */
const Check = z.object({
  status: z.enum(['up', 'down']),
  message: z.optional(z.string().check(z.maxLength(512))),
});

/** What each check reported, by name: `lifecycle` for readiness, `store` for the store; liveness has none. */
export const HealthChecks = z
  .object({ lifecycle: z.optional(Check), store: z.optional(Check) })
  .register(z.globalRegistry, { id: 'HealthChecks' });

/** A passing health check (`@nestjs/terminus`'s report); a failing one is a 503 problem with `checks`. */
export const HealthResponse = z
  .object({ status: z.enum(['ok']), info: HealthChecks, error: HealthChecks, details: HealthChecks })
  .register(z.globalRegistry, { id: 'Health' });
