import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PodMonitor, PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { freshTables, kuraEnv, testEndpoint } from './support/engine.js';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy.js';
import { freePort } from './support/free-port.js';
import { HttpClient, uniqueEmail } from './support/http-client.js';
import { installed } from './support/installed.js';
import { type KuraProcess, startKuraProcess } from './support/kura-process.js';

/**
 * The alerts operators get (infra/k8s/monitoring, docs/operations.md#alerts), checked by Prometheus's own tools
 * rather than ours: the Prometheus Operator objects validate against its CRD schemas and select Kura's pods;
 * `promtool` accepts the rules and passes their unit tests (test/fixtures/alerts, each alert fired and left quiet);
 * and a real Prometheus scraping a real Kura finds every metric the rules name, and fires KuraStoreFailing once
 * Kura's store fails.
 */
const DIR = 'infra/k8s/monitoring';
const ruleObject = parse(readFileSync(`${DIR}/prometheus-rule.yaml`, 'utf8')) as { spec: { groups: { rules: Rule[] }[] } };
const podMonitorObject = parse(readFileSync(`${DIR}/pod-monitor.yaml`, 'utf8'));
interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations: Record<string, string>;
}
const rules = ruleObject.spec.groups.flatMap((group) => group.rules);

/** Prometheus's tools (Debian's `prometheus` package), or why their tests are skipped (never in CI). */
function prometheusMissing(): string | undefined {
  if (installed('promtool') && installed('prometheus')) return undefined;
  const reason = 'promtool and prometheus are not installed (apt-get install prometheus, as .ci/run does)';
  if (process.env.CI) throw new Error(`${reason}: CI needs them`);
  console.warn(`SKIPPING the alert rules' checks by Prometheus: ${reason}`);
  return reason;
}
const missing = prometheusMissing();
const kubectl = installed('kubectl', ['version', '--client']);
if (!kubectl) console.warn('SKIPPING the render of infra/k8s/monitoring: kubectl is not installed');

describe('the monitoring manifests', () => {
  it('validate against the Prometheus Operator CRD schemas', () => {
    expect(() => new PodMonitor(podMonitorObject).validate()).not.toThrow();
    expect(() => new PrometheusRule(ruleObject as never).validate()).not.toThrow();
  });

  it("scrape the Deployment's pods on the port it names metrics", () => {
    const deployment = parse(readFileSync('infra/k8s/base/deployment.yaml', 'utf8'));
    const pod = deployment.spec.template;
    expect(pod.metadata.labels).toMatchObject(podMonitorObject.spec.selector.matchLabels);
    const ports = pod.spec.containers.flatMap((container: { ports?: { name: string }[] }) => container.ports ?? []);
    expect(ports.map((port: { name: string }) => port.name)).toContain(podMonitorObject.spec.podMetricsEndpoints[0].port);
  });

  (kubectl ? it : it.skip)('render with kubectl alone, into the namespace kura', () => {
    const objects = parseAllDocuments(execFileSync('kubectl', ['kustomize', DIR], { encoding: 'utf8' })).map((document) => document.toJS());
    expect(objects.map((object) => [object.kind, object.metadata.namespace])).toEqual([
      ['PodMonitor', 'kura'],
      ['PrometheusRule', 'kura'],
    ]);
  });

  it('give every alert a severity, a summary and a description that points to the runbook', () => {
    for (const rule of rules) {
      expect([rule.alert, rule.labels?.severity]).toEqual([rule.alert, expect.stringMatching(/^(critical|warning)$/)]);
      expect(rule.annotations.summary).toBeTruthy();
      expect(rule.annotations.description).toContain('docs/operations.md#alerts');
    }
    const page = readFileSync('docs/operations.md', 'utf8');
    for (const rule of rules) expect([rule.alert, page.includes(`**${rule.alert}**`)]).toEqual([rule.alert, true]);
  });
});

