import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The README's first screen, as a newcomer reads it before typing anything. */
const readme = readFileSync('README.md', 'utf8');
const firstScreen = readme.slice(0, readme.indexOf('\n## '));

describe("the README's first screen", () => {
  it('has npm start, db:serve, replicas and offline exec their server, so that a SIGTERM to npm stops it', () => {
    // npm forwards SIGTERM to the script's shell, and a shell running `a && node …` does not pass it on: the server
    // outlived `kill <npm's pid>`, drain and all, holding .data's lock, so the next npm start refused to start (a
    // newcomer's review, 2026-12-07; then checked by hand: with exec, it drains and closes, no process left).
    const { scripts } = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    for (const name of ['start', 'db:serve', 'replicas', 'offline']) expect({ name, last: scripts[name]!.split('&&').at(-1)!.trim() }).toEqual({ name, last: expect.stringMatching(/^exec node /) });
  });

  it('keeps the two-command start', () => {
    expect(firstScreen).toContain('npm ci && npm start   # the API on http://127.0.0.1:3000');
    expect(firstScreen).toContain('npm ci && npm test    # the whole suite');
  });

  it("says that npm ci's EBADENGINE warnings on an older system Node are harmless: the project brings Node 24", () => {
    const line = firstScreen.split('\n').find((text) => text.includes('EBADENGINE'));
    expect(line).toBeDefined();
    expect(line).toMatch(/harmless/);
    expect(line).toMatch(/Node 24/);
  });

  it('names every kind of warning npm ci prints: a newcomer reads any other as something gone wrong', () => {
    const line = firstScreen.split('\n').find((text) => text.includes('EBADENGINE'))!;
    // A dry run resolves the same tree from the lockfile and prints the same warnings, installing nothing and, with
    // --offline, asking the registry nothing.
    const output = spawnSync('npm', ['ci', '--dry-run', '--offline', '--no-audit', '--no-fund'], { encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
    const kinds = new Set([...`${output.stdout}${output.stderr}`.matchAll(/^npm warn ([A-Z]{3,})\b/gm)].map(([, kind]) => kind!));

    expect(output.status).toBe(0);
    expect([...kinds].filter((kind) => !line.includes(kind))).toEqual([]);
  }, 120_000);

  it('is right about it: npm scripts run the Node 24 that npm installed, whatever the system has', () => {
    const { engines, dependencies } = JSON.parse(readFileSync('package.json', 'utf8'));
    expect(engines.node).toMatch(/^>=24/); // what makes an older npm's Node warn
    expect(dependencies.node).toMatch(/^\^24\./);
    expect(execFileSync('node_modules/.bin/node', ['--version'], { encoding: 'utf8' })).toMatch(/^v24\./);
  });
});
