import { crossSiteReason } from './cross-site-request.guard.js';

describe('crossSiteReason', () => {
  it.each([
    [{ host: 'api.example.com' }, undefined],
    [{ host: 'api.example.com', origin: 'https://api.example.com' }, undefined],
    [{ host: 'API.example.com:8443', origin: 'https://api.example.com:8443' }, undefined],
    [{ host: 'api.example.com', origin: 'https://app.example.com' }, undefined], // trusted
    [{ host: 'api.example.com', 'sec-fetch-site': 'same-origin' }, undefined],
    [{ host: 'api.example.com', 'sec-fetch-site': 'same-site' }, undefined],
    [{ host: 'api.example.com', 'sec-fetch-site': 'none' }, undefined],
  ])('lets %j through', (headers, expected) => {
    expect(crossSiteReason(headers, ['https://app.example.com'])).toBe(expected);
  });

  it.each([
    [{ host: 'api.example.com', 'sec-fetch-site': 'cross-site' }, /Sec-Fetch-Site/],
    [{ host: 'api.example.com', 'sec-fetch-site': 'cross-site', origin: 'https://api.example.com' }, /Sec-Fetch-Site/],
    [{ host: 'api.example.com', origin: 'null' }, /null/],
    [{ host: 'api.example.com', origin: 'https://evil.example' }, /not this site/],
    [{ host: 'api.example.com', origin: 'https://api.example.com.evil.example' }, /not this site/],
    [{ host: 'api.example.com:8443', origin: 'https://api.example.com' }, /not this site/],
    [{ origin: 'https://api.example.com' }, /not this site/],
    [{ host: 'api.example.com', origin: 'not a url' }, /not a URL/],
  ])('refuses %j', (headers, reason) => {
    expect(crossSiteReason(headers, ['https://app.example.com'])).toMatch(reason);
  });
});