(missing ? describe.skip : describe)('the alert rules, by promtool', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kura-alerts-'));
    await writeFile(join(dir, 'rules.yaml'), stringify(ruleObject.spec));
    copyFileSync('test/fixtures/alerts/kura-alerts.test.yaml', join(dir, 'kura-alerts.test.yaml'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('are valid rules (promtool check rules)', () => {
    const result = spawnSync('promtool', ['check', 'rules', 'rules.yaml'], { cwd: dir, encoding: 'utf8' });
    expect(result.stdout + result.stderr).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(result.status).toBe(0);
  });

  it('fire when they should and only then (promtool test rules)', () => {
    const result = spawnSync('promtool', ['test', 'rules', 'kura-alerts.test.yaml'], { cwd: dir, encoding: 'utf8' });
    expect(result.stdout + result.stderr).toContain('SUCCESS');
    expect(result.status).toBe(0);
  });

  it('have a unit test for every alert', () => {
    const tests = readFileSync('test/fixtures/alerts/kura-alerts.test.yaml', 'utf8');
    for (const rule of rules) expect([rule.alert, tests.includes(`alertname: ${rule.alert}\n`)]).toEqual([rule.alert, true]);
  });
});

(missing ? describe.skip : describe)('the alert rules on a real Prometheus scraping a real Kura', () => {
  let proxy: FaultProxy;
  let kura: KuraProcess;
  let prometheus: ChildProcess;
  let prometheusUrl: string;
  let dir: string;
  let output = '';

  const query = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${prometheusUrl}${path}`);
    const body = (await response.json()) as { status: string; data: T };
    expect(body.status).toBe('success');
    return body.data;
  };
  const until = async (what: string, check: () => Promise<boolean>, ms = 30_000) => {
    const giveUpAt = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > giveUpAt) throw new Error(`gave up waiting for ${what}; Prometheus said:\n${output.slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  const firing = async () =>
    (await query<{ alerts: { labels: { alertname: string }; state: string }[] }>('/api/v1/alerts')).alerts
      .filter((alert) => alert.state === 'firing')
      .map((alert) => alert.labels.alertname);

  beforeAll(async () => {
    proxy = await startFaultProxy(testEndpoint());
    kura = await startKuraProcess(
      kuraEnv(await freshTables(), proxy.endpoint, {
        KURA_METRICS_PORT: '0',
        KURA_COOKIE_SECURE: 'false',
        KURA_DYNAMODB_MAX_ATTEMPTS: '2',
        KURA_DYNAMODB_TIMEOUT_MS: '300',
      }),
    );
    const metrics = new URL(/Prometheus metrics on (http:\/\/[\d.:]+\/metrics)/.exec(kura.output())![1]!);
    dir = await mkdtemp(join(tmpdir(), 'kura-prometheus-'));
    // The rules as shipped, but with no waiting period: the test cannot wait their minutes. The windows stay as
    // they are: a rate over 5 minutes of samples a second apart is there after two of them.
    const immediate = { groups: ruleObject.spec.groups.map((group) => ({ ...group, rules: group.rules.map(({ for: _wait, ...rule }) => rule) })) };
    await writeFile(join(dir, 'rules.yaml'), stringify(immediate));
    await writeFile(
      join(dir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: ['rules.yaml'],
        // The label a PodMonitor's target gets from its pod's namespace.
        scrape_configs: [{ job_name: 'kura', static_configs: [{ targets: [metrics.host], labels: { namespace: 'kura' } }] }],
      }),
    );
    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      'prometheus',
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout!.on('data', (chunk) => (output += chunk));
    prometheus.stderr!.on('data', (chunk) => (output += chunk));
    await until('Prometheus to be ready', async () => (await fetch(`${prometheusUrl}/-/ready`).catch(() => undefined))?.status === 200);
  }, 60_000);

  afterAll(async () => {
    prometheus?.kill('SIGTERM');
    if (prometheus && prometheus.exitCode === null) await new Promise((resolve) => prometheus.once('exit', resolve));
    await kura?.stop();
    await proxy?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finds every metric the rules name among those Kura exports, and fires nothing while Kura is well', async () => {
    const user = new HttpClient(kura.baseUrl);
    await user.signUpAndLogIn(uniqueEmail('alerts'));
    for (let i = 0; i < 20; i += 1) expect((await user.get('/auth/me')).status).toBe(200);
    const named = [...new Set(rules.flatMap((rule) => rule.expr.match(/\bkura_[a-z0-9_]+/g) ?? []))];
    expect(named.length).toBeGreaterThanOrEqual(5);

    await until('Prometheus to have every metric the rules name', async () => {
      const present = new Set(await query<string[]>('/api/v1/label/__name__/values'));
      return named.every((name) => present.has(name));
    });
    // Evaluated a few times over samples of a well Kura.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await firing()).toEqual([]);
  }, 60_000);

  it('fires KuraStoreFailing when the store fails, labelled as the runbook says', async () => {
    const user = new HttpClient(kura.baseUrl);
    await user.signUpAndLogIn(uniqueEmail('alerts'));
    proxy.set('http500');

    // Requests keep failing while Prometheus looks, as they would: a counter's first samples give no rate.
    await until('KuraStoreFailing to fire', async () => {
      expect((await user.get('/auth/me')).status).toBe(503);
      return (await firing()).includes('KuraStoreFailing');
    });
    const alerts = (await query<{ alerts: { labels: Record<string, string>; annotations: Record<string, string>; state: string }[] }>('/api/v1/alerts')).alerts;
    const alert = alerts.find((candidate) => candidate.labels.alertname === 'KuraStoreFailing')!;
    expect(alert.labels).toMatchObject({ severity: 'critical', namespace: 'kura' });
    expect(alert.annotations.summary).toMatch(/^Kura answers \d+(\.\d+)?% of requests with 503 in kura$/);
    expect(await firing()).not.toContain('KuraServerErrors');
    proxy.set('pass');
  }, 60_000);
});
