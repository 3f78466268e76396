import { describe, expect, it } from '@jest/globals';
import { isEmailAddress, normaliseEmail } from './account.types.js';

describe('normaliseEmail', () => {
  it('trims and lowers an ASCII email, as before', () => {
    expect(normaliseEmail('  Ada.Lovelace+kura@Example.COM ')).toBe('ada.lovelace+kura@example.com');
  });

  it('makes one account of every way to type an internationalised email', () => {
    const typed = [
      'José@MÜNCHEN.de', // capitals
      'jose\u0301@münchen.de', // é decomposed (e + combining acute)
      'josé@xn--mnchen-3ya.de', // the domain as IDNA writes it in ASCII
      'ｊｏｓé@münchen.de', // fullwidth letters, as some input methods type them
    ];
    expect(new Set(typed.map(normaliseEmail))).toEqual(new Set(['josé@münchen.de']));
    expect(normaliseEmail('用户@例子.广告')).toBe('用户@例子.广告');
  });
});

describe('isEmailAddress', () => {
  it.each(['a@b.co', "o'brien@example.com", 'ada+kura@mail.example.org', 'josé@münchen.de', '用户@例子.广告', 'пример@пример.рф', 'a@xn--mnchen-3ya.de', 'A@B.CO', 'a@xn--mnchen-3ya.köln.de', '用户@例子。广告', `a@${'b'.repeat(63)}.com`])(
    'accepts %s',
    (email) => expect(isEmailAddress(email)).toBe(true),
  );

  it.each([
    ['no @', 'not-an-email'],
    ['two @', 'a@b@example.com'],
    ['no local part', '@example.com'],
    ['a domain of one label', 'a@localhost'],
    ['a space', 'a b@example.com'],
    ['a quoted local part', '"a b"@example.com'],
    ['dots at the edges or doubled', '.a@example.com'],
    ['a doubled dot', 'a..b@example.com'],
    ['a domain IDNA refuses', 'a@ex ample.com'],
    ['a label starting with -', 'a@-example.com'],
    ['a 65-character local part', `${'é'.repeat(65)}@example.com`],
    ['a control character', 'a\u0000@example.com'],
    ['a symbol', 'a☃@example.com'],
    // IDNA's mapping drops these, or keeps a label it cannot decode: each was stored rewritten or kept (an outside review, 2026-12-06).
    ['a tab inside the domain', 'a@exa\tmple.com'],
    ['a line feed at the end', 'a@example.com\n'],
    ['a soft hyphen inside the domain', 'a@exa\u00admple.com'],
    ['a 64-character label', `a@${'b'.repeat(64)}.com`],
    ['an A-label with nothing to decode', 'a@xn--.de'],
    ['an A-label that decodes to nothing valid', 'a@xn--zz.de'],
    // 114 characters as typed, 314 once NFKC spells each ligature out: over the 254 the API document says.
    ['an email of more than 254 characters once normalised', `${'ﬃ'.repeat(19)}xxxx@${'ﬃ'.repeat(21)}.${'ﬃ'.repeat(21)}.${'ﬃ'.repeat(21)}.${'ﬃ'.repeat(18)}ab.com`],
  ])('refuses %s', (_case, email) => expect(isEmailAddress(email)).toBe(false));
});
