import { fastifyTrustProxy } from './trust-proxy.js';

describe('fastifyTrustProxy', () => {
  it('trusts the nearest n hops of a hop count, whatever their address, and no further', () => {
    const trust = fastifyTrustProxy(2) as (address: string, hop: number) => boolean;

    expect([0, 1, 2, 3].map((hop) => trust('203.0.113.9', hop))).toEqual([true, true, false, false]);
  });

  it.each([
    [false, false],
    [true, true],
    [['10.0.0.0/8', '::1'], ['10.0.0.0/8', '::1']],
  ])('passes %p on to Fastify as it is', (setting, expected) => {
    expect(fastifyTrustProxy(setting)).toEqual(expected);
  });
});
