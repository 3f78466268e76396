import { toJSONSchema } from 'zod/mini';
import { LoginBody, RegisterBody } from './auth.schemas.js';

const registration = (fields: Record<string, unknown>) => RegisterBody.schema.safeParse({ email: 'ada@example.com', password: 'correct horse', ...fields });

describe('request schemas', () => {
  it.each([
    ['128 emoji, one character each', '🔑'.repeat(128), true],
    ['129 emoji', '🔑'.repeat(129), false],
    ['4 emoji (8 UTF-16 units, 4 characters)', '🔑'.repeat(4), false],
    ['8 letters', 'abcdefgh', true],
  ])('counts a password in characters, as the API document does: %s', (_, password, valid) => {
    expect(registration({ password }).success).toBe(valid);
  });

  it.each([
    ['8 accented letters sent decomposed (16 code points, 8 characters)', 'e\u0301'.repeat(8), true],
    ['4 accented letters sent decomposed (8 code points, 4 characters)', 'e\u0301'.repeat(4), false],
    ['128 accented letters sent decomposed (256 code points)', 'e\u0301'.repeat(128), true],
  ])('counts a password as it is hashed, in NFC, so that one password is one length however it is sent: %s', (_, password, valid) => {
    expect(registration({ password }).success).toBe(valid);
    expect(LoginBody.schema.safeParse({ email: 'ada@example.com', password }).success).toBe(true);
  });

  it.each([
    ['100 characters', 'a'.repeat(100), true],
    ['100 characters with a space around', ` ${'a'.repeat(100)} `, false],
    ['blank', '   ', false],
    ['a name with spaces', ' Ada Lovelace ', true],
  ])('checks a name as sent: %s', (_, name, valid) => {
    expect(registration({ name }).success).toBe(valid);
  });

  it('refuses a password or a name with a lone surrogate, which hashing would turn into U+FFFD (every such password of one length the same)', () => {
    expect(registration({ password: '\ud800'.repeat(8) }).success).toBe(false);
    expect(registration({ password: `correct horse\udc00` }).success).toBe(false);
    expect(registration({ name: 'Ada\ud800' }).success).toBe(false);
    expect(LoginBody.schema.safeParse({ email: 'ada@example.com', password: '\udc00'.repeat(8) }).success).toBe(false);
    expect(registration({ password: '\ud83d\udd11'.repeat(8) }).success).toBe(true); // a pair is one character
  });

  it('shows the same limits in the API document', () => {
    const schema = toJSONSchema(RegisterBody.schema, { target: 'openapi-3.0', io: 'input' }) as any;
    const { properties } = schema.definitions.RegisterRequest;

    expect(properties.password).toMatchObject({ type: 'string', minLength: 8, maxLength: 128 });
    expect(properties.name).toMatchObject({ type: 'string', minLength: 1, maxLength: 100, pattern: '\\S' });
  });

  it('refuses a login password longer than any registration accepts, and nothing shorter', () => {
    expect(LoginBody.schema.safeParse({ email: 'ada@example.com', password: '🔑'.repeat(128) }).success).toBe(true);
    expect(LoginBody.schema.safeParse({ email: 'ada@example.com', password: 'x'.repeat(129) }).success).toBe(false);
  });
});
