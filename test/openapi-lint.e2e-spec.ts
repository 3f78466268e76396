import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type KuraProcess, startKuraProcess } from './support/kura-process.js';

/**
 * The document Kura serves passes the linters API people run on a document like it, with this project's
 * rulesets: Spectral with spectral:oas and the OWASP API Security Top 10 (`.spectral.mjs`), and Redocly CLI's
 * recommended rules (`redocly.yaml`). No error and no warning; what the rulesets turn off says why there.
 */
interface Finding {
  tool: 'spectral' | 'redocly';
  severity: 'error' | 'warning' | 'info' | 'hint';
  rule: string;
  where: string;
  message: string;
}
const LINT = '../scripts/lint-api.mjs';
const { lintApiDocument, describeFindings } = (await import(LINT)) as {
  lintApiDocument: (file: string) => Promise<Finding[]>;
  describeFindings: (findings: Finding[]) => string;
};

let kura: KuraProcess;
let scratch: string;

beforeAll(async () => {
  kura = await startKuraProcess({ KURA_STORE: 'memory' });
  scratch = await mkdtemp(join(tmpdir(), 'kura-openapi-lint-'));
});
afterAll(async () => {
  await kura?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function saved(name: string, document: string): Promise<string> {
  const file = join(scratch, name);
  await writeFile(file, document);
  return file;
}

it('serves a document with no error and no warning from Spectral (oas, OWASP) or Redocly (recommended)', async () => {
  const response = await fetch(`${kura.baseUrl}/docs/openapi.json`);
  const document = await saved('openapi.json', await response.text());

  const findings = (await lintApiDocument(document)).filter((found) => found.severity === 'error' || found.severity === 'warning');

  // Compared as text, so a failure prints every finding with its rule and place.
  expect(describeFindings(findings)).toBe(describeFindings([]));
});

it('really runs the OWASP rules and Redocly: a document without limits or security gets their errors', async () => {
  const careless = {
    openapi: '3.0.3',
    info: { title: 'careless', version: '1', license: { name: 'MIT' } },
    servers: [{ url: '/' }],
    paths: {
      '/notes': {
        post: {
          operationId: 'addNotes',
          requestBody: {
            content: { 'application/json': { schema: { type: 'array', items: { type: 'object', properties: { text: { type: 'string' }, stars: { type: 'integer' } } } } } },
          },
          responses: { '204': { description: 'Added.' } },
        },
      },
    },
  };
  const document = await saved('careless.json', JSON.stringify(careless));

  const rules = new Set((await lintApiDocument(document)).map((found) => `${found.tool} ${found.rule}`));

  expect([...rules]).toEqual(
    expect.arrayContaining([
      'spectral owasp:api4:2023-string-limit',
      'spectral owasp:api4:2023-array-limit',
      'spectral owasp:api4:2023-integer-format',
      'spectral owasp:api2:2023-write-restricted',
      'spectral owasp:api9:2023-inventory-access',
      'redocly security-defined',
    ]),
  );
});
