import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from '@jest/globals';
import { installed } from './installed.js';
import { redisServerMissing } from './redis-server.js';


/**
 * What the kura-check specs share (test/kura-check*.e2e-spec.ts, two files so that Jest can run them side by
 * side): running kura-check on a fixture of test/fixtures/check as `npx kura-check` runs it (--quick --json),
 * its report's shape, and which of the tools the fixtures need are installed. Each run gets its own loopback
 * addresses (--host-base: 127.0.0.<base - 1> for nginx, <base>.. for the replicas). The two files run at once:
 * a base one file uses must not cover an address the other checks nothing listens on after a run (`ss src`).
 */
export const ROOT = new URL('../..', import.meta.url).pathname;
export const BIN = join(ROOT, 'apps/check/bin/kura-check.js');
/** A fixture's scenario.yaml, or another scenario file of a fixture's folder (`name/other.yaml`). */
export const fixture = (name: string) => join(ROOT, 'test/fixtures/check', name, ...(name.endsWith('.yaml') ? [] : ['scenario.yaml']));

export interface Evidence {
  mode: string;
  phase: string;
  step: string;
  request: string;
  replica: number | null;
  status: number;
  body: string;
}
export interface Phase {
  requests: number;
  failures: number;
  /** Requests with no answer within kura-check's 10 s, sent in this phase: failures too (verdict.js). */
  timeouts: number;
  byKind: Record<string, number>;
}
export interface Report {
  verdict: string | null;
  meaning: string;
  exitCode: number;
  error?: string;
  /** Virtual users per balancer. */
  users: number;
  evidence: Evidence[];
  cautions: string[];
  workers?: { count: number; command: string };
  /** Replicas of the rolling restart killed at the end of their grace period (SIGTERM ignored). */
  shutdown?: { killed: number[]; graceSeconds: number; container: boolean; line: string };
  files?: { private: boolean; sharedHere?: string[]; shared: string[]; why?: string };
  events: { atSeconds: number; what: string }[];
  /** With the scenario's logout: whether it ends the session on every replica. */
  logout?: { effective: boolean | null; line: string; stillIn?: number[]; logout?: { request: string; status: number; passed: boolean }; replicas: { replica: number | null; before: boolean; after: boolean; status: number }[] };
  /** The names of the cookies the app set, and what to do about the verdict. */
  sessionCookies: string[];
  /** The servers every replica was connected to while it served (a store they share, likely). */
  peers?: string[];
  nextSteps: string[];
  modes: Record<string, { logins: number; balancerRetries: number; serverErrors: { count: number }; phases: Record<string, Phase>; perReplica: Record<string, { requests: number; failures: number }> }>;
}

/** Folders the tests make in the temp folder, removed once the file's tests have run (230 were left in /tmp). */
const scratches: string[] = [];
export async function scratch(prefix = 'kura-check-spec-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  scratches.push(dir);
  return dir;
}
afterAll(() => Promise.all(scratches.map((dir) => rm(dir, { recursive: true, force: true }))));

/** kura-check's exit code and raw output. */
export function checkRaw(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code) : 0, stdout, stderr });
    });
  });
}

/**
 * Two replicas, not the default three, for a --quick run that names none: a run's cost is mostly its replicas'
 * starts (three, one after the kill and three in the rolling restart: seven; with two, five), and these runs were
 * half of CI's processor time (60 runs, 1260 of 2554 s measured per test file on 2026-12-06), on a run that must
 * end well inside 30 minutes. Nothing kura-check judges needs a third: round robin still sends a user's next
 * request to another replica, the kill still replaces one and the rolling restart every one. The default's three are
 * run where a test says so (`--replicas 3`), and by test/kura-check-package and test/kura-check-image.
 */
const TWO_REPLICAS = ['--replicas', '2'];

export function check(args: string[], env: Record<string, string> = {}): Promise<{ code: number; report: Report; stderr: string; seconds: number }> {
  const started = Date.now();
  if (args.includes('--quick') && !args.includes('--replicas')) args = [...args, ...TWO_REPLICAS];
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? Number((error as { code?: number }).code) : 0;
      resolve({ code, report: JSON.parse(stdout || '{}') as Report, stderr, seconds: (Date.now() - started) / 1000 });
    });
  });
}

