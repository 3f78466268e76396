import * as z from 'zod';

/** The OpenAPI shape of every error response (RFC 9457 problem details, see `toProblem`). */
export const ProblemResponse = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string().optional(),
    errors: z.array(z.object({ pointer: z.string(), detail: z.string() })).optional(),
  })
  .meta({ id: 'Problem' });

/** Spread into `@Api…Response({ description, ...problem })` to document an error response. */
export const problem = { standardSchema: ProblemResponse };
