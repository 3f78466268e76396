import { etagOf, versionFromIfMatch } from './etag.js';

describe('versionFromIfMatch', () => {
  it.each([
    ['"0"', 0],
    ['"1"', 1],
    ['"42"', 42],
    [' "7" ', 7],
    ['"999999999999999"', 999_999_999_999_999],
  ])('reads %p as version %p', (header, version) => {
    expect(versionFromIfMatch(header)).toBe(version);
  });

  it.each([undefined, '*', ' * '])('reads %p as any current version', (header) => {
    expect(versionFromIfMatch(header)).toBeUndefined();
  });

  // Strong comparison (RFC 9110, section 8.8.3.2) is character by character: "0001" is not the ETag "1".
  it.each(['"0001"', '"01"', '"00"', 'W/"1"', '"1", "2"', '1', '"x"', '""', '"1234567890123456"'])('fails the precondition for %p, an ETag Kura never issues', (header) => {
    expect(versionFromIfMatch(header)).toBeNull();
  });

  it('reads back every ETag it issues', () => {
    for (const version of [0, 1, 9, 10, 100, 123_456_789]) expect(versionFromIfMatch(etagOf(version))).toBe(version);
  });
});
