import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { installed } from './support/installed.js';

/**
 * The replica harness (`npm run prove`), shortened: 3 replicas of the built app behind Debian's nginx, virtual
 * users, a SIGKILL and a rolling restart. It exits non-zero if Kura (design c) loses a session, an update or a
 * logout, leaks a user to another, or answers 5xx, and if the in-memory negative control (design a) does not
 * fail. `npm run soak` is the long version (many more users, kills and restarts).
 */
const run = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;

const missing = !installed('nginx', ['-v']);
if (missing) console.warn('SKIPPING the replica harness test: nginx is not installed (apt-get install nginx-light)');

(missing ? describe.skip : describe)('npm run prove --quick (in-memory control, Kura on DynamoDB, Kura on Redis)', () => {
  it('shows the in-memory design failing and Kura, on either store, losing nothing through a kill and a rolling restart', async () => {
    const { stdout } = await run(process.execPath, ['bench/prove/prove.mjs', '--quick', '--designs', 'a,c,d'], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
      env: { ...process.env },
    });
    expect(stdout).toMatch(/OK: Kura lost nothing; the designs without an external store failed as expected/);
    for (const design of ['(c)', '(d)']) {
      const kura = stdout.split('\n').find((line) => line.startsWith(`| ${design}`))!.split('|').map((cell) => cell.trim());
      // | design | requests | lost sessions | unexpected 401s | updates lost | stale | leaks | 5xx from Kura | failed at
      // the balancer: killed replica | ... graceful restarts | per replica
      expect(kura[3]).toMatch(/^0 of \d+$/);
      expect(kura[4]).toBe('0');
      expect(kura[5]).toMatch(/^0 of [1-9]\d*$/);
      expect(kura.slice(6, 9)).toEqual(['0', '0', '0']);
    }
  }, 240_000);
});
