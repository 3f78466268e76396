import { readFile } from 'node:fs/promises';
import { describe, expect, it } from '@jest/globals';

/** The README, kept true to the schema and package.json it describes. */
const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
const schema = JSON.parse(await readFile(new URL('../scenario.schema.json', import.meta.url), 'utf8'));
const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
/** The repository's own package.json, whose pack:packages the README names. */
const root = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8'));

/** The rows of the Markdown table that follows `heading` (its first table), as arrays of trimmed cells. */
function tableAfter(heading) {
  const from = readme.indexOf(`\n${heading}\n`);
  expect(from).toBeGreaterThan(-1);
  const lines = readme.slice(from).split('\n');
  const start = lines.findIndex((line) => line.startsWith('|'));
  const end = lines.findIndex((line, i) => i > start && !line.startsWith('|'));
  return lines
    .slice(start + 2, end) // past the header and its --- line
    .map((line) => line.slice(1, -1).split(/(?<!\\)\|/).map((cell) => cell.trim()));
}

describe("the README's scenario reference", () => {
  it('names every top-level key of scenario.schema.json', () => {
    const named = tableAfter('## Scenario reference').map(([keys]) => keys).join(' ');
    for (const key of Object.keys(schema.properties).filter((key) => key !== '$schema')) expect(named).toContain(`\`${key}\``);
  });

  it('documents every field of a request, each with its default and an example', () => {
    const rows = tableAfter('### Requests');
    const fields = rows.map(([field]) => field.replaceAll('`', ''));
    expect(fields).toEqual(Object.keys(schema.$defs.requestFields.properties));
    for (const [field, meaning, byDefault, example] of rows) {
      expect({ field, meaning: meaning.length > 0, byDefault: byDefault.length > 0, example: example.startsWith(`${field.replaceAll('`', '')}:`) || example.startsWith(`\`${field.replaceAll('`', '')}:`) }).toEqual({
        field,
        meaning: true,
        byDefault: true,
        example: true,
      });
    }
    expect(schema.$defs.requestFields.properties.method.default).toBe('GET');
    expect(rows.find(([field]) => field === '`method`')[2]).toBe('`GET`');
  });
});

describe("the README's first screen: how to run it", () => {
  const firstScreen = readme.slice(0, readme.indexOf('\n## '));

  it("names the package's dependencies, all of them", () => {
    const named = /its dependencies: ([^)]*)\)/.exec(firstScreen)?.[1];
    expect(named?.match(/`[^`]+`/g)?.map((name) => name.replaceAll('`', '')).sort()).toEqual(Object.keys(pkg.dependencies).sort());
  });

  it('says plainly that npx kura-check outside the clone asks the npm registry for a name this project does not own', () => {
    expect(firstScreen).toMatch(/only inside a clone of this repository/);
    expect(firstScreen).toMatch(/asks the npm registry for a package named `kura-check`, which this project does not own/);
    expect(firstScreen).toContain('`npm ci` once, then `npx kura-check /path/to/scenario.yaml`');
  });

  it('gives the tarball way, as the root package.json makes it: npm run pack:packages, then node_modules/.bin/kura-check', () => {
    expect(root.scripts['pack:packages']).toMatch(/npm pack --workspaces --pack-destination \.packs\b/);
    expect(root.workspaces).toContain('apps/check');
    expect(firstScreen).toContain('`npm run pack:packages`');
    expect(firstScreen).toContain(`\`npm install <clone>/.packs/${pkg.name}-${pkg.version}.tgz\``);
    expect(firstScreen).toContain('`node_modules/.bin/kura-check scenario.yaml`');
  });
});
