import type { TrustProxy } from '../config/app-config.js';

/**
 * Fastify's `trustProxy` for `KURA_TRUST_PROXY`. Fastify 5.12.1 turned a numeric `trustProxy` into "trust
 * nothing" (a hop count cannot check who connected, so a client that reaches the server directly can write its
 * own `X-Forwarded-For`); behind an ingress that would give every client the ingress controller's address and
 * one shared login limit. Kura keeps the hop count as the function it used to be, for deployments where only
 * the proxies reach the pod (a ClusterIP Service behind the ingress); elsewhere, list the proxies' addresses.
 */
export function fastifyTrustProxy(trust: TrustProxy): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust === 'number') return (_address: string, hop: number) => hop < trust;
  return typeof trust === 'boolean' ? trust : [...trust];
}
