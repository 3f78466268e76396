// Copies into OUT/node_modules what the bundled server loads from node_modules at run time (serverRuntimePackages)
// and every package those depend on, each where npm installed it (nested copies stay nested), and nothing else: the
// image's node_modules. Run where `npm ci --omit=dev` has installed node_modules (the Dockerfile's deps stage).
// By hand because the tools made for this trace files, not packages: @vercel/nft follows require() calls and would
// miss the explorer's files, which swagger-ui-dist hands to @fastify/static by a folder path.
// Writes OUT/package.json, the image's own (no scripts).
// Usage: node scripts/runtime-modules.mjs OUT (it imports nothing but Node's own modules: the deps stage has no esbuild)
import { existsSync, readFileSync } from 'node:fs';
import { cp, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';

/**
 * The packages the server bundle loads from node_modules at run time, left out of it (scripts/server-bundle-options.mjs):
 * the explorer's static files (swagger-ui-dist finds them next to its own module) and the embedded engine (dynalite,
 * LevelDB: native code, loaded only with KURA_STORE=embedded). The bundle's other externals are optional parts that
 * Nest, Fastify and the AWS SDK load only on paths Kura never takes (lambda-bundle-options.mjs says which).
 * `test/server-runtime` runs the bundle with these alone.
 */
export const serverRuntimePackages = ['swagger-ui-dist', 'dynalite', 'classic-level'];

/** `name` as Node resolves it from `dir`: the nearest node_modules above it that holds it. */
function installed(name, dir, root) {
  for (let at = dir; ; at = dirname(at)) {
    const candidate = join(at, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (at === root || at === dirname(at)) return undefined; // the root, or the filesystem's own (a root not above dir)
  }
}

/** The folders of `names` and of everything they depend on (optional dependencies where installed). */
export function runtimeModules(root, names = serverRuntimePackages) {
  const found = new Set();
  const visit = (name, from, required) => {
    const dir = installed(name, from, root);
    if (!dir) {
      if (required) throw new Error(`${name} is not installed under ${from} (npm ci --omit=dev first)`);
      return;
    }
    if (found.has(dir)) return;
    found.add(dir);
    const { dependencies = {}, optionalDependencies = {} } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    for (const dependency of Object.keys(dependencies)) visit(dependency, dir, !(dependency in optionalDependencies));
    for (const dependency of Object.keys(optionalDependencies)) visit(dependency, dir, false);
  };
  for (const name of names) visit(name, root, true);
  return [...found].map((dir) => relative(root, dir)).sort();
}

/**
 * The image's package.json: what the app is and what its node_modules holds, for people and for scanners that read
 * it (an SBOM tool lists an image's packages from it and node_modules). Not the repository's, whose scripts (npm
 * start, db:init, sessions) need sources and tools the image has not: the operator commands are `node server/admin.mjs`.
 */
export function runtimeManifest(root, names = serverRuntimePackages) {
  const { name, version, description, license } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const versionOf = (dependency) => JSON.parse(readFileSync(join(installed(dependency, root, root), 'package.json'), 'utf8')).version;
  return {
    name,
    version,
    description,
    license,
    private: true,
    type: 'module',
    main: 'server/main.mjs',
    dependencies: Object.fromEntries(names.map((dependency) => [dependency, versionOf(dependency)])),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [out] = process.argv.slice(2);
  if (!out) throw new Error('usage: node scripts/runtime-modules.mjs OUT');
  const root = process.cwd();
  const folders = runtimeModules(root);
  for (const folder of folders) await cp(join(root, folder), join(out, folder), { recursive: true, verbatimSymlinks: true });
  await writeFile(join(out, 'package.json'), `${JSON.stringify(runtimeManifest(root), null, 2)}\n`);
  console.log(`runtime modules: ${folders.length} packages (${serverRuntimePackages.join(', ')} and their dependencies) in ${join(out, 'node_modules')}`);
}
