// Bundles the Lambda handler: .build/lambda/app.mjs (one ESM file with only what Kura uses) and its chunks, the
// entry index.mjs (scripts/lambda-loader.mjs: turns the compile cache on, loads app.mjs), and the compile cache
// made by one warm-up cold start (scripts/lambda-compile-cache.mjs). It bundles the SWC output in dist/ (already
// compiled with decorator metadata, which esbuild alone would drop) rather than the TypeScript sources.
// Usage: node scripts/bundle-lambda.mjs [--analyze]   KURA_COMPILE_CACHE_NODE=/path/to/node picks the Node that
// makes the cache (default: this one), KURA_COMPILE_CACHE_UID the user it is for (default: this one),
// KURA_COMPILE_CACHE=false ships none (docs/lambda.md, "Compile cache").
import { execFile } from 'node:child_process';
import { chmod, copyFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildLambdaBundle, lambdaHandlerOptions } from './lambda-bundle-options.mjs';

const outdir = '.build/lambda';
await rm(outdir, { recursive: true, force: true });
const result = await buildLambdaBundle({ ...lambdaHandlerOptions(outdir), metafile: true });
const dropped = Object.values(result.namesDropped).reduce((sum, count) => sum + count, 0);
console.log(`names: ${dropped} dropped from packages that read none (scripts/bundle-names.mjs)`);
await copyFile('scripts/lambda-loader.mjs', `${outdir}/index.mjs`);
const { size } = await stat(`${outdir}/app.mjs`);
console.log(`bundle: ${outdir}/app.mjs ${(size / 1024).toFixed(0)} KiB`);
// What went into the bundle, for `esbuild --analyze`-style inspection (not part of the package).
await writeFile('.build/lambda-meta.json', JSON.stringify(result.metafile));
if (process.argv.includes('--analyze')) console.log(await (await import('esbuild')).analyzeMetafile(result.metafile));

if (process.env.KURA_COMPILE_CACHE !== 'false') {
  const node = process.env.KURA_COMPILE_CACHE_NODE || process.execPath;
  await promisify(execFile)(node, ['scripts/lambda-compile-cache.mjs', `${outdir}/index.mjs`], { env: { PATH: process.env.PATH ?? '' } });
  // Node names the cache's folder for the user that made it, and reads only the folder named for its own user:
  // KURA_COMPILE_CACHE_UID names it for the user the function runs as (the bytecode does not depend on it).
  const uid = process.env.KURA_COMPILE_CACHE_UID;
  if (uid) {
    for (const tag of await readdir(`${outdir}/compile-cache`)) {
      await rename(`${outdir}/compile-cache/${tag}`, `${outdir}/compile-cache/${tag.replace(/-\d+$/, `-${Number(uid)}`)}`);
    }
  }
  // Node writes the cache for its own user only (0600); Lambda runs the function as another user, who must read it.
  for (const entry of await readdir(`${outdir}/compile-cache`, { recursive: true, withFileTypes: true })) {
    await chmod(join(entry.parentPath, entry.name), entry.isDirectory() ? 0o755 : 0o644);
  }
  console.log(`compile cache: ${outdir}/compile-cache (${(await promisify(execFile)(node, ['-p', 'process.version + " " + process.arch'])).stdout.trim()})`);
}
