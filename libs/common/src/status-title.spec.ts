import { STATUS_CODES } from 'node:http';
import { statusTitle } from './status-title.js';

describe('statusTitle', () => {
  it.each([
    [413, 'Content Too Large'],
    [422, 'Unprocessable Content'],
  ])('names %i as RFC 9110 does (%s), not as Node does', (status, title) => {
    expect(statusTitle(status)).toBe(title);
    expect(STATUS_CODES[status]).not.toBe(title);
  });

  it("keeps Node's names where RFC 9110's are the same, and says 'Error' for a status with none", () => {
    expect([400, 401, 404, 414, 431, 503].map(statusTitle)).toEqual(['Bad Request', 'Unauthorized', 'Not Found', 'URI Too Long', 'Request Header Fields Too Large', 'Service Unavailable']);
    expect(statusTitle(499)).toBe('Error');
  });
});
