// How Kura's Lambda handler is bundled: one ESM file with only what Kura uses. Shared by `npm run bundle`
// (scripts/bundle-lambda.mjs) and by the cold-start benchmark, whose plain-Fastify baseline is bundled with exactly
// the same options so that the comparison measures the code, not the bundling.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { dropUnneededNamesIn } from './bundle-names.mjs';

/**
 * `import ... from 'node:http'` in an ES module makes Node build the module's ES facade, which reads every export,
 * including the lazy `WebSocket`, `CloseEvent` and `MessageEvent` getters, which load all of undici (measured:
 * about 25 ms of a 280 ms cold start). The AWS SDK's HTTP handler imports `node:http` that way, with `import()` for
 * an http:// endpoint (DynamoDB Local, dynalite, serverless-offline; AWS's own endpoints are https). This plugin hands
 * those imports, static and dynamic, the CommonJS module instead, with the same named exports except the three lazy ones (still
 * reachable on the default export). Hand-written because no bundler option or plugin does this.
 */
const lazyHttpExports = new Set(['WebSocket', 'CloseEvent', 'MessageEvent']);
const httpWithoutUndici = {
  name: 'http-without-undici',
  setup(build) {
    build.onResolve({ filter: /^(node:)?http$/ }, (args) =>
      args.kind === 'import-statement' || args.kind === 'dynamic-import' ? { path: 'node:http', namespace: 'http-without-undici' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'http-without-undici' }, () => {
      const names = Object.keys(createRequire(import.meta.url)('node:http')).filter((name) => !lazyHttpExports.has(name));
      return {
        contents: `const http = require('node:http');\nexport default http;\nexport const { ${names.join(', ')} } = http;\n`,
        loader: 'js',
      };
    });
  },
};

/**
 * @nestjs/swagger declares no `sideEffects`, so esbuild keeps every module its index re-exports, the document
 * scanner and schema converters included, although Kura's routes use only its decorators at load. Its modules
 * only define classes and functions (the one assignment at load, `SwaggerModule.metadataLoader`, concerns
 * SwaggerModule alone), so they are marked free of side effects: what the decorators need stays in the bundle,
 * the document builder goes to the chunk that builds the document on its first request. (The server's bundle; the
 * Lambda's has no Swagger at all, see `prebuiltOpenApi`.)
 */
const swaggerWithoutSideEffects = {
  name: 'swagger-without-side-effects',
  setup(build) {
    build.onResolve({ filter: /^@nestjs\/swagger$/ }, async (args) => {
      if (args.pluginData?.swagger) return undefined;
      const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { swagger: true } });
      return { ...resolved, sideEffects: false };
    });
    build.onResolve({ filter: /^\.\.?\// }, async (args) => {
      if (args.pluginData?.swagger || !args.importer.includes('/node_modules/@nestjs/swagger/')) return undefined;
      const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { swagger: true } });
      return { ...resolved, sideEffects: false };
    });
  },
};

/**
 * Kura's own libraries (their SWC output under dist/libs/) do nothing when loaded but define classes, functions and
 * constants: no file of theirs is imported for its effects. They declare no `sideEffects` to the bundler (the bundle
 * reaches them through relative paths, past every package.json but the repository's), so esbuild kept every module
 * an index re-exports, used or not: @kura/session's `SessionErrorFilter`, for apps without a filter of their own,
 * took the cold path past 1.0 MB (by 1.4 KB) though Kura's API never loads it. Marked free of side effects, a module
 * of theirs is bundled only when something uses what it exports.
 */
export const kuraLibsWithoutSideEffects = {
  name: 'kura-libs-without-side-effects',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, async (args) => {
      // Only imports made by the build's own output (dist/): never a package's (the Swagger plugin resolves those,
      // and each resolving the other's imports again would never end).
      if (args.pluginData?.kuraLib || !args.importer.includes('/dist/') || args.importer.includes('/node_modules/')) return undefined;
      const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { kuraLib: true } });
      return resolved.path.includes('/dist/libs/') ? { ...resolved, sideEffects: false } : undefined;
    });
  },
};

