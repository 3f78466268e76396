import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { chromium } from 'playwright-core';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { Ingress, NetworkPolicy as NetworkPolicyModel } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Service, ServiceAccount } from 'kubernetes-models/v1';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../apps/api/src/config/app-config.js';
import { CHROMIUM, CHROMIUM_ARGS, chromiumAvailable } from './support/chromium.js';
import { freshTables, kuraEnv, testEndpoint } from './support/engine.js';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy.js';
import { freePort } from './support/free-port.js';
import { HttpClient, uniqueEmail } from './support/http-client.js';
import { startKuraInProcess } from './support/kura-app.js';
import { allowed, isolating, namespaceLabels, type NetworkPolicy, type Pod, type Source } from './support/network-policy.js';
import { type PodSpec, restrictedViolations } from './support/pod-security.js';
import { redisServerMissing, startRedisServer } from './support/redis-server.js';

/**
 * The Kubernetes manifests, rendered offline with kustomize and checked against the Kubernetes schemas and
 * against what schemas cannot say: selectors that select, probes that exist, no session affinity anywhere; a
 * namespace created first, enforcing Pod Security "restricted", which every pod meets; the Ingress host, class
 * and TLS in the overlays; probes that keep a store outage from emptying the Service; and the README's
 * Kubernetes steps, which need kubectl alone.
 */
type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  data?: any;
  automountServiceAccountToken?: boolean;
};

const MODELS: Record<string, { new (data: any): { validate(): void } }> = {
  'v1/Namespace': Namespace,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/ServiceAccount': ServiceAccount,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicyModel,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

function kubectlAvailable(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI) throw new Error('kubectl is missing: CI needs it to render the manifests');
    console.warn('SKIPPING manifest tests: kubectl (with its built-in kustomize) is not installed');
    return false;
  }
}

