// Bundles the Lambda handler into one ESM file. It bundles the SWC output in dist/ (already compiled with
// decorator metadata, which esbuild alone would drop) rather than the TypeScript sources.
import { build } from 'esbuild';
import { rm, stat } from 'node:fs/promises';

const outdir = '.build/lambda';
await rm(outdir, { recursive: true, force: true });
const result = await build({
  entryPoints: { index: 'dist/apps/api/src/lambda.js' },
  outdir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  // Prefer the ES module builds (rxjs, the AWS SDK, ...) so unused exports are dropped.
  mainFields: ['module', 'main'],
  // rxjs maps its `node` condition to CommonJS, which cannot be tree-shaken: take its ES module build.
  alias: {
    rxjs: './node_modules/rxjs/dist/esm/index.js',
    'rxjs/operators': './node_modules/rxjs/dist/esm/operators/index.js',
  },
  format: 'esm',
  target: 'node24',
  minify: true,
  keepNames: true, // Nest resolves providers and logs contexts by class name
  sourcemap: false,
  legalComments: 'none',
  metafile: true,
  // CommonJS dependencies inside an ESM bundle still call require() for Node built-ins.
  banner: { js: "import { createRequire as __kuraRequire } from 'node:module'; const require = __kuraRequire(import.meta.url);" },
  // Optional peers Nest and its modules load only when used; Kura uses none of them.
  external: [
    '@nestjs/microservices',
    '@nestjs/microservices/*',
    '@nestjs/websockets',
    '@nestjs/websockets/*',
    '@nestjs/platform-express',
    'class-validator',
    'class-transformer',
    'class-transformer/*',
    '@grpc/*',
    '@mikro-orm/*',
    '@prisma/client',
    'mongoose',
    'sequelize',
    'typeorm',
    '@nestjs/typeorm',
    '@nestjs/mongoose',
    '@nestjs/sequelize',
    '@nestjs/axios',
    '@fastify/view',
    'fastify-swagger',
    '@fastify/multipart',
    '@nestjs/observe',
    // The explorer UI's static files: the Lambda serves the OpenAPI document only (KURA_DOCS_UI=false).
    '@fastify/static',
  ],
  logLevel: 'warning',
});
const { size } = await stat(`${outdir}/index.mjs`);
console.log(`bundle: ${outdir}/index.mjs ${(size / 1024).toFixed(0)} KiB`);
if (process.argv.includes('--analyze')) console.log(await (await import('esbuild')).analyzeMetafile(result.metafile));
