import { withoutPort } from '@kura/common';
import ipaddr from 'ipaddr.js';

/**
 * The client a request's address stands for, as the throttle counts it. An IPv6 host is usually given a whole /64
 * and picks its source address within it at will (privacy addresses), so an IPv6 address counts as its /64; an
 * IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack socket reports) counts as the IPv4 address it is.
 * Either way in canonical form, so spellings of one address are one client, and without a port a proxy appended.
 * Anything that is not an address is kept as given.
 */
export function clientOf(forwarded: string): string {
  const address = withoutPort(forwarded);
  if (!ipaddr.isValid(address)) return address;
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${parsed.toString()}/64`).toString()}/64`;
}
