// Lints the OpenAPI document Kura serves with the linters API people use: Spectral with `spectral:oas` and the
// OWASP API Security Top 10 ruleset (`.spectral.mjs`), and Redocly CLI's recommended rules (`redocly.yaml`).
// Both run from this project's node_modules and read nothing from the network.
//
// Usage: npm run lint:api          builds, starts Kura on the in-memory store, lints its /docs/openapi.json
//        node scripts/lint-api.mjs FILE   lints a saved document
// Prints every finding; exits 1 when there is an error or a warning.
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// Each CLI's entry point, run on this Node (the project's own, from npm scripts and tests).
const SPECTRAL = join(ROOT, 'node_modules/@stoplight/spectral-cli/dist/index.js');
const REDOCLY = join(ROOT, 'node_modules/@redocly/cli/bin/cli.js');
const SPECTRAL_SEVERITIES = ['error', 'warning', 'info', 'hint'];

/** One finding of either linter, in one shape. */
function finding(tool, severity, rule, where, message) {
  return { tool, severity, rule, where, message };
}

function run(cli, args, env = {}) {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

async function spectral(document, scratch) {
  const output = join(scratch, 'spectral.json');
  const { stderr } = await run(SPECTRAL, ['lint', document, '--ruleset', join(ROOT, '.spectral.mjs'), '--format', 'json', '--output', output, '--quiet']);
  const results = JSON.parse(await readFile(output, 'utf8').catch(() => {
    throw new Error(`spectral wrote no results:\n${stderr}`);
  }));
  return results.map((result) => finding('spectral', SPECTRAL_SEVERITIES[result.severity], result.code, result.path.join('.'), result.message));
}

async function redocly(document) {
  // No telemetry and no update check: the only network these machines allow is the npm registry.
  const env = { REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' };
  const { stdout, stderr } = await run(REDOCLY, ['lint', document, '--config', join(ROOT, 'redocly.yaml'), '--format', 'json'], env);
  let report;
  try {
    report = JSON.parse(stdout);
  } catch {
    throw new Error(`redocly printed no report:\n${stdout}\n${stderr}`);
  }
  return report.problems.map((problem) =>
    finding('redocly', problem.severity === 'warn' ? 'warning' : problem.severity, problem.ruleId, problem.location?.[0]?.pointer ?? '', problem.message),
  );
}

/** Every finding of both linters on the OpenAPI document in `document` (a file path). */
export async function lintApiDocument(document) {
  const scratch = await mkdtemp(join(tmpdir(), 'kura-lint-'));
  try {
    const [fromSpectral, fromRedocly] = await Promise.all([spectral(document, scratch), redocly(document)]);
    return [...fromSpectral, ...fromRedocly];
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Counts per tool and severity, then one line per finding. */
export function describeFindings(findings) {
  const lines = [];
  for (const tool of ['spectral', 'redocly']) {
    const mine = findings.filter((found) => found.tool === tool);
    const count = (severity) => mine.filter((found) => found.severity === severity).length;
    lines.push(`${tool}: ${count('error')} errors, ${count('warning')} warnings, ${count('info') + count('hint')} notes`);
  }
  for (const { tool, severity, rule, where, message } of findings) lines.push(`  ${tool} ${severity} ${rule} at ${where}: ${message}`);
  return lines.join('\n');
}

/** Starts the built Kura on the in-memory store and a free port, and fetches its document. */
async function servedDocument() {
  const child = spawn(process.execPath, [join(ROOT, 'dist/apps/api/src/main.js')], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', KURA_STORE: 'memory', KURA_SHUTDOWN_DRAIN_SECONDS: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let output = '';
    const baseUrl = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Kura did not start within 30 s:\n${output}`)), 30_000);
      const read = (chunk) => {
        output += chunk;
        const match = /listening on (http:\/\/\S+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      child.stdout.on('data', read);
      child.stderr.on('data', read);
      child.once('exit', (code) => reject(new Error(`Kura exited with ${code}:\n${output}`)));
    });
    return await (await fetch(`${baseUrl}/docs/openapi.json`)).text();
  } finally {
    child.kill('SIGINT');
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let document = process.argv[2];
  if (!document) {
    document = join(ROOT, 'reports', 'openapi.json');
    await mkdir(join(ROOT, 'reports'), { recursive: true });
    await writeFile(document, await servedDocument());
    console.log(`lint-api: the document Kura serves, saved as ${document}`);
  }
  const findings = await lintApiDocument(document);
  console.log(describeFindings(findings));
  process.exitCode = findings.some((found) => found.severity === 'error' || found.severity === 'warning') ? 1 : 0;
}
