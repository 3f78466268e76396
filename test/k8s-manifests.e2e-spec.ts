import { execFileSync } from 'node:child_process';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Service, ServiceAccount } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../apps/api/src/config/app-config.js';
import { HttpClient } from './support/http-client.js';
import { startKuraInProcess } from './support/kura-app.js';

/**
 * The Kubernetes manifests, rendered offline with kustomize and checked against the Kubernetes schemas and
 * against what schemas cannot say: selectors that select, probes that exist, no session affinity anywhere.
 */
type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; annotations?: Record<string, string> }; spec?: any; data?: any };

const MODELS: Record<string, { new (data: any): { validate(): void } }> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/ServiceAccount': ServiceAccount,
  'networking.k8s.io/v1/Ingress': Ingress,
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

const render = (overlay: string): K8sObject[] =>
  parseAllDocuments(execFileSync('kubectl', ['kustomize', `infra/k8s/overlays/${overlay}`], { encoding: 'utf8' })).map(
    (document) => document.toJS() as K8sObject,
  );

const describeIfKubectl = kubectlAvailable() ? describe : describe.skip;

describeIfKubectl.each(['aws', 'local'])('the %s overlay', (overlay) => {
  let objects: K8sObject[];
  const find = (kind: string, name = 'kura') => objects.find((o) => o.kind === kind && o.metadata.name === name)!;
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

  it('selects the pods it means to: Deployment, Service and PodDisruptionBudget selectors match the pod labels', () => {
    for (const deployment of objects.filter((o) => o.kind === 'Deployment')) {
      expect(deployment.spec.template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
    }
    const podLabels = find('Deployment').spec.template.metadata.labels;
    expect(podLabels).toMatchObject(find('Service').spec.selector);
    expect(podLabels).toMatchObject(find('PodDisruptionBudget').spec.selector.matchLabels);
    expect(find('HorizontalPodAutoscaler').spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'kura' });
    expect(find('Ingress').spec.rules[0].http.paths[0].backend.service.name).toBe('kura');
  });

  it('runs at least three replicas, spread, non-root, read-only, with every capability dropped', () => {
    const { spec } = find('Deployment');
    expect(spec.replicas).toBeGreaterThanOrEqual(3);
    expect(find('HorizontalPodAutoscaler').spec.minReplicas).toBeGreaterThanOrEqual(3);
    expect(spec.template.spec.topologySpreadConstraints.length).toBeGreaterThan(0);
    expect(spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(spec.template.spec.containers[0].securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
  });

  it('has no session affinity anywhere: not on the Service, not on the Ingress', () => {
    const text = JSON.stringify(objects);
    expect(find('Service').spec.sessionAffinity ?? 'None').toBe('None');
    expect(text).not.toMatch(/ClientIP|ingress\.kubernetes\.io\/(affinity|session-cookie)|sticky/i);
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

  describe('probes', () => {
    let app: NestFastifyApplication;
    let paths: string[];
    beforeAll(async () => {
      let baseUrl: string;
      ({ app, baseUrl } = await startKuraInProcess({ KURA_STORE: 'memory', KURA_LOG_LEVEL: 'warn' }));
      paths = Object.keys((await new HttpClient(baseUrl).get('/docs/openapi.json')).body.paths);
    });
    afterAll(() => app.close());

    it('probe paths that the app serves', () => {
      const [container] = find('Deployment').spec.template.spec.containers;
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        expect(paths).toContain(container[probe].httpGet.path);
      }
      expect(container.readinessProbe.httpGet.path).toBe('/health/ready');
      expect(container.livenessProbe.httpGet.path).toBe('/health/live');
    });
  });
});

describeIfKubectl('the aws overlay specifically', () => {
  it('pins every image to a version (no latest) and names the IAM role for the service account', () => {
    const objects = render('aws');
    const images = objects.flatMap((o) => o.spec?.template?.spec?.containers?.map((c: { image: string }) => c.image) ?? []);
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) expect(image).toMatch(/:(?!latest$)[\w.-]+$/);
    const account = objects.find((o) => o.kind === 'ServiceAccount')!;
    expect(account.metadata.annotations?.['eks.amazonaws.com/role-arn']).toMatch(/^arn:aws:iam::\d{12}:role\//);
    expect(objects.find((o) => o.kind === 'ConfigMap')!.data).toMatchObject({ KURA_STORE: 'dynamodb', AWS_REGION: expect.any(String) });
    expect(objects.find((o) => o.kind === 'ConfigMap')!.data.DYNAMODB_ENDPOINT).toBeUndefined();
  });
});
