import { expiryOf, mustMoveExpiry } from './session-expiry.js';

const NOW = Date.UTC(2026, 10, 30, 12);
const MINUTE = 60_000;
const DAY = 86_400_000;

describe('expiryOf', () => {
  it.each([
    ['an ISO date, as JSON leaves it', { expires: new Date(NOW + MINUTE).toISOString() }, NOW + MINUTE],
    ['a Date, as the live cookie holds it', { expires: new Date(NOW + MINUTE) }, NOW + MINUTE],
    ['epoch milliseconds', { expires: NOW + MINUTE }, NOW + MINUTE],
    ['an expiry already past', { expires: new Date(NOW - MINUTE).toISOString() }, NOW - MINUTE],
  ])('takes the cookie expiry from %s', (_case, cookie, expected) => {
    expect(expiryOf(cookie, NOW, DAY)).toBe(expected);
  });

  it.each([
    ['a browser-session cookie (expires null)', { expires: null, originalMaxAge: null }],
    ['a cookie without expires', { path: '/' }],
    ['an unreadable date', { expires: 'next tuesday' }],
    ['no cookie at all', undefined],
  ])('falls back to the configured TTL for %s', (_case, cookie) => {
    expect(expiryOf(cookie, NOW, DAY)).toBe(NOW + DAY);
  });
});

describe('mustMoveExpiry (the touch rule)', () => {
  const window = 30 * MINUTE;

  it.each([
    ['just written', NOW + window, false],
    ['written 2 minutes ago (under a tenth of the window)', NOW - 2 * MINUTE + window, false],
    ['written 3 minutes ago (a tenth of the window)', NOW - 3 * MINUTE + window, true],
    ['written 20 minutes ago', NOW - 20 * MINUTE + window, true],
    ['a few milliseconds ahead (another replica’s clock)', NOW + window + 5, false],
    ['longer than the cookie now allows (the app shortened it)', NOW + 2 * window, true],
  ])('with the stored expiry %s: %s', (_case, stored, expected) => {
    expect(mustMoveExpiry(stored, NOW + window, NOW, 0.1)).toBe(expected);
  });

  it('writes on every touch with a fraction of 0, as connect-dynamodb does', () => {
    expect(mustMoveExpiry(NOW + window, NOW + window, NOW, 0)).toBe(true);
  });

  it('writes when the wanted expiry is already past, whatever is stored', () => {
    expect(mustMoveExpiry(NOW + window, NOW - 1, NOW, 0.1)).toBe(true);
  });
});
