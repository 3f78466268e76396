import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * A rolling upgrade runs the old and the new code side by side on one store: each must read, and carry on from,
 * what the other writes. test/stored-formats shows the new code reading every earlier format. This shows the other
 * half: for each format recorded in test/fixtures/stored, the code of the stop before it (the commit that wrote
 * the previous format, taken out of git) passes the same reading test on it, on DynamoDB Local and on Redis.
 * The old code runs its own Jest, with this test's reading journey and the newer fixture copied in, on today's
 * node_modules: a package today's code no longer imports but an older stop's does stays a devDependency for it
 * (`@nestjs/terminus`, which the health routes stopped using in session 53).
 */
const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'stored');

interface Recorded {
  readonly stop: number;
  readonly commit: string;
  readonly file: string;
}

/** Each stop's fixture, per store, oldest first. */
function recorded(store: string): Recorded[] {
  return readdirSync(join(FIXTURES, store))
    .filter((file) => file.endsWith('.json'))
    .map((file) => {
      const { stop, commit } = JSON.parse(readFileSync(join(FIXTURES, store, file), 'utf8')) as { stop: number; commit: string };
      return { stop, commit, file };
    })
    .sort((a, b) => a.stop - b.stop);
}

const hasCommit = (commit: string) => {
  try {
    execFileSync('git', ['cat-file', '-e', `${commit}^{commit}`], { cwd: ROOT, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

const stores = ['dynamodb', 'redis'] as const;
const steps = recorded('dynamodb').flatMap((older, index, all) => {
  const newer = all[index + 1];
  return newer ? [{ older, newer }] : [];
});
const missing = steps.filter(({ older }) => !hasCommit(older.commit));
if (missing.length > 0) console.log(`SKIPPING the rolling upgrades from ${missing.map(({ older }) => `stop ${older.stop}`).join(', ')}: their commits are not in this clone (a shallow one?)`);

const runnable = steps.filter(({ older }) => hasCommit(older.commit));
if (steps.length === 0) console.log('SKIPPING the rolling upgrades: fewer than two formats are recorded in test/fixtures/stored');
if (runnable.length === 0) it.skip('has no two recorded formats to roll between', () => undefined);

describe.each(runnable.map((step) => [step.older.stop, step.newer.stop, step] as const))(
  'a rolling upgrade from stop %i to stop %i',
  (_older, _newer, { older, newer }) => {
    let checkout: string;
    beforeAll(async () => {
      checkout = mkdtempSync(join(tmpdir(), `kura-stop-${older.stop}-`));
      // The old code as it was committed (no worktree: the repository is left as it is), on today's dependencies.
      await run('sh', ['-c', `git archive ${older.commit} | tar -x -C "${checkout}"`], { cwd: ROOT });
      symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'));
      cpSync(join(ROOT, 'test', 'stored-formats.e2e-spec.ts'), join(checkout, 'test', 'stored-formats.e2e-spec.ts'));
      cpSync(join(ROOT, 'test', 'support', 'stored-state.ts'), join(checkout, 'test', 'support', 'stored-state.ts'));
      for (const store of stores) {
        const target = join(checkout, 'test', 'fixtures', 'stored', store);
        rmSync(target, { recursive: true, force: true });
        mkdirSync(target, { recursive: true });
        cpSync(join(FIXTURES, store, recorded(store).find((one) => one.stop === newer.stop)!.file), join(target, `stop-${newer.stop}.json`));
      }
    }, 60_000);
    afterAll(() => checkout && rmSync(checkout, { recursive: true, force: true }));

    it(`the code of stop ${older.stop} reads what stop ${newer.stop} writes, and carries on from it`, async () => {
      const jest = join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
      const result = await run(
        process.execPath,
        ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning', jest, '--ci', '--colors=false', 'test/stored-formats.e2e-spec.ts', '-t', `written by Kura at stop ${newer.stop}`],
        // The run's DynamoDB Local (KURA_TEST_DYNAMODB_ENDPOINT) serves the old code's Jest too.
        { cwd: checkout, env: process.env, maxBuffer: 16 * 1024 * 1024, timeout: 240_000 },
      ).catch((failure: { stdout?: string; stderr?: string; code?: number }) => failure);
      const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
      const passed = [...output.matchAll(/✓ written by Kura at stop (\d+)/g)].map((match) => Number(match[1]));
      console.log(`stop ${older.stop}'s code on stop ${newer.stop}'s items: ${passed.length} of ${stores.length} stores read and carried on`);
      expect({ passed, failed: /✕/.test(output) ? output.split('\n').filter((line) => /✕|●/.test(line)) : [] }).toEqual({ passed: stores.map(() => newer.stop), failed: [] });
    }, 300_000);
  },
);
