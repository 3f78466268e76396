import { FIELD_ERROR_LIMITS, RequestValidationError } from './request-validation.error.js';

describe('RequestValidationError', () => {
  it('locates each issue by its path', () => {
    const error = new RequestValidationError([{ message: 'must be an email address', path: ['email'] }, { message: 'Invalid input', path: [] }]);

    expect(error.errors).toEqual([
      { pointer: '/email', detail: 'must be an email address' },
      { pointer: '/', detail: 'Invalid input' },
    ]);
  });

  it("says what was wanted where zod's message is only \"Invalid input\", from the schemas' own issues", async () => {
    const { z } = { z: await import('zod/mini') };
    const body = z.strictObject({ email: z.string(), transport: z._default(z.enum(['cookie', 'bearer']), 'cookie') });
    const errorsOf = (schema: typeof body | ReturnType<typeof z.record>, value: unknown) => {
      const result = schema['~standard'].validate(value) as { issues?: readonly { message: string; path?: readonly PropertyKey[] }[] };
      return new RequestValidationError(result.issues ?? []).errors;
    };

    // Each said "Invalid input" at / (an outside review, 2026-12-06).
    expect(errorsOf(body, { email: 'a', x: 1, y: 2 })).toEqual([
      { pointer: '/x', detail: 'is not a field of this request' },
      { pointer: '/y', detail: 'is not a field of this request' },
    ]);
    expect(errorsOf(body, { email: 'a', transport: 'x' })).toEqual([{ pointer: '/transport', detail: 'must be one of: "cookie", "bearer"' }]);
    expect(errorsOf(body, [1])).toEqual([{ pointer: '/', detail: 'must be a JSON object' }]);
    expect(errorsOf(z.record(z.string(), z.unknown()), 'patch')).toEqual([{ pointer: '/', detail: 'must be a JSON object' }]);
    expect(errorsOf(body, { email: 5 })).toEqual([{ pointer: '/email', detail: 'must be of type string' }]);
  });

  it('lists a bounded number of errors, each of bounded length, however the body was built to fail', () => {
    const key = 'k'.repeat(5000);
    const issues = Array.from({ length: 500 }, () => ({ message: `Unrecognized key: "${key}"`, path: [key] }));

    const { errors } = new RequestValidationError(issues);

    expect(errors).toHaveLength(FIELD_ERROR_LIMITS.count);
    expect(Math.max(...errors.map((error) => error.pointer.length))).toBe(FIELD_ERROR_LIMITS.pointer);
    expect(Math.max(...errors.map((error) => error.detail.length))).toBe(FIELD_ERROR_LIMITS.detail);
  });
});