const renderDir = (dir: string): K8sObject[] =>
  parseAllDocuments(execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' })).map((document) => document.toJS() as K8sObject);
const render = (overlay: string): K8sObject[] => renderDir(`infra/k8s/overlays/${overlay}`);
const kustomization = (overlay: string) => parse(readFileSync(`infra/k8s/overlays/${overlay}/kustomization.yaml`, 'utf8'));
const podSpecs = (objects: K8sObject[]): [string, PodSpec][] =>
  objects.filter((o) => o.spec?.template?.spec?.containers).map((o) => [`${o.kind}/${o.metadata.name}`, o.spec.template.spec]);
/** The Kubernetes page of the docs (docs/kubernetes.md). */
const kubernetesSection = () => readFileSync('docs/kubernetes.md', 'utf8');

const describeIfKubectl = kubectlAvailable() ? describe : describe.skip;

/** A real store for Kura, with a switch that makes it fail (and heal) under a running Kura. */
interface FailingStore {
  readonly env: Record<string, string>;
  fail(): void;
  heal(): void;
  close(): Promise<void>;
}

/** DynamoDB Local behind a proxy that resets every call while failing. */
async function failingDynamoDb(): Promise<FailingStore> {
  const proxy: FaultProxy = await startFaultProxy(testEndpoint());
  return {
    env: kuraEnv(await freshTables(), proxy.endpoint, { KURA_DYNAMODB_MAX_ATTEMPTS: '2' }),
    fail: () => proxy.set('reset'),
    heal: () => proxy.set('pass'),
    close: () => proxy.close(),
  };
}

/** A redis-server of its own, stopped (SIGSTOP: connections stay open, nothing answers) while failing. */
async function failingRedis(): Promise<FailingStore> {
  const server = await startRedisServer();
  return {
    env: { KURA_STORE: 'redis', REDIS_URL: server.url, KURA_REDIS_TIMEOUT_MS: '500', KURA_PASSWORD_HASH_COST: '12', KURA_LOG_LEVEL: 'warn' },
    fail: () => process.kill(server.pid, 'SIGSTOP'),
    heal: () => process.kill(server.pid, 'SIGCONT'),
    close: async () => {
      process.kill(server.pid, 'SIGCONT');
      await server.stop();
    },
  };
}

/** An object by its name; a generated ConfigMap by the name it was given, before kustomize's hash of its data. */
const named = (object: K8sObject, name: string) => object.metadata.name === name || (object.kind === 'ConfigMap' && object.metadata.name.replace(/-[a-z0-9]{10}$/, '') === name);

describeIfKubectl.each(['aws', 'local', 'redis'])('the %s overlay', (overlay) => {
  let objects: K8sObject[];
  const find = (kind: string, name = 'kura') => objects.find((o) => o.kind === kind && named(o, name))!;
  beforeAll(() => {
    objects = render(overlay);
  });

  it('renders objects that all validate against the Kubernetes schemas', () => {
    expect(objects.length).toBeGreaterThanOrEqual(7);
    for (const object of objects) {
      const Model = MODELS[`${object.apiVersion}/${object.kind}`];
      expect(Model).toBeDefined();
      expect(() => new Model!(object).validate()).not.toThrow();
    }
  });

  // A plain ConfigMap left running pods on the values they started with, and gave the HPA's new pods the changed
  // ones (an outside review, 2026-12-06): its name now carries a hash of its data, so a change rolls the pods.
  it("names Kura's settings by a hash of them in the pods' envFrom, so changing one rolls the pods", () => {
    const settings = find('ConfigMap');
    expect(settings.metadata.name).toMatch(/^kura-[a-z0-9]{10}$/);
    expect(find('Deployment').spec.template.spec.containers[0].envFrom).toContainEqual({ configMapRef: { name: settings.metadata.name } });
  });

  it('mounts the Kubernetes API token into Kura\'s pods only where AWS needs it (IRSA, Pod Identity)', () => {
    expect(find('Deployment').spec.template.spec.automountServiceAccountToken).toBe(overlay === 'aws');
    expect(find('ServiceAccount').automountServiceAccountToken).toBe(false);
  });

  it('selects the pods it means to: Deployment, Service and PodDisruptionBudget selectors match the pod labels', () => {
    const workloads = objects.filter((o) => o.spec?.template?.metadata?.labels);
    for (const workload of workloads) {
      expect(workload.spec.template.metadata.labels).toMatchObject(workload.spec.selector.matchLabels);
    }
    // Every Service reaches the pods of exactly one workload, on a port those pods name.
    for (const service of objects.filter((o) => o.kind === 'Service')) {
      const selected = workloads.filter((w) => Object.entries(service.spec.selector).every(([k, v]) => w.spec.template.metadata.labels[k] === v));
      expect([service.metadata.name, selected.length]).toEqual([service.metadata.name, 1]);
      const named = selected[0]!.spec.template.spec.containers.flatMap((c: { ports?: { name: string }[] }) => c.ports?.map((p) => p.name) ?? []);
      for (const port of service.spec.ports) expect(named).toContain(port.targetPort);
    }
    const podLabels = find('Deployment').spec.template.metadata.labels;
    expect(podLabels).toMatchObject(find('Service').spec.selector);
    expect(podLabels).toMatchObject(find('PodDisruptionBudget').spec.selector.matchLabels);
    expect(find('HorizontalPodAutoscaler').spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'kura' });
    expect(find('Ingress').spec.rules[0].http.paths[0].backend.service.name).toBe('kura');
  });

  it('runs at least three replicas, spread, non-root, read-only, with every capability dropped', () => {
    const { spec } = find('Deployment');
    // The HPA holds the count (the Deployment names none: see the next test).
    expect(spec.replicas ?? find('HorizontalPodAutoscaler').spec.minReplicas).toBeGreaterThanOrEqual(3);
    expect(find('HorizontalPodAutoscaler').spec.minReplicas).toBeGreaterThanOrEqual(3);
    expect(spec.template.spec.topologySpreadConstraints.length).toBeGreaterThan(0);
    expect(spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(spec.template.spec.containers[0].securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
  });

  it('leaves the replica count to the HPA, so applying the overlay again never scales an autoscaled Deployment back', () => {
    // Kubernetes' HPA page: with an HPA, remove spec.replicas from the manifest, or every `kubectl apply` (how the
    // docs roll out each new image) sets the count back to it; from 12 replicas under load, 9 would go at once,
    // deleted by their ReplicaSet, which no PodDisruptionBudget stops.
    const autoscaled = objects
      .filter((o) => o.kind === 'HorizontalPodAutoscaler')
      .map((hpa) => find(hpa.spec.scaleTargetRef.kind, hpa.spec.scaleTargetRef.name));
    expect(autoscaled.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Deployment/kura']);
    for (const target of autoscaled) expect([target.metadata.name, target.spec.replicas]).toEqual([target.metadata.name, undefined]);
  });

  it('has no session affinity anywhere: not on the Service, not on the Ingress', () => {
    const text = JSON.stringify(objects);
    expect(find('Service').spec.sessionAffinity ?? 'None').toBe('None');
    // ingress-nginx's cookie affinity, an ALB's target-group stickiness, or anything else called sticky.
    expect(text).not.toMatch(/ClientIP|ingress\.kubernetes\.io\/(affinity|session-cookie)|sticky|stickiness/i);
  });

  it('never trusts every proxy hop: KURA_TRUST_PROXY is a valid setting other than true, wherever it is set', () => {
    const containers = objects.flatMap((o) => o.spec?.template?.spec?.containers ?? []);
    const values = [
      find('ConfigMap').data.KURA_TRUST_PROXY,
      ...containers.flatMap((c: { env?: { name: string; value?: string }[] }) => c.env ?? []).filter((e) => e.name === 'KURA_TRUST_PROXY').map((e) => e.value),
    ];

    expect(values[0]).toBeDefined();
    for (const value of values) {
      expect(String(value).trim().toLowerCase()).not.toBe('true');
      expect(loadConfig({ KURA_TRUST_PROXY: value }).http.trustProxy).not.toBe(true);
    }
  });

  it('gives a replica time to drain and close within its grace period', () => {
    const { data } = find('ConfigMap');
    const needed = Number(data.KURA_SHUTDOWN_DRAIN_SECONDS) + Number(data.KURA_SHUTDOWN_TIMEOUT_SECONDS);
    expect(find('Deployment').spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(needed);
  });

  it('creates the namespace it deploys into, before anything in it, and enforces Pod Security "restricted" there', () => {
    const [first] = objects;
    expect(first).toMatchObject({ apiVersion: 'v1', kind: 'Namespace' });
    const namespace = first!.metadata.name;
    expect(namespace).toBe(kustomization(overlay).namespace);
    for (const object of objects.slice(1)) expect(`${object.kind}/${object.metadata.name} in ${object.metadata.namespace}`).toBe(`${object.kind}/${object.metadata.name} in ${namespace}`);
    expect(first!.metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
    });
  });

  it('lets only the ingress controller reach Kura, Prometheus its metrics, and only Kura its store (NetworkPolicy)', () => {
    const namespace = kustomization(overlay).namespace as string;
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy') as unknown as NetworkPolicy[];
    const pods = new Map<string, Pod>(
      objects
        .filter((o) => o.spec?.template?.spec?.containers)
        .map((o) => [o.metadata.name, { namespace, labels: o.spec.template.metadata.labels, ports: o.spec.template.spec.containers.flatMap((c: { ports?: Pod['ports'] }) => c.ports ?? []) }]),
    );
    const kura = pods.get('kura')!;
    const stores = [...pods.entries()].filter(([name]) => name !== 'kura');
    const port = (pod: Pod, name: string) => pod.ports!.find((p) => p.name === name)!.containerPort;
    const namespaces = new Map([namespace, 'ingress-nginx', 'kube-system', 'monitoring', 'default'].map((name) => [name, namespaceLabels(name)]));
    const from = (namespace: string, labels: Record<string, string>): Source => ({ pod: { namespace, labels } });
    // The controllers and Prometheus as their charts and k3s label them; then pods that must be kept out.
    const controllers: [string, Source][] = [
      ['ingress-nginx', from('ingress-nginx', { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller', 'app.kubernetes.io/instance': 'ingress-nginx' })],
      ['Traefik (k3s)', from('kube-system', { 'app.kubernetes.io/name': 'traefik', 'app.kubernetes.io/instance': 'traefik-kube-system' })],
    ];
    const prometheus = from('monitoring', { 'app.kubernetes.io/name': 'prometheus', prometheus: 'k8s' });
    const strangers: [string, Source][] = [
      ['a pod in default', from('default', { app: 'shell' })],
      ['a pod in default labelled as ingress-nginx', from('default', { 'app.kubernetes.io/name': 'ingress-nginx' })],
      ["ingress-nginx's admission job", from('ingress-nginx', { 'app.kubernetes.io/name': 'ingress-nginx-admission' })],
      ["a pod in Kura's namespace", from(namespace, { run: 'debug' })],
      ['a pod in monitoring labelled as Traefik', from('monitoring', { 'app.kubernetes.io/name': 'traefik' })],
      ...stores.map(([name, pod]): [string, Source] => [name, { pod }]),
      ['an address on the internet', { address: '203.0.113.9' }],
    ];
    const may = (source: Source, target: Pod, portName: string) => allowed(policies, { source, target, port: port(target, portName), namespaces });

    // Every pod the overlay runs is isolated, and every port a policy names is one its pods have.
    for (const [name, pod] of pods) expect([name, isolating(policies, pod).length > 0]).toEqual([name, true]);
    for (const policy of policies) {
      const selected = [...pods.values()].filter((pod) => isolating([policy], pod).length);
      expect([policy.metadata.name, selected.length > 0]).toEqual([policy.metadata.name, true]);
      for (const rule of policy.spec.ingress ?? []) for (const { port: p } of rule.ports ?? []) if (typeof p === 'string') for (const pod of selected) expect(pod.ports!.map((c) => c.name)).toContain(p);
    }
    const verdicts: Record<string, boolean> = {};
    for (const [name, source] of controllers) {
      verdicts[`${name} → kura:http`] = may(source, kura, 'http');
      verdicts[`${name} → kura:metrics`] = may(source, kura, 'metrics');
    }
    verdicts['Prometheus → kura:metrics'] = may(prometheus, kura, 'metrics');
    verdicts['Prometheus → kura:http'] = may(prometheus, kura, 'http');
    for (const [name, source] of strangers) {
      verdicts[`${name} → kura:http`] = may(source, kura, 'http');
      verdicts[`${name} → kura:metrics`] = may(source, kura, 'metrics');
    }
    for (const [store, pod] of stores) {
      const storePort = pod.ports![0]!.name!;
      verdicts[`kura → ${store}`] = may({ pod: kura }, pod, storePort);
      for (const [name, source] of [...controllers, ['Prometheus', prometheus] as [string, Source], ...strangers]) if (name !== store) verdicts[`${name} → ${store}`] = may(source, pod, storePort);
    }
    if (overlay === 'aws') {
      verdicts['the ALB (an address in its subnets) → kura:http'] = may({ address: '10.0.17.4' }, kura, 'http');
      verdicts['the ALB (an address in its subnets) → kura:metrics'] = may({ address: '10.0.17.4' }, kura, 'metrics');
    }
    const expected = Object.fromEntries(
      Object.keys(verdicts).map((flow) => [flow, /^(ingress-nginx|Traefik \(k3s\)|the ALB.*) → kura:http$|^Prometheus → kura:metrics$|^kura → /.test(flow)]),
    );
    expect(verdicts).toEqual(expected);
    expect(Object.keys(verdicts).length).toBeGreaterThanOrEqual(20);
  });

  it('runs only pods that the Pod Security "restricted" profile admits', () => {
    const pods = podSpecs(objects);
    expect(pods.length).toBeGreaterThan(0);
    for (const [name, pod] of pods) expect([name, restrictedViolations(pod)]).toEqual([name, []]);
  });

  it('names its Ingress host and class in the overlay itself (the base leaves them unset)', () => {
    const ingress = find('Ingress');
    const patched = JSON.stringify(kustomization(overlay).patches ?? []);
    expect(ingress.spec.rules[0].host).toEqual(expect.any(String));
    expect(patched).toContain(ingress.spec.rules[0].host);
    if (ingress.spec.ingressClassName) expect(patched).toContain(ingress.spec.ingressClassName);
  });

  // On the store the overlay's Kura uses: DynamoDB (Local) behind a fault proxy, or a real redis-server.
  (overlay === 'redis' && redisServerMissing() ? describe.skip : describe)('probes', () => {
    let app: NestFastifyApplication;
    let store: FailingStore;
    let http: HttpClient;
    let paths: string[];
    const container = () => find('Deployment').spec.template.spec.containers[0];
    beforeAll(async () => {
      store = overlay === 'redis' ? await failingRedis() : await failingDynamoDb();
      let baseUrl: string;
      ({ app, baseUrl } = await startKuraInProcess(store.env));
      http = new HttpClient(baseUrl);
      paths = Object.keys((await http.get('/docs/openapi.json')).body.paths);
    });
    afterAll(async () => {
      await app?.close();
      await store?.close();
    });

    it('probe paths that the app serves', () => {
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        expect(paths).toContain(container()[probe].httpGet.path);
      }
      expect(container().readinessProbe.httpGet.path).toBe('/health/ready');
      expect(container().livenessProbe.httpGet.path).toBe('/health/live');
    });

    // The Ingress sent every path to Kura, /health/store (a store call for anyone who asks) and every error
    // detail of the health checks included (an outside security review, 2026-12-06).
    it('routes every path of the API and its explorer through the Ingress, and no health check', () => {
      const prefixes = find('Ingress').spec.rules[0].http.paths.map((path: { path: string; pathType: string }) => {
        expect(path.pathType).toBe('Prefix');
        return path.path;
      });
      const routed = (path: string) => prefixes.some((prefix: string) => path === prefix || path.startsWith(`${prefix}/`));
      for (const path of [...paths, '/docs', '/docs/openapi.json']) expect([path, routed(path)]).toEqual([path, !path.startsWith('/health/')]);
    });

    it('keeps every probe off the shared store, and lets readiness ride out a slow answer or two', () => {
      // /health/store reports the store, for dashboards; a probe on it would take every replica out together.
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        expect(container()[probe].httpGet.path).not.toBe('/health/store');
      }
      const { failureThreshold, periodSeconds } = container().readinessProbe;
      expect(failureThreshold).toBeGreaterThanOrEqual(3);
      expect(failureThreshold * periodSeconds).toBeGreaterThanOrEqual(15);
    });

    it('answers every probe with 200 while the store fails, once the replica has started: the Service keeps its endpoints', async () => {
      await http.signUpAndLogIn(uniqueEmail('probes'));
      expect((await http.get(container().readinessProbe.httpGet.path)).status).toBe(200);
      store.fail();
      try {
        for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
          expect([probe, (await http.get(container()[probe].httpGet.path)).status]).toEqual([probe, 200]);
        }
        expect((await http.get('/health/store')).status).toBe(503);
        // What a client sent to this replica gets instead of no endpoint at all: an answer it can act on.
        const me = await http.get('/auth/me');
        expect(me.status).toBe(503);
        expect(Number(me.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      } finally {
        store.heal();
      }
      expect((await http.get('/health/store')).status).toBe(200);
    });
  });
});

/** The NetworkPolicy reading the overlays are checked with (support/network-policy.ts), on the Kubernetes documentation's examples. */
describe('reading NetworkPolicies as Kubernetes documents them', () => {
  const namespaces = new Map([
    ['default', namespaceLabels('default')],
    ['myproject', namespaceLabels('myproject', { project: 'myproject' })],
    ['other', namespaceLabels('other')],
  ]);
  const pod = (namespace: string, labels: Record<string, string>): Pod => ({ namespace, labels, ports: [{ name: 'redis', containerPort: 6379 }] });
  const db = pod('default', { role: 'db' });
  // The page's test-network-policy (its ingress part).
  const example: NetworkPolicy = {
    metadata: { name: 'test-network-policy', namespace: 'default' },
    spec: {
      podSelector: { matchLabels: { role: 'db' } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [{ ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } }, { namespaceSelector: { matchLabels: { project: 'myproject' } } }, { podSelector: { matchLabels: { role: 'frontend' } } }],
          ports: [{ protocol: 'TCP', port: 6379 }],
        },
      ],
    },
  };
  const may = (policies: NetworkPolicy[], source: Source, target = db, port = 6379, protocol = 'TCP') => allowed(policies, { source, target, port, protocol, namespaces });

  it('allows what a rule lists, on its ports only, and leaves the pods it does not select open', () => {
    expect(may([example], { pod: pod('default', { role: 'frontend' }) })).toBe(true);
    expect(may([example], { pod: pod('default', { role: 'frontend' }) }, db, 80)).toBe(false);
    expect(may([example], { pod: pod('default', { role: 'frontend' }) }, db, 6379, 'UDP')).toBe(false);
    expect(may([example], { pod: pod('myproject', { any: 'pod' }) })).toBe(true);
    expect(may([example], { pod: pod('other', { role: 'frontend' }) })).toBe(false); // a podSelector alone: the policy's namespace
    expect(may([example], { pod: pod('default', { role: 'backend' }) })).toBe(false);
    expect(may([example], { address: '172.17.2.3' })).toBe(true);
    expect(may([example], { address: '172.17.1.5' })).toBe(false); // in except
    expect(may([example], { address: '10.1.2.3' })).toBe(false);
    expect(may([example], { pod: pod('other', {}) }, pod('default', { role: 'web' }), 80)).toBe(true); // not selected: not isolated
  });

  it('reads a namespaceSelector and a podSelector in one peer as both, in two peers as either', () => {
    const policy = (from: NetworkPolicy['spec']['ingress']): NetworkPolicy => ({ metadata: { name: 'p', namespace: 'default' }, spec: { podSelector: { matchLabels: { role: 'db' } }, ingress: from } });
    const both = policy([{ from: [{ namespaceSelector: { matchLabels: { project: 'myproject' } }, podSelector: { matchLabels: { role: 'client' } } }] }]);
    const either = policy([{ from: [{ namespaceSelector: { matchLabels: { project: 'myproject' } } }, { podSelector: { matchLabels: { role: 'client' } } }] }]);
    expect(may([both], { pod: pod('myproject', { role: 'client' }) })).toBe(true);
    expect(may([both], { pod: pod('myproject', { role: 'other' }) })).toBe(false);
    expect(may([both], { pod: pod('default', { role: 'client' }) })).toBe(false);
    expect(may([either], { pod: pod('myproject', { role: 'other' }) })).toBe(true);
    expect(may([either], { pod: pod('default', { role: 'client' }) })).toBe(true);
    expect(may([either], { pod: pod('other', { role: 'client' }) })).toBe(false);
  });

  it('denies all with an empty ingress list, allows all with an empty rule, and adds policies together', () => {
    const denyAll: NetworkPolicy = { metadata: { name: 'deny', namespace: 'default' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } };
    const allowAll: NetworkPolicy = { metadata: { name: 'all', namespace: 'default' }, spec: { podSelector: {}, ingress: [{}] } };
    const egressOnly: NetworkPolicy = { metadata: { name: 'egress', namespace: 'default' }, spec: { podSelector: {}, policyTypes: ['Egress'], egress: [] } };
    const source: Source = { pod: pod('other', {}) };
    expect(may([denyAll], source)).toBe(false);
    expect(may([allowAll], source)).toBe(true);
    expect(may([denyAll, allowAll], source)).toBe(true);
    expect(may([egressOnly], source)).toBe(true);
    expect(may([denyAll], source, pod('other', {}))).toBe(true); // another namespace's policy
  });

  it('resolves a named port on the destination pod, and matches nothing where the pod has no such name', () => {
    const named: NetworkPolicy = { metadata: { name: 'n', namespace: 'default' }, spec: { podSelector: {}, ingress: [{ ports: [{ port: 'redis' }] }] } };
    const source: Source = { pod: pod('other', {}) };
    expect(may([named], source)).toBe(true);
    expect(may([named], source, db, 6380)).toBe(false);
    expect(may([named], source, { namespace: 'default', labels: {}, ports: [{ name: 'http', containerPort: 6379 }] })).toBe(false);
  });

  it('matches selector expressions as the API does', () => {
    const expression = (operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist', values?: string[]): NetworkPolicy => ({
      metadata: { name: 'e', namespace: 'default' },
      spec: { podSelector: { matchLabels: { role: 'db' } }, ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'tier', operator, values }] } }] }] },
    });
    const tier = (value?: string): Source => ({ pod: pod('default', value === undefined ? {} : { tier: value }) });
    expect([may([expression('In', ['a', 'b'])], tier('a')), may([expression('In', ['a', 'b'])], tier('c')), may([expression('In', ['a'])], tier())]).toEqual([true, false, false]);
    expect([may([expression('NotIn', ['a'])], tier('a')), may([expression('NotIn', ['a'])], tier('c')), may([expression('NotIn', ['a'])], tier())]).toEqual([false, true, true]);
    expect([may([expression('Exists')], tier('x')), may([expression('Exists')], tier())]).toEqual([true, false]);
    expect([may([expression('DoesNotExist')], tier('x')), may([expression('DoesNotExist')], tier())]).toEqual([false, true]);
  });
});