export const nginx = installed('nginx', ['-v']);
export const php = installed('php', ['--version']);
if (!nginx) console.warn('SKIPPING the kura-check fixtures: nginx is not installed (apt-get install nginx-light)');
if (!php) console.warn('SKIPPING the kura-check PHP fixture: php is not installed (apt-get install php-cli)');
export const redis = installed('redis-server', ['--version']);
// PHP's sessions in Redis, as the advice for PHPSESSID says: phpredis (Debian's php-redis) and a redis-server to hold them.
export const phpRedis = php && redis && installed('php', ['--ri', 'redis']);
if (php && !phpRedis) console.warn(`SKIPPING the kura-check PHP Redis-sessions fixture: ${redisServerMissing() ?? 'phpredis is not installed (apt-get install php-redis)'}`);
export const jdk = installed('javac', ['-version']);
export const gunicorn = installed('gunicorn', ['--version']);
if (!gunicorn) console.warn('SKIPPING the kura-check Flask fixtures: gunicorn is not installed (apt-get install gunicorn python3-flask)');
// Debian's gunicorn runs Debian's python3, which needs Debian's Django.
export const django = gunicorn && installed('/usr/bin/python3', ['-c', 'import django']);
if (!django) console.warn('SKIPPING the kura-check Django fixtures: gunicorn or python3-django is not installed (apt-get install gunicorn python3-django)');
// Debian's Rails 6.1 and WEBrick, on Debian's ruby.
export const rails = installed('ruby', ['-e', 'require "rails"; require "webrick"']);
if (!rails) console.warn('SKIPPING the kura-check Rails fixtures: ruby-rails or ruby-webrick is not installed (apt-get install ruby-rails ruby-webrick)');
if (!jdk) console.warn('SKIPPING the kura-check Java fixture: no JDK (java App.java needs one: apt-get install openjdk-17-jdk-headless)');


/** Whether process `pid` still runs (a zombie, ended but not yet reaped by whoever inherited it, does not). */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Running processes whose environment holds `entry` (NAME=value), from /proc. */
export function processesWith(entry: string): number[] {
  return readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid) && running(Number(pid)))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(entry);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Runs a fixture (its name, or a scenario file's path) that kura-check cannot judge: checks exit 2 and no verdict, returns the last line on stderr. */
export async function notJudged(name: string, hostBase: number, env: Record<string, string> = {}): Promise<string> {
  const { code, report, stderr } = await check([name.includes('/') ? name : fixture(name), '--quick', '--json', '--host-base', String(hostBase)], env);
  expect(code).toBe(2);
  expect(report.verdict).toBeNull();
  return stderr.trim().split('\n').at(-1)!;
}

/** Runs a fixture with --quick --json, says how long it took, checks the verdict and its exit code (0 or 1). */
/** `exitCode`: where it is not the verdict's (a stateless app whose logout leaves the session usable: 1). */
export async function judged(name: string, hostBase: number, verdict: string, { env = {}, args = [], exitCode }: { env?: Record<string, string>; args?: string[]; exitCode?: number } = {}) {
  const { code, report, seconds } = await check([fixture(name), '--quick', '--json', '--host-base', String(hostBase), ...args], env);
  console.log(`kura-check --quick ${name}: ${seconds.toFixed(1)} s`);
  // A verdict other than the one expected comes with what kura-check saw: a rare one in CI is then explained.
  if (report.verdict !== verdict) console.error(`${name}: ${report.verdict}\n${JSON.stringify({ modes: report.modes, evidence: report.evidence, events: report.events }, null, 1)}`);
  expect(report.verdict).toBe(verdict);
  expect(code).toBe(exitCode ?? (verdict === 'stateless' ? 0 : 1));
  expect(report.exitCode).toBe(code);
  return report;
}

/**
 * Runs a fixture whose replicas share, on this machine, what pods would not (a sidecar on a fixed address, a helper on an
 * abstract Unix socket): whichever replica won it decides what the kill loses, so the run ends either with
 * "loses state on restart" and `caution` beside it, or with nothing lost and exit 2 giving `caution` as the reason.
 */
export async function judgedWithSharedState(name: string, hostBase: number, caution: RegExp, env: Record<string, string> = {}): Promise<void> {
  const { code, report, stderr } = await check([fixture(name), '--quick', '--json', '--host-base', String(hostBase)], env);
  if (report.verdict === null) expect([code, stderr]).toEqual([2, expect.stringMatching(new RegExp(`could not judge: on this machine: nothing was lost, but the replicas shared state here that pods would not: ${caution.source}`))]);
  else expect([code, report.verdict, report.cautions]).toEqual([1, 'loses state on restart', [expect.stringMatching(new RegExp(`^${caution.source}`))]]);
}
