import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The README's first screen, as a newcomer reads it before typing anything. */
const readme = readFileSync('README.md', 'utf8');
const firstScreen = readme.slice(0, readme.indexOf('\n## '));

describe("the README's first screen", () => {
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

  it('is right about it: npm scripts run the Node 24 that npm installed, whatever the system has', () => {
    const { engines, dependencies } = JSON.parse(readFileSync('package.json', 'utf8'));
    expect(engines.node).toMatch(/^>=24/); // what makes an older npm's Node warn
    expect(dependencies.node).toMatch(/^\^24\./);
    expect(execFileSync('node_modules/.bin/node', ['--version'], { encoding: 'utf8' })).toMatch(/^v24\./);
  });
});
