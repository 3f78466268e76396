import { etagOf, namesETag, preconditionOf } from './etag.js';

describe('preconditionOf', () => {
  const ifMatch = (header: string | undefined) => preconditionOf(header, undefined);
  const ifNoneMatch = (header: string) => preconditionOf(undefined, header)!;

  it.each([
    ['"0"', 0],
    ['"1"', 1],
    ['"42"', 42],
    [' "7" ', 7],
    ['"999999999999999"', 999_999_999_999_999],
  ])('reads If-Match %p as version %p only', (header, version) => {
    expect(ifMatch(header)!(version)).toBe(true);
    expect(ifMatch(header)!(version + 1)).toBe(false);
  });

  it('asks nothing of a request without If-Match or If-None-Match', () => {
    expect(preconditionOf(undefined, undefined)).toBeUndefined();
  });

  it.each(['*', ' * '])('reads If-Match %p as any current version', (header) => {
    for (const version of [0, 1, 42]) expect(ifMatch(header)!(version)).toBe(true);
  });

  // Strong comparison (RFC 9110, section 8.8.3.2) is character by character: "0001" is not the ETag "1".
  it.each(['"0001"', '"01"', '"00"', 'W/"1"', '"2", "3"', '1', '"x"', '""', '"1234567890123456"', '"1" "2"', '"1",,x'])(
    'fails If-Match %p for versions 0 and 1, naming neither as Kura issues them',
    (header) => {
      expect(ifMatch(header)!(1)).toBe(false);
      expect(ifMatch(header)!(0)).toBe(false);
    },
  );

  // RFC 9110, section 13.1.1: "the condition is true if any of the listed tags match".
  it.each([
    ['"1", "2"', [1, 2]],
    ['"7",W/"8", "9"', [7, 9]],
    ['"3" ,, "4"', [3, 4]],
  ])('holds If-Match %p for each version it lists strongly, and only those', (header, versions) => {
    for (const version of [0, 1, 2, 3, 4, 5, 7, 8, 9]) expect(ifMatch(header)!(version)).toBe(versions.includes(version));
  });

  it('reads back every ETag it issues', () => {
    for (const version of [0, 1, 9, 10, 100, 123_456_789]) expect(ifMatch(etagOf(version))!(version)).toBe(true);
  });

  // RFC 9110, section 13.1.2: If-None-Match compares weakly, and `*` matches any current representation.
  it.each([
    ['"2"', [2]],
    ['W/"2"', [2]],
    ['"1", W/"3"', [1, 3]],
    ['*', [0, 1, 2, 3]],
    ['"02"', []],
    ['garbage', []],
  ])('fails If-None-Match %p for the versions it names: %p', (header, named) => {
    for (const version of [0, 1, 2, 3]) expect(ifNoneMatch(header)(version)).toBe(!named.includes(version));
  });

  it('holds only where both hold, when both are sent', () => {
    const both = preconditionOf('"1", "2"', '"2"')!;

    expect([0, 1, 2, 3].map(both)).toEqual([false, true, false, false]);
  });
});

describe('namesETag, If-None-Match\'s weak comparison (a GET answered 304)', () => {
  it.each([
    ['"4"', true],
    ['W/"4"', true],
    ['"3", "4"', true],
    ['*', true],
    ['"3"', false],
    ['"04"', false],
    [undefined, false],
  ])('answers If-None-Match %p against ETag "4": not modified %p', (header, expected) => {
    expect(namesETag(header, etagOf(4), true)).toBe(expected);
  });
});
