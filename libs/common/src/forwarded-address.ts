import { isIP } from 'node:net';

const BRACKETED = /^\[([^\]]+)\](?::\d{1,5})?$/;
const IPV4_WITH_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/;

/**
 * A client address as a proxy may forward it, without the port some append to each `X-Forwarded-For` entry
 * (`192.0.2.1:5678`, `[2001:db8::1]:443`: Azure's Application Gateway does) or the brackets around an IPv6 one;
 * anything else as given. With the port, every connection of one client was another client to the login throttle,
 * and no address to a session (the security review of 2026-12-05).
 */
export function withoutPort(address: string): string {
  return BRACKETED.exec(address)?.[1] ?? IPV4_WITH_PORT.exec(address)?.[1] ?? address;
}

/**
 * The client's address as Kura keeps it (on a session, in an audit line): an IP address without its zone (`%eth0`)
 * or a port a proxy appended, or none. Behind a trusted proxy the address comes from `X-Forwarded-For`, which a
 * client reaching the pod past the proxy may fill with anything (`1.2.3.4 action=logout`).
 */
export function addressOf(ip: string | undefined): string | undefined {
  const address = ip === undefined ? undefined : withoutPort(ip).split('%')[0];
  return address && isIP(address) ? address : undefined;
}