describeIfKubectl('the base', () => {
  it('leaves the Ingress host, class and TLS to the overlays', () => {
    const ingress = renderDir('infra/k8s/base').find((o) => o.kind === 'Ingress')!;
    expect(ingress.spec.ingressClassName).toBeUndefined();
    expect(ingress.spec.tls).toBeUndefined();
    for (const rule of ingress.spec.rules) expect(rule.host).toBeUndefined();
  });

  it('is checked by a Pod Security checker that does refuse what "restricted" refuses', () => {
    const compliant = renderDir('infra/k8s/base').find((o) => o.kind === 'Deployment')!.spec.template.spec as PodSpec;
    const [container] = compliant.containers;
    expect(restrictedViolations(compliant)).toEqual([]);
    expect(restrictedViolations({ ...compliant, securityContext: { ...compliant.securityContext, runAsNonRoot: undefined } })).not.toEqual([]);
    expect(restrictedViolations({ ...compliant, securityContext: { ...compliant.securityContext, seccompProfile: undefined } })).not.toEqual([]);
    expect(restrictedViolations({ ...compliant, volumes: [{ name: 'h', hostPath: { path: '/' } }] })).not.toEqual([]);
    expect(restrictedViolations({ ...compliant, containers: [{ ...container!, securityContext: { ...container!.securityContext, allowPrivilegeEscalation: undefined } }] })).not.toEqual([]);
    expect(restrictedViolations({ ...compliant, containers: [{ ...container!, securityContext: { ...container!.securityContext, capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] } } }] })).not.toEqual([]);
  });
});