/**
 * Fastify requires pino (with its worker-thread transport, sonic-boom, redaction and serializers: 67 KiB minified)
 * only when its own logger is turned on (`logger` or `loggerInstance`), which Kura never does: Kura logs through
 * Nest's logger, and the references of the benchmarks through none. esbuild bundles every `require()` it finds,
 * called or not, so a cold start read those bytes for nothing. This plugin puts that part of Fastify
 * (`lib/logger-pino.js` and what it needs) in a file of its own beside the chunks, `chunks/fastify-logger.mjs`,
 * which Fastify's `require('./logger-pino.js')` loads (Node's `require` of an ES module) the first time a logger is
 * turned on. Found by recording which CommonJS modules of the cold path a cold start and its first requests
 * initialise (bench/cold-start/unrun-modules.mjs): these were the only ones never initialised. Hand-written because
 * no bundler option or plugin splits at a `require()`.
 */
const LOGGER_FILE = 'fastify-logger.mjs';
const fastifyLoggerApart = {
  name: 'fastify-logger-apart',
  setup(build) {
    let used = false;
    let loggerPino;
    build.onResolve({ filter: /^\.\/logger-pino(\.js)?$/ }, (args) => {
      if (!/[\\/]node_modules[\\/]fastify[\\/]lib[\\/]logger-factory\.js$/.test(args.importer)) return undefined;
      used = true;
      loggerPino = join(args.resolveDir, 'logger-pino.js');
      return { path: loggerPino, namespace: 'fastify-logger-apart' };
    });
    build.onLoad({ filter: /.*/, namespace: 'fastify-logger-apart' }, (args) => {
      // The names Fastify takes from the module, read from the module itself.
      const names = Object.keys(createRequire(import.meta.url)(args.path));
      return {
        contents:
          `import { createRequire } from 'node:module';\n` +
          `const here = new URL(import.meta.url);\n` +
          // The code lands in the entry's file or in a chunk (chunks/...): the logger file is in chunks/ either way.
          `const file = /\\/chunks\\/[^/]+$/.test(here.pathname) ? './${LOGGER_FILE}' : './chunks/${LOGGER_FILE}';\n` +
          `const logger = createRequire(here)(file).default;\n` +
          `export const { ${names.join(', ')} } = logger;\n`,
        loader: 'js',
        resolveDir: dirname(args.path),
      };
    });
    build.onEnd(async (result) => {
      if (!used || result.errors.length > 0) return;
      const { outdir, outfile } = build.initialOptions;
      const folder = join(outdir ?? dirname(outfile), 'chunks');
      // The same options as the bundle it belongs to, as one file.
      const { outdir: _dir, outfile: _file, outExtension: _ext, splitting: _split, chunkNames: _chunks, inject: _inject, metafile: _meta, ...same } = build.initialOptions;
      await build.esbuild.build({ ...same, plugins: [], entryPoints: [loggerPino], outfile: join(folder, LOGGER_FILE) });
    });
  },
};

/**
 * The Lambda serves the OpenAPI document but not the explorer (KURA_DOCS_UI=false), and the document is the same
 * for every function built from the same code: only the session cookie's name comes from the configuration. So
 * the Lambda bundle carries the document, built once at bundle time by scripts/openapi-document.mjs from the same
 * routes, and @nestjs/swagger's decorators are erased from it: they only record metadata for a document builder
 * the Lambda no longer runs. Measured: 57 KiB less for a cold start to load (Swagger's decorators, es-toolkit, and
 * zod's JSON Schema generator, which only the document builder used) and about 24 M fewer instructions (2%,
 * BENCHMARKS.md). The document module (`openapi/openapi-document.js`, loaded on the document's first request) is
 * replaced by one that serves the carried document with the function's cookie name. test/lambda-package checks
 * that the Lambda serves what the server serves, with a cookie name of its own. Hand-written: no bundler plugin
 * does this. A Swagger name other than a decorator (`Api...`) in the Lambda's code fails the build.
 */
