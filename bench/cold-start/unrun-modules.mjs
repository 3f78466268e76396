// Which code of the Lambda cold path is loaded but never run: the CommonJS modules (and lazily initialised ES
// modules) that Kura's bundle carries but that a cold start and its first requests never initialise. esbuild wraps
// each such module in a function that runs on its first `require` (`__commonJS`, `__esm`); this script bundles the
// handler exactly as `npm run bundle` does but unminified, makes those two helpers record each module they
// initialise, runs the warm-up that makes the compile cache (scripts/lambda-compile-cache.mjs: a cold start and
// three requests against a stand-in DynamoDB), and prints the modules never initialised with their minified size
// in the cold path (from `npm run bundle`'s metafile). ES modules that esbuild does not wrap always run, so they are
// not listed. Found Fastify's pino logger this way (67 KiB, now in a file of its own).
// Usage: npm run bundle && node bench/cold-start/unrun-modules.mjs
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { lambdaHandlerOptions } from '../../scripts/lambda-bundle-options.mjs';
import { coldStartFiles } from '../../scripts/lambda-bundle-files.mjs';

const root = new URL('../../', import.meta.url).pathname;
const outdir = await mkdtemp(join(tmpdir(), 'kura-unrun-'));
const record = join(outdir, 'initialised.json');
try {
  await build({ ...lambdaHandlerOptions(outdir), minify: false });
  const files = ['app.mjs', ...(await readdir(join(outdir, 'chunks'))).map((file) => join('chunks', file))];
  const wrapped = new Set();
  let patched = 0;
  const note = (name) => `(globalThis.__kuraInitialised ??= new Set()).add(__getOwnPropNames(${name})[0]);`;
  const dump = `process.once('exit', () => require('node:fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify([...(globalThis.__kuraInitialised ?? [])])));\n`;
  for (const file of files) {
    const path = join(outdir, file);
    let code = await readFile(path, 'utf8');
    for (const match of code.matchAll(/(?:__commonJS|__esm)\(\{\n\s*"([^"]+)"\(/g)) wrapped.add(match[1]);
    const esm = 'var __esm = (fn, res, err) => function __init() {\n';
    const cjs = 'var __commonJS = (cb, mod) => function __require2() {\n';
    if (code.includes(esm) && code.includes(cjs)) {
      code = code.replace(esm, `${dump}${esm}  if (fn) ${note('fn')}\n`).replace(cjs, `${cjs}  if (!mod) ${note('cb')}\n`);
      patched += 1;
    }
    await writeFile(path, code);
  }
  if (patched !== 1) throw new Error(`expected esbuild's module helpers in exactly one file, found them in ${patched}`);
  await copyFile(join(root, 'scripts/lambda-loader.mjs'), join(outdir, 'index.mjs'));
  await promisify(execFile)(process.execPath, [join(root, 'scripts/lambda-compile-cache.mjs'), join(outdir, 'index.mjs')], { env: { PATH: process.env.PATH ?? '' } });
  const initialised = new Set(JSON.parse(await readFile(record, 'utf8')));

  // Minified bytes of each input in the cold path of the real bundle.
  const meta = JSON.parse(await readFile(join(root, '.build/lambda-meta.json'), 'utf8'));
  const coldPath = new Set((await coldStartFiles(root)).files);
  const bytes = new Map();
  for (const [output, { inputs }] of Object.entries(meta.outputs)) {
    if (!coldPath.has(output)) continue;
    for (const [input, { bytesInOutput }] of Object.entries(inputs)) bytes.set(input, (bytes.get(input) ?? 0) + bytesInOutput);
  }
  const byPackage = new Map();
  for (const module of wrapped) {
    if (initialised.has(module) || !bytes.get(module)) continue;
    const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(module)?.[1] ?? module;
    byPackage.set(name, (byPackage.get(name) ?? 0) + bytes.get(module));
  }
  const total = [...byPackage.values()].reduce((sum, size) => sum + size, 0);
  console.log(`${wrapped.size} wrapped modules, ${initialised.size} initialised by a cold start and its first requests`);
  console.log(`never initialised, in the cold path: ${(total / 1024).toFixed(1)} KiB`);
  for (const [name, size] of [...byPackage].sort((a, b) => b[1] - a[1])) console.log(`${(size / 1024).toFixed(1).padStart(8)} KiB  ${name}`);
} finally {
  await rm(outdir, { recursive: true, force: true });
}
