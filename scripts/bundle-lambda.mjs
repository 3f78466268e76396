// Bundles the Lambda handler into one ESM file. It bundles the SWC output in dist/ (already compiled with
// decorator metadata, which esbuild alone would drop) rather than the TypeScript sources.
import { build } from 'esbuild';
import { rm, stat, writeFile } from 'node:fs/promises';
import { lambdaBundleOptions } from './lambda-bundle-options.mjs';

const outdir = '.build/lambda';
await rm(outdir, { recursive: true, force: true });
const result = await build({
  ...lambdaBundleOptions,
  entryPoints: { index: 'dist/apps/api/src/lambda.js' },
  outdir,
  outExtension: { '.js': '.mjs' },
  // Redis's client (node-redis) is imported only when KURA_STORE=redis: a chunk of its own, loaded then.
  splitting: true,
  inject: ['scripts/bundle-stubs/reflect-metadata-first.mjs'],
  chunkNames: 'chunks/[name]-[hash]',
  metafile: true,
});
const { size } = await stat(`${outdir}/index.mjs`);
console.log(`bundle: ${outdir}/index.mjs ${(size / 1024).toFixed(0)} KiB`);
// What went into the bundle, for `esbuild --analyze`-style inspection (not part of the package).
await writeFile('.build/lambda-meta.json', JSON.stringify(result.metafile));
if (process.argv.includes('--analyze')) console.log(await (await import('esbuild')).analyzeMetafile(result.metafile));
