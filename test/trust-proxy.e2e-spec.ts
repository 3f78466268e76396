import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { freshTables, kuraEnv } from './support/engine.js';
import { type ForwardingProxy, startForwardingProxy } from './support/forwarding-proxy.js';
import { uniqueEmail } from './support/http-client.js';
import { startKuraInProcess } from './support/kura-app.js';
import { startKuraProcess } from './support/kura-process.js';

/**
 * Behind the shipped Kubernetes configuration, Kura's client address is the one the ingress controller saw,
 * whatever the client writes in `X-Forwarded-For`: the session list shows it and the per-client login limit
 * counts it. Clients connect from their own loopback addresses (127.0.0.x) through one real proxy hop.
 */
const SHIPPED = /^KURA_TRUST_PROXY=(.+)$/m.exec(readFileSync('infra/k8s/base/kura.env', 'utf8'))![1]!;
const PASSWORD = 'correct horse battery';

let app: NestFastifyApplication;
let ingress: ForwardingProxy;

beforeAll(async () => {
  let baseUrl: string;
  ({ app, baseUrl } = await startKuraInProcess(
    // A day-long window: the sliding estimate weighs the last window's failures a hair under 1 just after a
    // window starts, so a run across a 15-minute boundary would admit a fourth attempt (seen in a full run).
    kuraEnv(await freshTables(), undefined, { KURA_TRUST_PROXY: SHIPPED, KURA_LOGIN_MAX_FAILURES_PER_CLIENT: '3', KURA_LOGIN_FAILURE_WINDOW: '86400' }),
  ));
  ingress = await startForwardingProxy(baseUrl);
});
afterAll(async () => {
  await ingress?.close();
  await app?.close();
});

/** A client at `from` (a loopback address) talking to Kura through the ingress. */
function clientAt(from: string) {
  return (method: string, path: string, options: { json?: unknown; headers?: Record<string, string> } = {}) =>
    new Promise<{ status: number; body: any }>((resolve, reject) => {
      const body = options.json === undefined ? undefined : JSON.stringify(options.json);
      const url = new URL(path, ingress.url);
      const headers = { ...options.headers, ...(body ? { 'content-type': 'application/json' } : {}) };
      const req = httpRequest(url, { method, headers, localAddress: from, agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: text && /json/.test(res.headers['content-type'] ?? '') ? JSON.parse(text) : text }));
      });
      req.on('error', reject);
      req.end(body);
    });
}

describe(`behind one ingress hop, with the shipped KURA_TRUST_PROXY (${SHIPPED})`, () => {
  it('records the address the ingress saw, not the one the client wrote in X-Forwarded-For', async () => {
    const client = clientAt('127.0.0.2');
    const email = uniqueEmail();
    await client('POST', '/auth/register', { json: { email, password: PASSWORD } });

    const login = await client('POST', '/auth/login', {
      json: { email, password: PASSWORD, transport: 'bearer' },
      headers: { 'x-forwarded-for': '6.6.6.6' },
    });
    const listed = await client('GET', '/auth/sessions', { headers: { authorization: `Bearer ${login.body.token}`, 'x-forwarded-for': '6.6.6.6' } });

    expect(login.status).toBe(200);
    expect(listed.body.sessions).toEqual([expect.objectContaining({ current: true, ip: '127.0.0.2' })]);
  });

  it('counts failed logins against the real client address, however X-Forwarded-For changes', async () => {
    const client = clientAt('127.0.0.3');
    const attempt = (forged: string) =>
      client('POST', '/auth/login', { json: { email: uniqueEmail(), password: 'wrong password' }, headers: { 'x-forwarded-for': forged } });

    const statuses = [];
    for (const forged of ['6.6.6.1', '6.6.6.2', '6.6.6.3', '6.6.6.4', '6.6.6.5']) statuses.push((await attempt(forged)).status);
    const elsewhere = await clientAt('127.0.0.4')('POST', '/auth/login', { json: { email: uniqueEmail(), password: 'wrong password' } });

    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    expect(elsewhere.status).toBe(401);
  });
});

describe('the audit log behind a trusted hop', () => {
  it('records a forwarded address without its port, and none where a client wrote something else there', async () => {
    // A client reaching the pod past the proxy writes X-Forwarded-For as it likes; the line named it as given, and a
    // grep for action=logout matched a login.failed line.
    const kura = await startKuraProcess({ KURA_STORE: 'memory', KURA_TRUST_PROXY: '1', KURA_AUDIT_LOG: 'true', KURA_LOG_FORMAT: 'json' });
    const loginFrom = (forwarded: string) =>
      fetch(`${kura.baseUrl}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': forwarded },
        body: JSON.stringify({ email: uniqueEmail('audit-ip'), password: PASSWORD }),
      });
    expect((await loginFrom('192.0.2.7:5678')).status).toBe(401);
    expect((await loginFrom('1.2.3.4 action=logout userId=evil')).status).toBe(401);
    await kura.stop();

    const failed = kura
      .output()
      .split('\n')
      .filter((line) => line.includes('"event":"audit"'))
      .map((line) => JSON.parse(line).message);
    expect(failed.map((event) => [event.action, event.ip])).toEqual([
      ['login.failed', '192.0.2.7'],
      ['login.failed', undefined],
    ]);
    expect(kura.output()).not.toContain('action=logout');
  });
});

describe('KURA_TRUST_PROXY at start', () => {
  it.each(['false', '1', '10.0.0.0/8,127.0.0.1'])('starts with %p', async (value) => {
    const kura = await startKuraProcess({ KURA_STORE: 'memory', KURA_TRUST_PROXY: value });

    await kura.stop();

    expect(kura.output()).not.toMatch(/KURA_TRUST_PROXY/);
  });

  it('starts with true, and warns in one line that clients can then choose their own address', async () => {
    const kura = await startKuraProcess({ KURA_STORE: 'memory', KURA_TRUST_PROXY: 'true' });

    await kura.stop();

    expect(kura.output()).toMatch(/WARN.*KURA_TRUST_PROXY=true: every proxy hop is trusted[^\n]*\n/);
  });

  it('refuses to start with a value that is none of its forms, listing it with every other problem', async () => {
    const failure = await startKuraProcess({ KURA_STORE: 'memory', KURA_TRUST_PROXY: 'maybe', PORT: 'eighty' }).catch(
      (error: Error) => error,
    );

    expect((failure as Error).message).toMatch(/exited with 1[\s\S]*Invalid configuration:[\s\S]*PORT[\s\S]*KURA_TRUST_PROXY/);
    expect((failure as Error).message).not.toMatch(/TypeError/);
  });
});
