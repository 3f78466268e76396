/**
 * The Pod Security Standards' `restricted` profile (Kubernetes 1.32), checked offline on a pod spec: what the
 * API server's Pod Security admission would refuse in a namespace labelled `enforce: restricted`. Written from
 * the published policy table (kubernetes.io/docs/concepts/security/pod-security-standards), baseline controls
 * included, since `restricted` is baseline plus more. Returns one line per violation; none means admitted.
 */
type SecurityContext = {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type?: string };
  appArmorProfile?: { type?: string };
  seLinuxOptions?: { type?: string; user?: string; role?: string };
  procMount?: string;
  windowsOptions?: { hostProcess?: boolean };
  sysctls?: { name: string }[];
};
type Container = { name: string; securityContext?: SecurityContext; ports?: { hostPort?: number }[] };
export type PodSpec = {
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: SecurityContext;
  containers: Container[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
  volumes?: Record<string, unknown>[];
};

const ALLOWED_VOLUME_TYPES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];
const ALLOWED_SELINUX_TYPES = [undefined, '', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'];
const SAFE_SYSCTLS = [
  'kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes',
];

export function restrictedViolations(pod: PodSpec): string[] {
  const problems: string[] = [];
  const fail = (what: string) => problems.push(what);
  const podContext = pod.securityContext ?? {};
  const containers = [...pod.containers, ...(pod.initContainers ?? []), ...(pod.ephemeralContainers ?? [])];

  if (pod.hostNetwork || pod.hostPID || pod.hostIPC) fail('host namespaces (hostNetwork, hostPID or hostIPC)');
  if (podContext.windowsOptions?.hostProcess) fail('pod: windowsOptions.hostProcess');
  for (const sysctl of podContext.sysctls ?? []) if (!SAFE_SYSCTLS.includes(sysctl.name)) fail(`pod: unsafe sysctl ${sysctl.name}`);
  if (podContext.runAsUser === 0) fail('pod: runAsUser 0');
  if (!ALLOWED_SELINUX_TYPES.includes(podContext.seLinuxOptions?.type) || podContext.seLinuxOptions?.user || podContext.seLinuxOptions?.role) {
    fail('pod: seLinuxOptions');
  }
  if (podContext.appArmorProfile?.type === 'Unconfined') fail('pod: AppArmor Unconfined');
  const podSeccomp = podContext.seccompProfile?.type;
  if (podSeccomp !== undefined && !['RuntimeDefault', 'Localhost'].includes(podSeccomp)) fail(`pod: seccompProfile ${podSeccomp}`);

  for (const volume of pod.volumes ?? []) {
    const types = Object.keys(volume).filter((key) => key !== 'name');
    for (const type of types) if (!ALLOWED_VOLUME_TYPES.includes(type)) fail(`volume ${String(volume.name)}: type ${type}`);
  }

  for (const container of containers) {
    const context = container.securityContext ?? {};
    const at = `container ${container.name}`;
    if (context.privileged) fail(`${at}: privileged`);
    if (context.windowsOptions?.hostProcess) fail(`${at}: windowsOptions.hostProcess`);
    if (context.allowPrivilegeEscalation !== false) fail(`${at}: allowPrivilegeEscalation must be false`);
    if (context.runAsNonRoot === false || (context.runAsNonRoot !== true && podContext.runAsNonRoot !== true)) {
      fail(`${at}: runAsNonRoot must be true (on the pod or the container)`);
    }
    if (context.runAsUser === 0) fail(`${at}: runAsUser 0`);
    const seccomp = context.seccompProfile?.type ?? podSeccomp;
    if (!seccomp || !['RuntimeDefault', 'Localhost'].includes(seccomp)) fail(`${at}: seccompProfile must be RuntimeDefault or Localhost`);
    if (!context.capabilities?.drop?.includes('ALL')) fail(`${at}: capabilities must drop ALL`);
    for (const added of context.capabilities?.add ?? []) if (added !== 'NET_BIND_SERVICE') fail(`${at}: adds capability ${added}`);
    if (context.procMount !== undefined && context.procMount !== 'Default') fail(`${at}: procMount ${context.procMount}`);
    if (context.appArmorProfile?.type === 'Unconfined') fail(`${at}: AppArmor Unconfined`);
    if (!ALLOWED_SELINUX_TYPES.includes(context.seLinuxOptions?.type) || context.seLinuxOptions?.user || context.seLinuxOptions?.role) {
      fail(`${at}: seLinuxOptions`);
    }
    for (const port of container.ports ?? []) if (port.hostPort) fail(`${at}: hostPort ${port.hostPort}`);
  }
  return problems;
}
