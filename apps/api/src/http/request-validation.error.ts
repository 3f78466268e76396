import type { StandardSchemaV1 } from '@standard-schema/spec';

/** One problem with a request, located by a JSON-pointer-like path (`/email`). */
export interface FieldError {
  readonly pointer: string;
  readonly detail: string;
}

/**
 * At most this many field errors are listed, each `detail` and `pointer` cut to these lengths: a body can be
 * built to fail in many ways, and some messages quote what the client sent (`Unrecognized keys: …`), so the
 * answer stays small whatever the body (the API document promises these limits).
 */
export const FIELD_ERROR_LIMITS = { count: 20, pointer: 100, detail: 200 } as const;

/** The request did not match its schema. Mapped to 400 with every field error listed. */
export class RequestValidationError extends Error {
  override readonly name = 'RequestValidationError';
  readonly errors: readonly FieldError[];

  constructor(issues: readonly StandardSchemaV1.Issue[]) {
    super('The request is not valid');
    this.errors = issues.slice(0, FIELD_ERROR_LIMITS.count).map((issue) => ({
      pointer: `/${(issue.path ?? []).map((segment) => String(typeof segment === 'object' ? segment.key : segment)).join('/')}`.slice(0, FIELD_ERROR_LIMITS.pointer),
      detail: issue.message.slice(0, FIELD_ERROR_LIMITS.detail),
    }));
  }
}