const COOKIE_NAME_PLACEHOLDER = 'kura-cookie-name-at-run-time';
/** What an OpenAPI decorator's call becomes in the Lambda's code: a decorator that does nothing, with no arguments. */
const ERASED = '__kuraOpenApiErased';

/**
 * The Lambda's app code with every call of an OpenAPI decorator (`Api...`: Swagger's, and Kura's own wrappers of them
 * such as `ApiProblem`) left out of the decorators it was listed among, or elsewhere made a no-op without arguments: their summaries, descriptions and the schemas only the
 * document names are in the prebuilt document already, and would otherwise be parsed on every cold start. Rewritten
 * on swc's syntax tree (what builds `dist`), not by pattern: a description may hold any character.
 */
async function withoutOpenApiArguments(path) {
  const source = await readFile(path, 'utf8');
  if (!/\bApi[A-Z]\w*\(/.test(source)) return undefined;
  const { parseSync, printSync } = await import('@swc/core');
  const tree = parseSync(source, { syntax: 'ecmascript' });
  let erased = 0;
  let dropped = 0;
  const isOpenApiCall = (node) => node?.type === 'CallExpression' && node.callee?.type === 'Identifier' && /^Api[A-Z]/.test(node.callee.value);
  const visit = (node) => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    // In a class's or a method's list of decorators (`_ts_decorate([...], ...)`, as swc writes them), the call is
    // left out altogether: a no-op in its place still costs its bytes on every cold start (about 5 each, 90 of them).
    const list = node.type === 'CallExpression' && node.callee?.type === 'Identifier' && node.callee.value === '_ts_decorate' ? node.arguments[0]?.expression : undefined;
    if (list?.type === 'ArrayExpression') {
      const kept = list.elements.filter((element) => !(element && !element.spread && isOpenApiCall(element.expression)));
      dropped += list.elements.length - kept.length;
      list.elements = kept;
    }
    if (isOpenApiCall(node)) {
      node.callee = { ...node.callee, value: ERASED };
      node.arguments = [];
      erased += 1;
    }
    for (const key of Object.keys(node)) if (key !== 'span') visit(node[key]);
  };
  visit(tree);
  if (erased + dropped === 0) return undefined;
  return { contents: `${erased > 0 ? `const ${ERASED} = () => () => undefined;\n` : ''}${printSync(tree).code}`, loader: 'js' };
}

