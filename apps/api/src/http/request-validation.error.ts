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
    this.errors = issues
      .flatMap(fieldErrorsOf)
      .slice(0, FIELD_ERROR_LIMITS.count)
      .map(({ pointer, detail }) => ({ pointer: pointer.slice(0, FIELD_ERROR_LIMITS.pointer), detail: detail.slice(0, FIELD_ERROR_LIMITS.detail) }));
  }
}

/** What zod's issue fields say, where its message is only "Invalid input" (zod/mini carries no messages). */
interface IssueFields {
  readonly code?: string;
  readonly expected?: string;
  readonly values?: readonly unknown[];
  readonly keys?: readonly string[];
}

/**
 * One issue as field errors, each located and saying what was wanted: `must be a JSON object`, `must be one of:
 * "cookie", "bearer"`, and one error per unknown key, at its own pointer. Every one said "Invalid input" at `/`
 * (an outside review, 2026-12-06).
 */
function fieldErrorsOf(issue: StandardSchemaV1.Issue): FieldError[] {
  const pointer = `/${(issue.path ?? []).map((segment) => String(typeof segment === 'object' ? segment.key : segment)).join('/')}`;
  const { code, expected, values, keys } = issue as StandardSchemaV1.Issue & IssueFields;
  if (issue.message !== 'Invalid input') return [{ pointer, detail: issue.message }];
  const under = pointer === '/' ? '' : pointer;
  if (code === 'unrecognized_keys' && keys) return keys.map((key) => ({ pointer: `${under}/${key}`, detail: 'is not a field of this request' }));
  if (code === 'invalid_value' && values) return [{ pointer, detail: `must be one of: ${values.map((value) => JSON.stringify(value)).join(', ')}` }];
  if (code === 'invalid_type' && expected) return [{ pointer, detail: `must be ${expected === 'object' || expected === 'record' ? 'a JSON object' : `of type ${expected}`}` }];
  return [{ pointer, detail: issue.message }];
}
