import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { installed } from './support/installed.js';
import { installNode, npm } from './support/packed-packages.js';

/**
 * kura-check as someone outside this repository gets it: `npm pack` in apps/check, the tarball installed into an
 * empty folder elsewhere (its dependencies from npm's cache, as any install), and `npx kura-check` run there on a
 * copy of a fixture that needs nothing from this repository (the Python app). Nothing here may reach the
 * repository's own node_modules.
 */
const ROOT = new URL('..', import.meta.url).pathname;
const run = promisify(execFile);

const nginx = installed('nginx', ['-v']);
if (!nginx) console.warn('SKIPPING the kura-check package test: nginx is not installed (apt-get install nginx-light)');

(nginx ? describe : describe.skip)('kura-check, packed and installed outside the repository', () => {
  let work: string;
  let app: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'kura-check-package-'));
    await npm(['pack', '--pack-destination', work, '--silent'], join(ROOT, 'apps/check'));
    const tarball = (await readdir(work)).find((file) => file.endsWith('.tgz'))!;
    app = join(work, 'someone-else');
    await cp(join(ROOT, 'test/fixtures/check/python-dict'), app, { recursive: true });
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'someone-else', private: true }));
    await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', join(work, tarball)], app);
  }, 180_000);

  afterAll(() => rm(work, { recursive: true, force: true }));

  it('holds its sources, schema, README, licence and bin only, and brings its dependencies (yaml, ajv, tough-cookie, undici)', async () => {
    const installed = join(app, 'node_modules/kura-check');
    expect((await readdir(installed)).sort()).toEqual(['LICENSE', 'README.md', 'bin', 'package.json', 'scenario.schema.json', 'src']);
    expect((await readdir(join(installed, 'src'))).filter((file) => file.endsWith('.spec.js'))).toEqual([]);
    expect(await readdir(join(app, 'node_modules'))).toEqual(expect.arrayContaining(['kura-check', 'yaml', 'ajv', 'tough-cookie', 'undici']));
  });

  // Node 24 first on PATH, as on a machine where it is the node (the bin's `#!/usr/bin/env node` finds it); then
  // Node 22, the oldest line its `engines` take.
  it.each([24, 22])('judges an app by `npx kura-check`, from the app’s own folder, on Node %i: needs affinity, exit 1', async (major) => {
    const nodeFolder = major === 24 ? dirname(process.execPath) : await installNode(major, join(work, `node${major}`));
    const env = { ...process.env, PATH: `${nodeFolder}:${process.env.PATH ?? ''}`, npm_config_update_notifier: 'false' };
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile('npx', ['--no-install', 'kura-check', 'scenario.yaml', '--quick', '--json', '--host-base', '101'], { cwd: app, env }, (error, stdout) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout }),
      );
    });
    const report = JSON.parse(stdout) as { verdict: string; exitCode: number };
    const { stdout: version } = await run(join(nodeFolder, 'node'), ['--version']);
    expect({ node: version.trim().split('.')[0], verdict: report.verdict, code }).toEqual({ node: `v${major}`, verdict: 'needs affinity', code: 1 });
  }, 120_000);
});
