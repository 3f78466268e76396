import { toJSONSchema } from 'zod/mini';
import { LoginBody, PasswordChangeBody, ReauthenticateBody, RegisterBody } from './auth.schemas.js';

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
  ])('counts a password as it is hashed, in NFC, so that one password is one length however it is sent: %s', (_, password, valid) => {
    expect(registration({ password }).success).toBe(valid);
    expect(LoginBody.schema.safeParse({ email: 'ada@example.com', password }).success).toBe(true);
  });

  // The OpenAPI review: counted in NFC alone, 200 code points that are 100 characters in NFC were taken by the server and
  // refused by a client validating with the document, which counts code points as sent.
  it('refuses a new password over 128 code points as sent, though fewer in NFC, and still logs in with it sent so', () => {
    const decomposed = 'e\u0301'.repeat(100);

    expect(registration({ password: decomposed }).success).toBe(false);
    expect(PasswordChangeBody.schema.safeParse({ currentPassword: 'correct horse', newPassword: decomposed }).success).toBe(false);
    // Registered composed (100 characters), the same password sent decomposed must still log in.
    expect(registration({ password: decomposed.normalize('NFC') }).success).toBe(true);
    expect(LoginBody.schema.safeParse({ email: 'ada@example.com', password: decomposed }).success).toBe(true);
    expect(ReauthenticateBody.schema.safeParse({ password: decomposed }).success).toBe(true);
    expect(PasswordChangeBody.schema.safeParse({ currentPassword: decomposed, newPassword: 'correct horse' }).success).toBe(true);
  });

  it('takes at a login every spelling of a password of 128 characters, the longest decomposed (512 code points)', () => {
    // U+1F82 is four code points decomposed, the most any character is.
    const longest = '\u1f82'.repeat(128);

    expect(registration({ password: longest }).success).toBe(true);
    expect(LoginBody.schema.safeParse({ email: 'ada@example.com', password: longest.normalize('NFD') }).success).toBe(true);
    expect([...longest.normalize('NFD')]).toHaveLength(512);
  });

  const documented = (schema: any, definition: string, field: string) =>
    (toJSONSchema(schema, { target: 'openapi-3.0', io: 'input' }) as any).definitions[definition].properties[field];
  const spellings = ['a', '🔑', 'e\u0301', '\u00e9', '\u0958', '\ufb2c', '\u1f82', '\u1f82'.normalize('NFD')].flatMap((unit) =>
    [1, 2, 3, 4, 7, 8, 9, 32, 33, 64, 100, 127, 128, 129, 200, 256, 512, 513].map((count) => unit.repeat(count)),
  );
  it.each([
    ['RegisterRequest', 'password', (password: string) => registration({ password }).success],
    ['PasswordChangeRequest', 'newPassword', (newPassword: string) => PasswordChangeBody.schema.safeParse({ currentPassword: 'x', newPassword }).success],
    ['PasswordChangeRequest', 'currentPassword', (currentPassword: string) => PasswordChangeBody.schema.safeParse({ currentPassword, newPassword: 'correct horse' }).success],
    ['LoginRequest', 'password', (password: string) => LoginBody.schema.safeParse({ email: 'ada@example.com', password }).success],
    ['ReauthenticateRequest', 'password', (password: string) => ReauthenticateBody.schema.safeParse({ password }).success],
  ] as const)('takes no %s.%s the API document refuses, in any spelling', (definition, field, takes) => {
    const schema = { RegisterRequest: RegisterBody, PasswordChangeRequest: PasswordChangeBody, LoginRequest: LoginBody, ReauthenticateRequest: ReauthenticateBody }[definition].schema;
    const { minLength, maxLength } = documented(schema, definition, field);
    const refusedByDocument = spellings.filter((value) => takes(value) && ([...value].length < minLength || [...value].length > maxLength));

    expect(refusedByDocument.map((value) => `${[...value].length} code points, ${[...value.normalize('NFC')].length} in NFC`)).toEqual([]);
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
    expect(documented(LoginBody.schema, 'LoginRequest', 'password')).toMatchObject({ type: 'string', minLength: 1, maxLength: 512 });
  });

  it('refuses a login password longer than any registration accepts, and nothing shorter', () => {
    expect(LoginBody.schema.safeParse({ email: 'ada@example.com', password: '🔑'.repeat(128) }).success).toBe(true);
    expect(LoginBody.schema.safeParse({ email: 'ada@example.com', password: 'x'.repeat(129) }).success).toBe(false);
  });
});
