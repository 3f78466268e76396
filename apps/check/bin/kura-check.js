#!/usr/bin/env node
// kura-check <scenario.yaml|json> [--quick] [--json] [--report file.md] [--replicas N] [--users N] [--host-base N] [--shared-files]
// kura-check --version | --help
// Exit code 0: stateless. 1: not stateless (the verdict says how), or a logout that does not end the session. 2: could not judge (said in one line).
import { readFileSync } from 'node:fs';
import { access, constants, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runCheck } from '../src/run.js';
import { toJSON, toMarkdown, toSvg, toText } from '../src/report.js';
import { CannotJudge, loadScenario } from '../src/scenario.js';
import { EXIT } from '../src/verdict.js';

/** This package's version, from its package.json (the one installed with it, in the repository or from its tarball). */
const { version: VERSION } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

const USAGE = `usage: kura-check <scenario.yaml|json> [--quick] [--json] [--report file.md] [--replicas N] [--users N] [--host-base N] [--shared-files]
       kura-check --version | --help
  --quick        a short run (6-20 s, as the app starts), for CI
  --json         print one JSON object (verdict, phases, counts, evidence) instead of the table
  --report FILE  also write a Markdown report, and beside it an SVG chart (FILE.svg)
  --replicas N   override the scenario's replicas (2-9)
  --users N      virtual users per balancer (default 8, --quick 4)
  --host-base N  replicas on 127.0.0.N, N+1, ... (replacements on 127.0.1.N, ...) and the balancer on 127.0.0.(N-1) (default 11)
  --shared-files replicas write to this machine's own files outside their folders, as one process would (default:
                 each replica's own view, as a pod's; see the README)
  --version      print kura-check's version (${VERSION}) and exit
  --help, -h     print this and exit
exit code: 0 stateless, 1 not stateless (or, with the scenario's logout, a logout that leaves the session usable), 2 could not judge`;

let args;
try {
  args = parseArgs({
    allowPositionals: true,
    options: {
      quick: { type: 'boolean' },
      json: { type: 'boolean' },
      report: { type: 'string' },
      replicas: { type: 'string' },
      users: { type: 'string' },
      'host-base': { type: 'string' },
      'shared-files': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
  });
} catch (error) {
  process.stderr.write(`kura-check: ${error.message}\n${USAGE}\n`);
  process.exit(EXIT.cannotJudge);
}
const { values, positionals } = args;
if (values.version) {
  process.stdout.write(`${VERSION}\n`);
  process.exit(0);
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (positionals.length !== 1) {
  process.stderr.write(`kura-check: give one scenario file\n${USAGE}\n`);
  process.exit(EXIT.cannotJudge);
}
const integer = (name, min, max) => {
  if (values[name] === undefined) return undefined;
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < min || n > max) throw new CannotJudge(`--${name} must be a whole number from ${min} to ${max}`);
  return n;
};

// A reader that went away (`kura-check … | head`) makes every later write fail with EPIPE, which unhandled ended
// kura-check at once and left its replicas and balancers running. What no one reads is dropped; the run goes on
// and cleans up after itself.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
const progress = (line) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ▸ ${line}\n`);
/**
 * Ctrl-C, a CI job's timeout (SIGTERM), a closed terminal: said as "could not judge" is, with the signal's exit
 * code, while kura-check stops what it started; the run's own ending then prints nothing.
 */
let stopping = false;
const interrupted = (signal, exitCode) => {
  stopping = true;
  const message = `interrupted (${signal}) before a verdict: stopping every replica and balancer it started`;
  if (values.json) process.stdout.write(`${JSON.stringify({ tool: 'kura-check', verdict: null, exitCode, error: message })}\n`);
  process.stderr.write(`kura-check: ${message}\n`);
};
/** The run and its one result on stdout; nothing once interrupted (said when it came, and what it broke is not what the app did). */
async function main() {
  try {
    const options = { quick: values.quick, replicas: integer('replicas', 2, 9), users: integer('users', 1, 200), hostBase: integer('host-base', 2, 250), sharedFiles: values['shared-files'], progress, interrupted };
    const scenario = await loadScenario(positionals[0]);
    // Before the run, not after it: a report that cannot be written would throw the run's result away.
    if (values.report) {
      const isFolder = values.report.endsWith('/') || (await stat(values.report).then((s) => s.isDirectory(), () => false));
      if (isFolder) throw new CannotJudge(`--report ${values.report} is a folder: give a file name, e.g. ${join(values.report, 'report.md')}`);
      const folder = dirname(resolve(values.report));
      await access(folder, constants.W_OK).catch(() => {
        throw new CannotJudge(`cannot write the report in ${folder}: no such folder, or not writable`);
      });
    }
    options.replicas ??= scenario.replicas;
    if (options.hostBase !== undefined && options.hostBase + options.replicas > 255) throw new CannotJudge('--host-base leaves no room for the replicas below 127.0.0.255');
    const json = toJSON(scenario, await runCheck(scenario, options));
    if (stopping) return;
    // The report first: the result is printed once, after anything that could still fail.
    if (values.report) {
      const svg = values.report.replace(/(\.md)?$/, '.svg');
      await writeFile(svg, toSvg(json));
      await writeFile(values.report, toMarkdown(json, { scenarioFile: positionals[0], chart: basename(svg) }));
      progress(`report: ${values.report} and ${svg}`);
    }
    process.stdout.write(values.json ? `${JSON.stringify(json, null, 2)}\n` : `${toText(json)}\n`);
    process.exitCode = json.exitCode;
  } catch (error) {
    if (stopping) return;
    // Anything unforeseen is also "could not judge" (2), never a verdict: 1 would read as "not stateless".
    const message = error instanceof CannotJudge ? error.message : `internal error: ${error.stack}`;
    if (values.json) process.stdout.write(`${JSON.stringify({ tool: 'kura-check', verdict: null, exitCode: EXIT.cannotJudge, error: message })}\n`);
    process.stderr.write(`kura-check: could not judge: ${message}\n`);
    process.exitCode = EXIT.cannotJudge;
  }
}
await main();
