import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freshTables, kuraEnv } from './support/engine.js';
import { type KuraProcess, startKuraProcess } from './support/kura-process.js';

/**
 * What a newcomer reads when the store is reachable but not usable: readiness and the log say why in one line
 * (a missing table, no credentials) instead of "unreachable", and the log says at start which store it uses.
 * Kura runs as its own process with the default text log format; every line it prints is read.
 */
const running: KuraProcess[] = [];
let home: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'kura-home-'));
});
afterAll(async () => {
  await Promise.all(running.map((kura) => kura.stop()));
  await rm(home, { recursive: true, force: true });
});

const start = async (env: Record<string, string>) => {
  const kura = await startKuraProcess(env);
  running.push(kura);
  return kura;
};
const lines = (kura: KuraProcess) => kura.output().replace(/\u001b\[[\d;]*m/g, '').split('\n').filter(Boolean);
const token = 'A'.repeat(43); // well formed, never issued: authenticating it needs a read of the sessions table

describe('tables missing (the engine answers, db:init was never run)', () => {
  let kura: KuraProcess;
  const tables = { sessions: `missing-${Date.now()}-sessions`, users: `missing-${Date.now()}-users` };

  beforeAll(async () => {
    kura = await start(kuraEnv(tables, undefined, { KURA_LOG_FORMAT: 'text' }));
  });

  it('says at start which endpoint, region and tables it uses', () => {
    expect(lines(kura)).toContainEqual(
      expect.stringMatching(new RegExp(`\\[Store\\] session store: DynamoDB at http://[\\d.:]+ \\(region us-east-1\\), tables ${tables.sessions} and ${tables.users}$`)),
    );
  });

  it('reports not ready (still starting) with the missing table and what to run, not "unreachable"', async () => {
    const ready = await fetch(`${kura.baseUrl}/health/ready`);
    const store = await fetch(`${kura.baseUrl}/health/store`);

    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: { lifecycle: { message: string } } }).checks.lifecycle.message).toBe(
      `starting: the session store has not answered yet: table ${tables.sessions} does not exist: run npm run db:init`,
    );
    expect(store.status).toBe(503);
    expect(((await store.json()) as { checks: { store: unknown } }).checks.store).toEqual({ status: 'down', message: `table ${tables.sessions} does not exist: run npm run db:init` });
  });

  it('logs each failed request as one line, with its request id and the reason', async () => {
    const response = await fetch(`${kura.baseUrl}/auth/me`, { headers: { authorization: `Bearer ${token}`, 'x-request-id': 'missing-table-0001' } });
    expect(response.status).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, 200));

    const warning = lines(kura).filter((line) => line.includes('missing-table-0001') && line.includes('WARN'));
    expect(warning).toEqual([expect.stringContaining(`reason="table ${tables.sessions} does not exist: run npm run db:init"`)]);
    expect(warning[0]).toMatch(/requestId=missing-table-0001 problem=urn:kura:problem:store-unavailable /);
    for (const line of lines(kura)) expect(line).toMatch(/^\[Kura\] \d+ {2}- /); // no continuation lines, no Object(3) {…}
  });
});

// docs/kubernetes.md: until the tables have answered, "a wrong role, region or table name keeps new pods out". Only
// the sessions table was asked: a rollout with a mistyped KURA_USERS_TABLE replaced working pods with ready ones
// that answered every registration and login 503.
describe('the users table missing (a mistyped KURA_USERS_TABLE), the sessions table there', () => {
  let kura: KuraProcess;
  let users: string;

  beforeAll(async () => {
    const tables = await freshTables();
    users = `${tables.users}-mistyped`;
    kura = await start(kuraEnv({ ...tables, users }, undefined, { KURA_LOG_FORMAT: 'text' }));
  });

  it('is not ready, naming the users table and what to run, while registrations answer 503', async () => {
    const ready = await fetch(`${kura.baseUrl}/health/ready`);
    const registration = await fetch(`${kura.baseUrl}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ada@example.com', password: 'correct horse battery' }),
    });

    expect(registration.status).toBe(503);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: { lifecycle: { message: string } } }).checks.lifecycle.message).toBe(
      `starting: the user store has not answered yet: table ${users} does not exist: run npm run db:init`,
    );
  });
});

describe('no AWS credentials (AWS DynamoDB chosen, nothing to sign with)', () => {
  let kura: KuraProcess;

  beforeAll(async () => {
    // No profile file, no instance metadata, no key: the SDK's default chain finds nothing.
    kura = await start({ KURA_STORE: 'dynamodb', AWS_REGION: 'eu-west-1', HOME: home, AWS_EC2_METADATA_DISABLED: 'true', KURA_DYNAMODB_TIMEOUT_MS: '2000' });
  });

  it('says at start that it uses AWS DynamoDB in that region, and which tables', () => {
    expect(lines(kura)).toContainEqual(expect.stringMatching(/\[Store\] session store: AWS DynamoDB in eu-west-1, tables kura-sessions and kura-users$/));
  });

  it('reports not ready because there are no credentials, and what to set', async () => {
    const ready = await fetch(`${kura.baseUrl}/health/ready`);

    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: { lifecycle: { message: string } } }).checks.lifecycle.message).toMatch(
      /^starting: the session store has not answered yet: no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
    );
  });
});
