import { COMMON_PASSWORDS } from './common-passwords.js';
// @ts-expect-error: a plain .mjs script, without types
import { foldedCommonPasswords } from '../../../scripts/common-passwords.mjs';

describe('COMMON_PASSWORDS', () => {
  it('is the installed @zxcvbn-ts/language-common list, folded and sorted (npm run generate:passwords after an update)', () => {
    const expected = foldedCommonPasswords() as string[];

    expect(expected.length).toBeGreaterThan(40_000);
    // Compared as lines first, so that a difference says which passwords, not "the strings differ".
    const lines = new Set(COMMON_PASSWORDS.split('\n'));
    const wanted = new Set(expected);
    expect([...lines].filter((line) => !wanted.has(line))).toEqual([]);
    expect(expected.filter((entry) => !lines.has(entry))).toEqual([]);
    expect(COMMON_PASSWORDS).toBe(expected.join('\n'));
  });
});
