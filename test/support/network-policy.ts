/**
 * Whether Kubernetes NetworkPolicies (networking.k8s.io/v1) let a connection into a pod, by the API's documented
 * rules (https://kubernetes.io/docs/concepts/services-networking/network-policies/): a pod that no policy of its
 * namespace selects for ingress accepts everything; one that some do accepts what any rule of any of them allows.
 * A rule allows a source that one of its `from` peers matches (none: every source) on one of its `ports` (none:
 * every port). A peer with a podSelector and a namespaceSelector matches pods that meet both; a podSelector alone
 * means the policy's own namespace; an ipBlock matches addresses from outside the cluster (whether it also
 * matches pods' own addresses is left to each network plugin, so it never matches a pod here).
 *
 * Written here because the tools that evaluate policies offline (np-guard's netpol-analyzer, cyclonus) are Go
 * programs fetched from GitHub, which this machine may not reach; the manifests' tests check it on the
 * documentation's own examples before trusting it.
 */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}
interface PolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}
interface PolicyPort {
  port?: number | string;
  endPort?: number;
  protocol?: string;
}
export interface NetworkPolicy {
  metadata: { name: string; namespace?: string };
  spec: {
    podSelector: LabelSelector;
    policyTypes?: string[];
    ingress?: { from?: PolicyPeer[]; ports?: PolicyPort[] }[];
    egress?: unknown[];
  };
}

/** A pod as the policies see it: its namespace, labels and named container ports. */
export interface Pod {
  namespace: string;
  labels: Record<string, string>;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
}
/** Where a connection comes from: a pod, or an address outside the cluster. */
export type Source = { pod: Pod } | { address: string };

export function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  return (
    byLabel &&
    (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
      switch (operator) {
        case 'In':
          return key in labels && values.includes(labels[key]!);
        case 'NotIn':
          return !(key in labels) || !values.includes(labels[key]!);
        case 'Exists':
          return key in labels;
        case 'DoesNotExist':
          return !(key in labels);
        default:
          throw new Error(`unknown selector operator ${String(operator)}`);
      }
    })
  );
}

const ipv4 = (address: string): number => {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)) throw new Error(`not an IPv4 address: ${address}`);
  return parts.reduce((value, part) => value * 256 + part, 0);
};
export function inCidr(address: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipv4(base!) / size) * size;
  const value = ipv4(address);
  return value >= start && value < start + size;
}

/** The labels every namespace carries, besides its own: kubernetes.io/metadata.name (set by the API server). */
export const namespaceLabels = (name: string, labels: Record<string, string> = {}) => ({ ...labels, 'kubernetes.io/metadata.name': name });

function peerMatches(peer: PolicyPeer, policyNamespace: string, source: Source, namespaces: Map<string, Record<string, string>>): boolean {
  if (peer.ipBlock) return 'address' in source && inCidr(source.address, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((cidr) => inCidr(source.address, cidr));
  if (!('pod' in source)) return false;
  const { pod } = source;
  const inNamespace = peer.namespaceSelector ? selects(peer.namespaceSelector, namespaces.get(pod.namespace) ?? namespaceLabels(pod.namespace)) : pod.namespace === policyNamespace;
  return inNamespace && (peer.podSelector ? selects(peer.podSelector, pod.labels) : true);
}

function portMatches(rule: PolicyPort, target: Pod, port: number, protocol: string): boolean {
  if ((rule.protocol ?? 'TCP') !== protocol) return false;
  if (rule.port === undefined) return true;
  if (typeof rule.port === 'string') {
    // A named port: whatever number the destination pod gives that name (none: no match).
    return (target.ports ?? []).some((p) => p.name === rule.port && p.containerPort === port && (p.protocol ?? 'TCP') === protocol);
  }
  return rule.endPort ? port >= rule.port && port <= rule.endPort : port === rule.port;
}

/** The policies that isolate `target` for ingress: those of its namespace that select it, ingress among their types. */
export function isolating(policies: NetworkPolicy[], target: Pod): NetworkPolicy[] {
  return policies.filter((policy) => {
    const types = policy.spec.policyTypes ?? ['Ingress', ...(policy.spec.egress ? ['Egress'] : [])];
    return (policy.metadata.namespace ?? 'default') === target.namespace && types.includes('Ingress') && selects(policy.spec.podSelector, target.labels);
  });
}

/** Whether `source` may open a connection to `target` on `port`/`protocol` under `policies`. */
export function allowed(
  policies: NetworkPolicy[],
  { source, target, port, protocol = 'TCP', namespaces = new Map() }: { source: Source; target: Pod; port: number; protocol?: string; namespaces?: Map<string, Record<string, string>> },
): boolean {
  const applying = isolating(policies, target);
  if (applying.length === 0) return true;
  return applying.some((policy) =>
    (policy.spec.ingress ?? []).some(
      (rule) =>
        (!rule.from?.length || rule.from.some((peer) => peerMatches(peer, policy.metadata.namespace ?? 'default', source, namespaces))) &&
        (!rule.ports?.length || rule.ports.some((p) => portMatches(p, target, port, protocol))),
    ),
  );
}
