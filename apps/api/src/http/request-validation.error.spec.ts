import { FIELD_ERROR_LIMITS, RequestValidationError } from './request-validation.error.js';

describe('RequestValidationError', () => {
  it('locates each issue by its path', () => {
    const error = new RequestValidationError([{ message: 'must be an email address', path: ['email'] }, { message: 'Invalid input', path: [] }]);

    expect(error.errors).toEqual([
      { pointer: '/email', detail: 'must be an email address' },
      { pointer: '/', detail: 'Invalid input' },
    ]);
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
