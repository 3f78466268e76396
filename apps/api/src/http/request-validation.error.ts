import type { StandardSchemaV1 } from '@standard-schema/spec';

/** One problem with a request, located by a JSON-pointer-like path (`/email`). */
export interface FieldError {
  readonly pointer: string;
  readonly detail: string;
}

/** The request did not match its schema. Mapped to 400 with every field error listed. */
export class RequestValidationError extends Error {
  override readonly name = 'RequestValidationError';
  readonly errors: readonly FieldError[];

  constructor(issues: readonly StandardSchemaV1.Issue[]) {
    super('The request is not valid');
    this.errors = issues.map((issue) => ({
      pointer: `/${(issue.path ?? []).map((segment) => String(typeof segment === 'object' ? segment.key : segment)).join('/')}`,
      detail: issue.message,
    }));
  }
}
