import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * A test file whose every test is skipped (no podman, Chromium, kubectl or nginx here) used to show in
 * `npm test` only as "skipped": Jest's default reporter prints nothing of such a file, not even the reason it
 * logged while collecting. Jest is run here on two such files, with the project's own reporters.
 */
const run = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;
const CONFIG = '../jest.config.js';

async function jestOn(fixtures: string): Promise<string> {
  const { default: base } = (await import(CONFIG)) as { default: Record<string, unknown> };
  const { globalSetup: _setup, globalTeardown: _teardown, testMatch: _match, ...config } = base;
  const { stdout, stderr } = await run(
    process.execPath,
    ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning', 'node_modules/jest/bin/jest.js',
      '--config', JSON.stringify({ ...config, rootDir: ROOT, testMatch: [`<rootDir>/test/support/fixtures/${fixtures}`] })],
    { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' } },
  );
  return stdout + stderr;
}

describe('a skipped test file in the output of npm test', () => {
  let output: string;
  beforeAll(async () => {
    output = await jestOn('skipped-*.fixture.ts');
  }, 60_000);

  it('is still counted as skipped', () => {
    expect(output).toMatch(/Test Suites: 2 skipped, 0 of 2 total/);
  });

  it('comes with the reason it logged while its tests were collected', () => {
    expect(output).toMatch(
      /test\/support\/fixtures\/skipped-for-a-reason\.fixture\.ts: SKIPPING the frobnicator suite: frobnicator is not installed \(apt-get install frobnicator\)/,
    );
  });

  it('says so when it gave no reason', () => {
    expect(output).toMatch(/test\/support\/fixtures\/skipped-silently\.fixture\.ts: no reason given/);
  });
});
