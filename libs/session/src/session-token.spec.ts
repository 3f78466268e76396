import { createHash } from 'node:crypto';
import { generateSessionToken, isWellFormedSessionId, isWellFormedToken, sessionIdOf } from './session-token.js';

/** Every character of the base64url alphabet, spread over two 43-character values. */
const ALPHABET_TOKENS = [
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq',
  'rstuvwxyz0123456789-_rstuvwxyz0123456789-_r',
];
const VALID = ALPHABET_TOKENS[0]!;

describe('session tokens', () => {
  it('are 32 bytes from the CSPRNG, written as 43 base64url characters', () => {
    const token = generateSessionToken();

    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
  });

  it('never repeat', () => {
    const tokens = new Set(Array.from({ length: 1000 }, generateSessionToken));

    expect(tokens.size).toBe(1000);
  });

  it('are always accepted as well-formed by the check that guards the store', () => {
    for (let i = 0; i < 200; i++) expect(isWellFormedToken(generateSessionToken())).toBe(true);
  });
});

describe.each([
  ['isWellFormedToken', isWellFormedToken],
  ['isWellFormedSessionId', isWellFormedSessionId],
])('%s', (_name, isWellFormed) => {
  it.each(ALPHABET_TOKENS)('accepts any base64url character (%s)', (value) => {
    expect(isWellFormed(value)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['one character short', VALID.slice(1)],
    ['one character long', `${VALID}A`],
    ['twice the length', VALID + VALID],
  ])('refuses a value of the wrong length (%s)', (_case, value) => {
    expect(isWellFormed(value)).toBe(false);
  });

  it.each(['+', '/', '=', '.', ' ', '%', '\n', 'é', '\u0000'])(
    'refuses a value of the right length with %j, a character outside base64url',
    (character) => {
      for (const at of [0, 21, 42]) {
        const value = VALID.slice(0, at) + character + VALID.slice(at + 1);
        expect(value).toHaveLength(43);
        expect(isWellFormed(value)).toBe(false);
      }
    },
  );

  it('refuses a well-formed value with anything before or after it', () => {
    expect(isWellFormed(`!${VALID}`)).toBe(false);
    expect(isWellFormed(`${VALID}!`)).toBe(false);
    expect(isWellFormed(`${VALID}\n`)).toBe(false);
    expect(isWellFormed(`Bearer ${VALID}`)).toBe(false);
  });
});

describe('sessionIdOf', () => {
  it('is the SHA-256 of the token in base64url, so a dump of the table holds no usable token', () => {
    const token = generateSessionToken();

    const id = sessionIdOf(token);

    expect(id).toBe(createHash('sha256').update(token).digest('base64url'));
    expect(id).not.toBe(token);
    expect(isWellFormedSessionId(id)).toBe(true);
  });

  it('matches the published SHA-256 test vector', () => {
    // SHA-256("abc") from FIPS 180-2, appendix B.1, in base64url.
    expect(sessionIdOf('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });

  it('gives the same id for the same token on every replica, and another id for another token', () => {
    const token = generateSessionToken();

    expect(sessionIdOf(token)).toBe(sessionIdOf(token));
    expect(sessionIdOf(token)).not.toBe(sessionIdOf(generateSessionToken()));
  });
});
