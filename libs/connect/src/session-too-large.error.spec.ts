import { describe, expect, it } from '@jest/globals';
import { checkGrowth, checkSize, MAX_KEY_NAME_BYTES, SessionTooLargeError } from './session-too-large.error.js';

const long = 'k'.repeat(MAX_KEY_NAME_BYTES + 1);
const document = (entries: [string, string][]) => ({ data: new Map(entries), cookie: undefined });

describe("a session key's name", () => {
  it('is refused over MAX_KEY_NAME_BYTES in UTF-8 when a session is written whole', () => {
    expect(() => checkSize(document([['k'.repeat(MAX_KEY_NAME_BYTES), '1']]))).not.toThrow();
    expect(() => checkSize(document([[long, '1']]))).toThrow(SessionTooLargeError);
    // 10,923 characters of two bytes: a third of the limit in characters, over it in bytes.
    expect(() => checkSize(document([['é'.repeat(16_385), '1']]))).toThrow(expect.objectContaining({ bytes: 32_770, limit: MAX_KEY_NAME_BYTES }));
  });

  it('is refused when a save adds it, and not when the session already held it (kept before the rule), whatever else the save changes', () => {
    const read = new Map([[long, '1'], ['a', '1']]);

    expect(() => checkGrowth(new Map([['a', '1']]), document([['a', '1'], [long, '1']]))).toThrow(SessionTooLargeError);
    expect(() => checkGrowth(read, document([[long, '1'], ['a', '"grown"']]))).not.toThrow();
    expect(() => checkGrowth(read, document([[long, '2']]))).not.toThrow();
  });
});