const prebuiltOpenApi = {
  name: 'prebuilt-openapi',
  setup(build) {
    build.onLoad({ filter: /[\\/]dist[\\/]apps[\\/]api[\\/]src[\\/].*\.js$/ }, (args) => withoutOpenApiArguments(args.path));
    build.onResolve({ filter: /^@nestjs\/swagger$/ }, () => ({ path: '@nestjs/swagger', namespace: 'swagger-decorators-erased' }));
    build.onLoad({ filter: /.*/, namespace: 'swagger-decorators-erased' }, async () => {
      const decorators = Object.keys(await import('@nestjs/swagger')).filter((name) => /^Api[A-Z]/.test(name));
      return { contents: `const erased = () => () => undefined;\nexport const ${decorators.map((name) => `${name} = erased`).join(', ')};\n`, loader: 'js' };
    });
    build.onResolve({ filter: /^\.\/openapi-document\.js$/ }, (args) =>
      /[\\/]openapi[\\/]openapi\.js$/.test(args.importer) ? { path: join(args.resolveDir, 'openapi-document.js'), namespace: 'openapi-prebuilt' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'openapi-prebuilt' }, async () => {
      const scratch = await mkdtemp(join(tmpdir(), 'kura-openapi-'));
      try {
        const file = join(scratch, 'openapi.json');
        await promisify(execFile)(process.execPath, [new URL('./openapi-document.mjs', import.meta.url).pathname, file, COOKIE_NAME_PLACEHOLDER], {
          env: { PATH: process.env.PATH ?? '' },
        });
        const text = await readFile(file, 'utf8');
        return {
          contents:
            `const document = ${JSON.stringify(text)};\n` +
            `export function buildOpenApiDocument(_app, cookieName) {\n` +
            `  return JSON.parse(document.replaceAll(${JSON.stringify(JSON.stringify(COOKIE_NAME_PLACEHOLDER))}, JSON.stringify(cookieName)));\n` +
            `}\n` +
            `export function serveExplorer() {\n` +
            `  throw new Error('The Lambda bundle serves the OpenAPI document, not the explorer: set KURA_DOCS_UI=false');\n` +
            `}\n`,
          loader: 'js',
        };
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    });
  },
};

/**
 * find-my-way (Fastify's router) checks every regular expression in a route with safe-regex2, which parses it with
 * ret (15 KiB together), and checks three patterns of its own when it loads. Kura's routes have no regular
 * expression. This plugin gives find-my-way, in place of safe-regex2, a table of the patterns it checks when it
 * loads, each found safe by the real safe-regex2 at bundle time (in a child process that loads find-my-way with a
 * recording safe-regex2), and an error for any other pattern: a route with a regular expression fails at start,
 * saying why, rather than go unchecked. Hand-written: no bundler option does this.
 */
export const safeRegexAtBundleTime = {
  name: 'safe-regex-at-bundle-time',
  setup(build) {
    build.onResolve({ filter: /^safe-regex2$/ }, (args) =>
      /[\\/]node_modules[\\/]find-my-way[\\/]/.test(args.importer) ? { path: args.importer, namespace: 'safe-regex-at-bundle-time' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'safe-regex-at-bundle-time' }, async (args) => {
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=commonjs', '-e', PATTERNS_CHECKED_AT_LOAD, args.path], { env: { PATH: process.env.PATH ?? '' } });
      const checked = JSON.parse(stdout);
      const unsafe = checked.filter(([, safe]) => !safe);
      if (checked.length === 0 || unsafe.length > 0) throw new Error(`find-my-way checked ${checked.length} pattern(s) when it loaded, unsafe: ${JSON.stringify(unsafe)}`);
      return {
        contents:
          `const checked = new Set(${JSON.stringify(checked.map(([pattern]) => pattern))});\n` +
          `module.exports = function isRegexSafe(re) {\n` +
          `  if (checked.has(String(re))) return true;\n` +
          `  throw new Error('Kura\\'s Lambda bundle has no ReDoS check for regular expressions in routes (none of its routes has one): ' + re);\n` +
          `};\n`,
        loader: 'js',
      };
    });
  },
};
// Run with find-my-way's path: prints the patterns it hands safe-regex2 when it loads, with the real verdicts.
const PATTERNS_CHECKED_AT_LOAD = `
  const { dirname } = require('node:path');
  const importer = process.argv[1];
  const real = require.resolve('safe-regex2', { paths: [dirname(importer)] });
  const isRegexSafe = require(real);
  const seen = [];
  require.cache[real] = { id: real, filename: real, loaded: true, exports: (re) => { const safe = isRegexSafe(re); seen.push([String(re), safe]); return safe; } };
  require(importer);
  process.stdout.write(JSON.stringify(seen));
`;

/**
 * light-my-request checks the options of every `inject` against a JSON schema (its compiled validator: 16 KiB)
 * unless told `validate: false`. Kura's Lambda handler injects each event through @fastify/aws-lambda, which builds
 * those options itself, and passes `validate: false` (apps/api/src/lambda.ts, `withUnvalidatedInject`). So Kura's
 * bundle carries, in the validator's place, an error for a call that did not.
 */
const injectValidatorLeftOut = {
  name: 'inject-validator-left-out',
  setup(build) {
    build.onResolve({ filter: /^\.\/lib\/config-validator(\.js)?$/ }, (args) =>
      /[\\/]node_modules[\\/]light-my-request[\\/]index\.js$/.test(args.importer) ? { path: args.importer, namespace: 'inject-validator-left-out' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'inject-validator-left-out' }, () => ({
      contents: `module.exports = function validate() {\n  throw new Error('Kura\\'s Lambda bundle leaves out light-my-request\\'s option validator: inject with validate: false');\n};\n`,
      loader: 'js',
    }));
  },
};

/**
 * Parts of NestJS on Fastify that Kura's app never reaches, left out of the Lambda bundle, each replaced by an error
 * that says so if something reaches it after all (test/bundle-left-out):
 * - @fastify/middie, which runs Nest middleware on Fastify (11 KB with its own path-to-regexp 9, beside Nest's 8):
 *   Kura has no Nest middleware, and its FastifyAdapter says so (`skipMiddie: true`, apps/api/src/app.factory.ts),
 *   so Nest never registers it;
 * - NestJS 12.6's opt-in security features, `useSecurityHeaders()` and `enableCsrfProtection()` (12 KB): Kura sets
 *   its own security headers and refuses cross-site requests itself (docs/how-it-works.md), and calls neither.
 * The upgrade to NestJS 12.6.3 and @fastify/middie 9.3.9 took what a cold start loads from 999,359 to 1,014,140 bytes,
 * past issue 17's 1.0 MB; with these left out it is 990,133. Hand-written: no bundler option replaces a module by an
 * error.
 */
export const nestPartsLeftOut = {
  name: 'nest-parts-left-out',
  setup(build) {
    const stub = (contents) => ({ contents, loader: 'js' });
    build.onResolve({ filter: /^@fastify\/middie$/ }, () => ({ path: 'middie', namespace: 'nest-parts-left-out' }));
    build.onResolve({ filter: /^\.\/security\/(security-headers|cross-origin-protection)\.js$/ }, (args) =>
      /[\\/]@nestjs[\\/]core[\\/]nest-application\.js$/.test(args.importer) ? { path: args.path, namespace: 'nest-parts-left-out' } : undefined,
    );
    const leftOut = (what, instead) => `throw new Error("Kura's Lambda bundle leaves out ${what}: ${instead}")`;
    build.onLoad({ filter: /^middie$/, namespace: 'nest-parts-left-out' }, () =>
      stub(`export default function middie() { ${leftOut('@fastify/middie (Nest middleware on Fastify)', 'create the FastifyAdapter with skipMiddie: true, as Kura does')}; }\n`),
    );
    build.onLoad({ filter: /security-headers/, namespace: 'nest-parts-left-out' }, () =>
      stub(`export function resolveSecurityHeaders() { ${leftOut("NestJS's useSecurityHeaders()", 'Kura sets its own security headers')}; }\n`),
    );
    build.onLoad({ filter: /cross-origin-protection/, namespace: 'nest-parts-left-out' }, () =>
      stub(`export class CrossOriginProtection { constructor() { ${leftOut("NestJS's enableCsrfProtection()", 'Kura refuses cross-site requests itself')}; } }\n`),
    );
  },
};

/**
 * fastify checks plugins' version ranges with three of semver's functions, and `require('semver')` loads every
 * function and class the package has (about 8 KB of the cold path past what those three need). The package itself,
 * and only that name (its own per-function files stay reachable), resolves to a module exporting the three.
 */
const semverForFastify = {
  name: 'semver-for-fastify',
  setup(build) {
    build.onResolve({ filter: /^semver$/ }, () => ({ path: new URL('./bundle-stubs/semver-for-fastify.cjs', import.meta.url).pathname }));
  },
};

export const lambdaBundleOptions = {
  absWorkingDir: new URL('..', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  // Prefer the ES module builds (rxjs, the AWS SDK, ...) so unused exports are dropped.
  mainFields: ['module', 'main'],
  // rxjs maps its `node` condition to CommonJS, which cannot be tree-shaken: take its ES module build.
  alias: {
    rxjs: './node_modules/rxjs/dist/esm/index.js',
    'rxjs/operators': './node_modules/rxjs/dist/esm/operators/index.js',
    // @nestjs/swagger loads js-yaml for a YAML document, which Kura does not serve (`raw: ['json']`).
    'js-yaml': './scripts/bundle-stubs/js-yaml.mjs',
  },
  format: 'esm',
  plugins: [httpWithoutUndici, swaggerWithoutSideEffects, kuraLibsWithoutSideEffects, fastifyLoggerApart, safeRegexAtBundleTime, nestPartsLeftOut, semverForFastify],
  target: 'node24',
  minify: true,
  // Nest logs by class name, node-redis's and jose's errors are told apart by it: names are kept, then dropped where
  // nothing uses them (`buildLambdaBundle`).
  keepNames: true,
  sourcemap: false,
  legalComments: 'none',
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
    // Loaded on demand by code paths Kura never takes: Nest's file-type pipe, a browser user-agent parser, and event
    // streams (DynamoDB has none). (CORS, @fastify/cors, is bundled: a chunk loaded only with KURA_TRUSTED_ORIGINS.)
    'file-type',
    // Fastify's schema compilers: createApp gives Fastify its own (Kura has no Fastify route schemas).
    '@fastify/ajv-compiler',
    '@fastify/fast-json-stringify-compiler',
    'bowser',
    '@smithy/core/event-streams',
    // The SDK's credential chain imports each provider only when the ones before it found nothing. On Lambda the
    // runtime always sets the role's credentials in the environment, which is the chain's first link, so the
    // profile-file, SSO, process, web-identity and metadata providers (and the STS/SSO clients they bring) are
    // never loaded. The Kubernetes image runs the unbundled build, which keeps them all (IRSA, Pod Identity).
    '@aws-sdk/credential-provider-ini',
    '@aws-sdk/credential-provider-process',
    '@aws-sdk/credential-provider-sso',
    '@aws-sdk/credential-provider-login',
    '@aws-sdk/credential-provider-web-identity',
    '@aws-sdk/credential-provider-http',
    '@smithy/credential-provider-imds',
    '@aws-sdk/token-providers',
    '@aws-sdk/nested-clients',
    '@aws-sdk/nested-clients/*',
  ],
  logLevel: 'warning',
};

/**
 * Kura's Lambda handler as `npm run bundle` builds it into `outdir`: `app.mjs` and its chunks (chunks/). The app is
 * split: Redis's client (node-redis) is imported only when KURA_STORE=redis, a chunk of its own, loaded then. It
 * carries its OpenAPI document, built at bundle time (`prebuiltOpenApi`).
 */
export function lambdaHandlerOptions(outdir) {
  return {
    ...lambdaBundleOptions,
    entryPoints: { app: 'dist/apps/api/src/lambda.js' },
    outdir,
    outExtension: { '.js': '.mjs' },
    plugins: [...lambdaBundleOptions.plugins.filter((plugin) => plugin !== swaggerWithoutSideEffects), prebuiltOpenApi, injectValidatorLeftOut],
    splitting: true,
    inject: ['scripts/bundle-stubs/reflect-metadata-first.mjs'],
    chunkNames: 'chunks/[name]-[hash]',
  };
}

/**
 * Builds a Lambda bundle with `options` (lambdaBundleOptions or lambdaHandlerOptions, with an entry and an output),
 * then drops the names nothing uses (scripts/bundle-names.mjs, `dropUnneededNamesIn`: 55 KiB of `__name` calls, of
 * which it keeps those of Nest, node-redis, jose and Kura). Every bundle a cold start is measured on goes through
 * here, Kura's and the benchmark's baselines alike. Returns esbuild's result (its metafile's sizes are those before
 * the pass) and the calls dropped by package.
 */
export async function buildLambdaBundle(options) {
  const result = await build({ ...options, sourcemap: 'external' });
  const namesDropped = await dropUnneededNamesIn(options.outdir ?? dirname(options.outfile));
  return { ...result, namesDropped };
}
