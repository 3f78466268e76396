/** The packages the bundled server loads from node_modules at run time. */
export const serverRuntimePackages: readonly string[];

/** The folders (relative to `root`, e.g. `node_modules/level`) of `names` and of everything they depend on. */
export function runtimeModules(root: string, names?: readonly string[]): string[];

/** The image's package.json: the app's name, version, description and licence, and `names` at their installed versions; no scripts. */
export function runtimeManifest(root: string, names?: readonly string[]): Record<string, unknown>;
