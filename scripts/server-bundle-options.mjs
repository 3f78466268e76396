// How Kura's long-running server is bundled (scripts/bundle-server.mjs, for the image and the Deployment): the
// Lambda bundle's options with four differences:
// - the AWS SDK's whole credential chain stays (IRSA, EKS Pod Identity, instance metadata, profiles), each provider
//   a chunk loaded only when the chain reaches it;
// - the explorer UI's static files are served (@fastify/static is bundled; swagger-ui-dist is not, because it
//   finds its files next to its own module);
// - the embedded engine (dynalite, LevelDB: native code and files of their own) stays in node_modules, loaded
//   only when KURA_STORE=embedded, which the image never uses.
// - it is not minified (a server does not pay for its size; the next pass needs esbuild's helper names), and the
//   names esbuild keeps are kept only where they cost nothing per request (scripts/bundle-names.mjs).
// Shared with `npm run bench`, whose NestJS references are bundled with exactly these options and this pass, so
// that Kura and the references run the same framework code the same way.
import { build } from 'esbuild';
import { dropClosureNamesIn } from './bundle-names.mjs';
import { lambdaBundleOptions, nestPartsLeftOut, safeRegexAtBundleTime } from './lambda-bundle-options.mjs';
import { serverRuntimePackages } from './runtime-modules.mjs';

/** The Lambda bundle's externals that a server needs after all. */
const serverNeeds = (name) => name === '@fastify/static' || /^@aws-sdk\/(credential-provider-|token-providers|nested-clients)|^@smithy\/credential-provider-imds/.test(name);

export const serverBundleOptions = {
  ...lambdaBundleOptions,
  external: [...lambdaBundleOptions.external.filter((name) => !serverNeeds(name)), ...serverRuntimePackages.flatMap((name) => [name, `${name}/*`])],
  minify: false,
  // A server does not pay for its size: find-my-way keeps its own regular-expression check, Nest all its parts.
  plugins: lambdaBundleOptions.plugins.filter((plugin) => plugin !== safeRegexAtBundleTime && plugin !== nestPartsLeftOut),
  splitting: true,
  inject: [new URL('./bundle-stubs/reflect-metadata-first.mjs', import.meta.url).pathname],
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
};

/** Bundles `entryPoints` into `outdir` with serverBundleOptions (its chunks named by `chunkNames`), then drops the per-call `__name` calls. */
export async function buildServerBundle({ entryPoints, outdir, chunkNames = serverBundleOptions.chunkNames }) {
  await build({ ...serverBundleOptions, entryPoints, outdir, chunkNames });
  return { namesDropped: await dropClosureNamesIn(outdir) };
}