describeIfKubectl('the aws overlay specifically', () => {
  const objects = () => render('aws');
  const ingress = () => objects().find((o) => o.kind === 'Ingress')!;

  it('pins every image to a version (no latest) and names the IAM role for the service account', () => {
    const rendered = objects();
    const images = rendered.flatMap((o) => o.spec?.template?.spec?.containers?.map((c: { image: string }) => c.image) ?? []);
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) expect(image).toMatch(/:(?!latest$)[\w.-]+$/);
    const account = rendered.find((o) => o.kind === 'ServiceAccount')!;
    expect(account.metadata.annotations?.['eks.amazonaws.com/role-arn']).toMatch(/^arn:aws:iam::\d{12}:role\//);
    expect(rendered.find((o) => o.kind === 'ConfigMap')!.data).toMatchObject({ KURA_STORE: 'dynamodb', AWS_REGION: expect.any(String) });
    expect(rendered.find((o) => o.kind === 'ConfigMap')!.data.DYNAMODB_ENDPOINT).toBeUndefined();
  });

  it('takes its image from the images: entry of its kustomization.yaml, which kubectl alone applies', () => {
    const [entry] = kustomization('aws').images;
    const baseImage = renderDir('infra/k8s/base').find((o) => o.kind === 'Deployment')!.spec.template.spec.containers[0].image;
    expect(entry.name).toBe(baseImage.split(':')[0]);
    const [container] = objects().find((o) => o.kind === 'Deployment')!.spec.template.spec.containers;
    expect(container.image).toBe(`${entry.newName}:${entry.newTag}`);
  });

  it('serves a placeholder host through a named ingress class, over TLS only', () => {
    const { metadata, spec } = ingress();
    expect(spec.ingressClassName).toBe('alb');
    expect(spec.rules.map((rule: { host: string }) => rule.host)).toEqual(['kura.example.com']);
    // Every host the Ingress serves has a certificate: ACM's for that host on an ALB, the secret elsewhere.
    const covered = spec.tls.flatMap((tls: { hosts: string[] }) => tls.hosts);
    for (const rule of spec.rules) expect(covered).toContain(rule.host);
    expect(spec.tls[0].secretName).toEqual(expect.any(String));
    // HTTPS listener, plain HTTP only redirected, targets the pods themselves (the Service is ClusterIP).
    expect(JSON.parse(metadata.annotations!['alb.ingress.kubernetes.io/listen-ports']!)).toContainEqual({ HTTPS: 443 });
    expect(metadata.annotations).toMatchObject({
      'alb.ingress.kubernetes.io/ssl-redirect': '443',
      'alb.ingress.kubernetes.io/target-type': 'ip',
      'alb.ingress.kubernetes.io/scheme': 'internet-facing',
    });
    // The ALB's own health check is a second readiness check: the same path, so it too ignores store outages.
    const [container] = objects().find((o) => o.kind === 'Deployment')!.spec.template.spec.containers;
    expect(metadata.annotations!['alb.ingress.kubernetes.io/healthcheck-path']).toBe(container.readinessProbe.httpGet.path);
  });

  it('leaves the TLS certificate to the user, and says how: cert-manager, a secret of your own, or ACM', () => {
    const text = readFileSync('infra/k8s/overlays/aws/kustomization.yaml', 'utf8');
    expect(text).toMatch(/cert-manager\.io\/cluster-issuer/);
    expect(text).toMatch(/kubectl -n kura create secret tls/);
    expect(text).toMatch(/ACM/);
  });

  it('does not serve the explorer UI, while the OpenAPI document stays at /docs/openapi.json', async () => {
    const { data } = objects().find((o) => o.kind === 'ConfigMap')!;
    expect(data.KURA_DOCS_UI).toBe('false');
    const { app, baseUrl } = await startKuraInProcess({ ...data, KURA_STORE: 'memory', KURA_LOG_LEVEL: 'warn' });
    try {
      const http = new HttpClient(baseUrl);
      expect((await http.get('/docs')).status).toBe(404);
      expect((await http.get('/docs/openapi.json')).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describeIfKubectl('the local overlay specifically', () => {
  const objects = () => render('local');

  it('keeps the production cookie (Secure, __Host-) and offers only addresses where browsers accept it', () => {
    const rendered = objects();
    const { data } = rendered.find((o) => o.kind === 'ConfigMap' && named(o, 'kura'))!;
    expect(data.KURA_COOKIE_SECURE ?? 'true').toBe('true');
    const ingress = rendered.find((o) => o.kind === 'Ingress')!;
    // The cluster's default class (k3d: Traefik; minikube's ingress addon: nginx), and a *.localhost name:
    // browsers treat it as loopback, a secure context even over plain http.
    expect(ingress.spec.ingressClassName).toBeUndefined();
    for (const rule of ingress.spec.rules) expect(rule.host).toMatch(/^[a-z0-9-]+\.localhost$/);
    expect(kubernetesSection()).toMatch(/port-forward svc\/kura 3000:80 +# then http:\/\/127\.0\.0\.1:3000\//);
  });

  (chromiumAvailable() ? it : it.skip)('holds the Secure __Host- cookie in Chromium at the local Ingress host over plain http', async () => {
    const host = objects().find((o) => o.kind === 'Ingress')!.spec.rules[0].host as string;
    const { app, baseUrl } = await startKuraInProcess({ KURA_STORE: 'memory', KURA_LOG_LEVEL: 'warn', KURA_PASSWORD_HASH_COST: '12' });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      const origin = baseUrl.replace('127.0.0.1', host);
      await page.goto(`${origin}/docs/openapi.json`);
      const email = uniqueEmail('local');
      const statuses = await page.evaluate(async (email) => {
        const post = (path: string, body: unknown) =>
          fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.status);
        const registered = await post('/auth/register', { email, password: 'correct horse battery' });
        const login = await post('/auth/login', { email, password: 'correct horse battery' });
        const me = await fetch('/auth/me').then((r) => r.status);
        return [registered, login, me];
      }, email);
      expect(statuses).toEqual([201, 200, 200]);
      expect(await page.context().cookies(origin)).toEqual([expect.objectContaining({ name: '__Host-kura_session', secure: true })]);
    } finally {
      await browser.close();
      await app.close();
    }
  });
});

describe('the Kubernetes page (docs/kubernetes.md)', () => {
  it('needs no tool but kubectl to render and apply the manifests: no standalone kustomize', () => {
    const section = kubernetesSection();
    expect(section).not.toMatch(/(?<!kubectl )\bkustomize (edit|build)\b/);
    expect(section).toMatch(/kubectl apply -k infra\/k8s\/overlays\/aws/);
    // The image is set by editing the overlay's images: entry (what `kustomize edit set image` would have written).
    expect(section).toMatch(/`images:`/);
  });

  it('says that everything to change is in the overlay: image, host, ingress class and TLS', () => {
    const section = kubernetesSection();
    for (const field of ['`images:`', 'host', 'ingressClassName', 'tls']) expect(section).toContain(field);
    expect(section).toMatch(/infra\/k8s\/overlays\/aws\/kustomization\.yaml/);
  });

  it('says what readiness means and why a store outage does not take replicas out of the Service', () => {
    const section = kubernetesSection();
    expect(section).toMatch(/\*\*Readiness\*\*/);
    expect(section).toContain('/health/store');
    expect(section).toMatch(/Retry-After/);
  });

  it('describes the three overlays right after announcing them', () => {
    const section = kubernetesSection();
    const [, after] = section.split(/with three overlays[^\n]*:\s*\n/);
    expect(after).toBeDefined();
    const next = after!.trimStart().split('\n\n')[0]!;
    expect(next).toMatch(/`local`/);
    expect(next).toMatch(/`aws`/);
    expect(next).toMatch(/`redis`/);
  });

  it('applies the redis overlay as it applies the local one, and sends Redis users to docs/redis.md', () => {
    const section = kubernetesSection();
    expect(section).toMatch(/kubectl apply -k infra\/k8s\/overlays\/redis/);
    expect(section).toMatch(/port-forward svc\/kura 3000:80/);
    expect(section).toContain('(redis.md)');
  });
});

describeIfKubectl('the redis overlay specifically', () => {
  let objects: K8sObject[];
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && named(o, name))!;
  const redisSet = () => find('StatefulSet', 'redis');
  const redisContainer = () => redisSet().spec.template.spec.containers[0];
  /** redis.conf as rendered into the generated ConfigMap the Redis pod mounts. */
  const redisConf = (): string => {
    const volume = redisSet().spec.template.spec.volumes.find((v: { configMap?: unknown }) => v.configMap);
    return find('ConfigMap', volume.configMap.name).data['redis.conf'];
  };
  const directive = (name: string) => redisConf().match(new RegExp(`^${name} +(.+)$`, 'm'))?.[1];
  beforeAll(() => {
    objects = render('redis');
  });

  it('runs Kura on Redis, at the address of the Service in front of the Redis pod', () => {
    const { data } = find('ConfigMap', 'kura');
    expect(data.KURA_STORE).toBe('redis');
    const url = new URL(data.REDIS_URL);
    expect(url.protocol).toBe('redis:');
    const service = find('Service', url.hostname);
    expect(service.spec.type ?? 'ClusterIP').toBe('ClusterIP');
    expect(service.spec.ports.map((p: { port: number }) => p.port)).toContain(Number(url.port || 6379));
    expect(redisSet().spec.template.metadata.labels).toMatchObject(service.spec.selector);
    expect(redisContainer().ports).toContainEqual(expect.objectContaining({ name: 'redis', containerPort: 6379 }));
    // No DynamoDB settings left over, and no AWS identity: the IRSA annotation and the token are gone.
    for (const name of ['DYNAMODB_ENDPOINT', 'KURA_SESSIONS_TABLE', 'KURA_USERS_TABLE']) expect(data[name]).toBeUndefined();
    expect(find('ServiceAccount', 'kura').metadata.annotations).toBeUndefined();
    expect(find('Deployment', 'kura').spec.template.spec.automountServiceAccountToken).toBe(false);
    // A single Redis has no replica to wait for.
    expect(data.KURA_REDIS_WAIT_REPLICAS ?? '0').toBe('0');
  });

  it('keeps Redis data on a PersistentVolume, in an append-only file, and never evicts an account', () => {
    const { spec } = redisSet();
    expect(spec.replicas).toBe(1);
    // Accounts outlive the StatefulSet: deleting it, or scaling it to 0, keeps the volume.
    expect(spec.persistentVolumeClaimRetentionPolicy ?? {}).not.toMatchObject({ whenDeleted: 'Delete' });
    expect(spec.persistentVolumeClaimRetentionPolicy ?? {}).not.toMatchObject({ whenScaled: 'Delete' });
    const [claim] = spec.volumeClaimTemplates;
    expect(claim.spec.accessModes).toEqual(['ReadWriteOnce']);
    expect(claim.spec.resources.requests.storage).toEqual(expect.any(String));
    const mount = redisContainer().volumeMounts.find((m: { name: string }) => m.name === claim.metadata.name);
    expect(mount.mountPath).toBe(directive('dir'));
    expect(directive('appendonly')).toBe('yes');
    expect(directive('appendfsync')).toMatch(/^(everysec|always)$/);
    // Kura refuses to become ready on an allkeys-* policy (it could evict accounts, keys without expiry).
    expect(directive('maxmemory-policy')).toMatch(/^(noeviction|volatile-[a-z]+)$/);
    expect(spec.serviceName).toBe(find('Service', spec.serviceName).metadata.name);
    expect(find('Service', spec.serviceName).spec.clusterIP).toBe('None');
  });

  it('bounds Redis: a memory limit above maxmemory, so the server refuses writes before the kernel kills it', () => {
    const { resources } = redisContainer();
    expect(resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    const mebibytes = (quantity: string) => Number(quantity.replace(/Mi$/, '')) * 2 ** 20;
    const maxmemory = Number(directive('maxmemory')!.replace(/mb$/i, '')) * 2 ** 20;
    expect(maxmemory).toBeGreaterThan(0);
    // Room for the copy-on-write of the fork that rewrites the append-only file.
    expect(mebibytes(resources.limits.memory)).toBeGreaterThanOrEqual(1.5 * maxmemory);
  });

  it('runs Redis non-root with a read-only root filesystem, no service account token and no service links', () => {
    const pod = redisSet().spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: expect.any(Number), fsGroup: expect.any(Number) });
    expect(pod.securityContext.runAsUser).not.toBe(0);
    expect(redisContainer().securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.enableServiceLinks).toBe(false);
  });

  it('pins the Redis image to a version (no latest)', () => {
    expect(redisContainer().image).toMatch(/^[\w./-]+:(?!latest$)\d[\w.-]*$/);
  });

  it("loads, as Kura's pods see it: the ConfigMap plus the variables Kubernetes adds for every Service", () => {
    // Service links: each pod gets <NAME>_SERVICE_HOST, <NAME>_PORT, ... for every Service in its namespace, so a
    // Service named kura-redis would add KURA_REDIS_* variables of its own beside Kura's settings.
    const links: Record<string, string> = {};
    for (const [index, service] of objects.filter((o) => o.kind === 'Service').entries()) {
      const name = service.metadata.name.toUpperCase().replace(/-/g, '_');
      expect(name).not.toMatch(/^KURA_REDIS/);
      const ip = `10.96.0.${index + 10}`;
      const [first] = service.spec.ports;
      Object.assign(links, { [`${name}_SERVICE_HOST`]: ip, [`${name}_SERVICE_PORT`]: String(first.port), [`${name}_PORT`]: `tcp://${ip}:${first.port}` });
      for (const port of service.spec.ports) {
        const prefix = `${name}_PORT_${port.port}_TCP`;
        Object.assign(links, { [`${name}_SERVICE_PORT_${port.name.toUpperCase()}`]: String(port.port), [prefix]: `tcp://${ip}:${port.port}` });
        Object.assign(links, { [`${prefix}_PROTO`]: 'tcp', [`${prefix}_PORT`]: String(port.port), [`${prefix}_ADDR`]: ip });
      }
    }
    const { data } = find('ConfigMap', 'kura');
    const { store } = loadConfig({ ...links, ...data });
    expect(store.kind).toBe('redis');
    expect(store.redis).toMatchObject({ url: data.REDIS_URL, keyPrefix: 'kura:' });
  });

  (redisServerMissing() ? describe.skip : describe)('on a real redis-server', () => {
    let dir: string;
    let port: number;
    let server: ChildProcess;
    const cli = (...args: string[]) => execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).trim();
    /** A probe's command, run here against the test server instead of the pod's 127.0.0.1:6379. */
    const probe = (name: string, at = port) => {
      const { exec, timeoutSeconds } = redisContainer()[name];
      const [command, ...args] = exec.command as string[];
      return spawnSync(command!, args.map((arg) => arg.replace(/\b6379\b/g, String(at))), { timeout: timeoutSeconds * 1000 }).status;
    };
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'kura-redis-overlay-'));
      port = await freePort();
      // The rendered redis.conf, as the pod has it, but for its data directory (the pod's volume mount).
      await writeFile(join(dir, 'redis.conf'), redisConf().replace(/^dir .+$/m, `dir ${dir}`));
      server = spawn('redis-server', [join(dir, 'redis.conf'), '--port', String(port), '--bind', '127.0.0.1'], { stdio: 'ignore' });
      for (let tries = 0; probe('readinessProbe') !== 0; tries++) {
        if (tries > 100) throw new Error('redis-server did not start with the overlay redis.conf');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });
    afterAll(async () => {
      if (server?.exitCode === null) {
        const exited = new Promise((resolve) => server.once('exit', resolve));
        server.kill('SIGTERM');
        await exited;
      }
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('starts from the overlay redis.conf with append-only persistence and the policy the file names', () => {
      expect(cli('config', 'get', 'appendonly')).toBe('appendonly\nyes');
      expect(cli('config', 'get', 'maxmemory-policy')).toBe(`maxmemory-policy\n${directive('maxmemory-policy')}`);
      expect(cli('config', 'get', 'maxmemory')).toBe(`maxmemory\n${Number(directive('maxmemory')!.replace(/mb$/i, '')) * 2 ** 20}`);
      expect(cli('set', 'kura:probe', '1')).toBe('OK');
      expect(readdirSync(join(dir, 'appendonlydir')).some((file) => file.endsWith('.incr.aof'))).toBe(true);
    });

    it("serves Kura configured by the overlay's ConfigMap (REDIS_URL pointed here): ready, and a user logs in", async () => {
      const { data } = find('ConfigMap', 'kura');
      const url = new URL(data.REDIS_URL);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      const env = { ...data, REDIS_URL: url.toString(), HOST: '127.0.0.1', KURA_PASSWORD_HASH_COST: '12', KURA_LOG_LEVEL: 'warn' };
      const { app, baseUrl } = await startKuraInProcess(env);
      try {
        const http = new HttpClient(baseUrl);
        expect((await http.get('/health/ready')).status).toBe(200);
        await http.signUpAndLogIn(uniqueEmail('redis-overlay'));
        expect((await http.get('/auth/me')).status).toBe(200);
      } finally {
        await app.close();
      }
    });

    it('has probes that pass while Redis answers and fail when it does not', async () => {
      expect(probe('readinessProbe')).toBe(0);
      expect(probe('livenessProbe')).toBe(0);
      const nobody = await freePort();
      expect(probe('readinessProbe', nobody)).not.toBe(0);
      expect(probe('livenessProbe', nobody)).not.toBe(0);
      process.kill(server.pid!, 'SIGSTOP');
      try {
        // A server that accepts but never answers: the probe's timeoutSeconds fails it, as the kubelet would.
        expect(probe('readinessProbe')).not.toBe(0);
      } finally {
        process.kill(server.pid!, 'SIGCONT');
      }
      expect(probe('readinessProbe')).toBe(0);
    });
  });
});

describeIfKubectl("docs/redis.md's patches for a managed Redis (ElastiCache, MemoryDB) from EKS", () => {
  it('applied to the aws overlay, run Kura on Redis with REDIS_URL from the Secret the page creates', async () => {
    const page = readFileSync('docs/redis.md', 'utf8');
    const patches = /```yaml\n# in the overlay's kustomization\.yaml, patches:\n([\s\S]*?)```/.exec(page)?.[1];
    const secret = /kubectl -n kura create secret generic (\S+) --from-literal=REDIS_URL='([^']+)'/.exec(page);
    expect(patches).toBeDefined();
    expect(secret).not.toBeNull();
    // A copy of the aws overlay, as the page says: kustomize takes only relative paths, so it lives in the tree.
    await mkdir('.scratch', { recursive: true });
    const dir = await mkdtemp('.scratch/redis-overlay-');
    try {
      await writeFile(join(dir, 'kustomization.yaml'), `resources:\n  - ../../infra/k8s/overlays/aws\npatches:\n${patches}`);
      const objects = renderDir(dir);
      const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'kura')!;
      const sources = deployment.spec.template.spec.containers[0].envFrom;
      expect(sources).toContainEqual({ secretRef: { name: secret![1] } });
      const { data } = objects.find((o) => o.kind === 'ConfigMap' && named(o, 'kura'))!;
      const { store } = loadConfig({ ...data, REDIS_URL: secret![2]! });
      expect(store.kind).toBe('redis');
      expect(store.redis?.url).toBe(secret![2]);
      expect(new URL(secret![2]!).protocol).toBe('rediss:');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
