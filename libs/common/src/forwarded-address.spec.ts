import { withoutPort } from './forwarded-address.js';

describe('withoutPort', () => {
  it.each([
    ['192.0.2.1:5678', '192.0.2.1'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['[fe80::1%eth0]:80', 'fe80::1%eth0'],
    ['192.0.2.1', '192.0.2.1'],
    ['2001:db8::1', '2001:db8::1'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['unknown', 'unknown'],
    ['192.0.2.1:', '192.0.2.1:'],
    ['192.0.2.1:123456', '192.0.2.1:123456'],
  ])('reads %p as %p', (forwarded, address) => {
    expect(withoutPort(forwarded)).toBe(address);
  });
});
