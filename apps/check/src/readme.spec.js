import { readFile } from 'node:fs/promises';
import { describe, expect, it } from '@jest/globals';

/** The README, kept true to the schema and package.json it describes. */
const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
const schema = JSON.parse(await readFile(new URL('../scenario.schema.json', import.meta.url), 'utf8'));

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
