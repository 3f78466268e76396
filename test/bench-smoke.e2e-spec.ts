import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';

/**
 * The benchmark suites as smoke runs: each still works and its own checks hold (every scenario answered, no
 * failed request, none of 50 concurrent updates lost on the systems that claim it; the cold-start artifacts
 * unchanged by a run from a read-only folder; the store-path bench reading the sessions it is handed), never
 * speed, which a machine busy with other test files says nothing of. They ran after `npm test` in `.ci/run`, about
 * 100 s at the end of every CI run; here they run beside the other files. `npm test`'s pretest built and bundled
 * what they run, so they are started directly, not through their npm scripts (which would build it all again).
 */
const run = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;
const node = (args: string[]) => run(process.execPath, args, { cwd: ROOT, maxBuffer: 32 * 1024 * 1024 });

describe('the benchmark suites, as smoke runs', () => {
  it('bench/sessions --quick: every system of both groups answers every scenario, and Kura and KuraStore lose no concurrent update', async () => {
    // 0.3 s of load per scenario, not --quick's 1 s: enough for every system to answer every scenario.
    const { stdout } = await node(['bench/sessions/run.mjs', '--quick', '--seconds', '0.3']);
    expect(stdout).toContain('### Authenticated GET /auth/me (the hot path)');
    expect(stdout).toContain('### Session data update: PATCH /session/data');
    // A quick run's report is its own: it never takes the place of a real run's reports/bench.md.
    expect(stdout).toContain('report: reports/bench-quick.md');
  }, 300_000);

  it('bench/cold-start --quick: Kura and the reference handlers start from their artifacts, read-only, and write nothing there', async () => {
    const { stdout } = await node(['bench/cold-start/run.mjs', '--quick']);
    expect(stdout).toMatch(/^\| Kura \(bundle\) \| \d+ \|/m);
    expect(stdout).toContain('artifact folders after the runs: unchanged');
  }, 120_000);

  // It fails where KuraStore no longer reads the Redis session it is handed: a stored format changed.
  it('bench/store-path: one round of each store path', async () => {
    await expect(node(['bench/store-path/run.mjs', '--repeats', '1', '--rounds', '1', '--requests', '2000', '--warmup', '1000'])).resolves.toBeDefined();
  }, 120_000);
});
