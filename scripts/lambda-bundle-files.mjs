// What a Lambda cold start loads from the split bundle (`npm run bundle`): the entry (index.mjs, which turns the
// compile cache on), app.mjs and the chunks it imports statically, read from esbuild's metafile, and their size on
// disk; `lazy` lists the chunks only a dynamic import loads (Redis's client). The compile cache is counted apart:
// it is bytecode that V8 reads instead of compiling, not code.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** @param {string} root the project folder */
export async function coldStartFiles(root) {
  const meta = JSON.parse(await readFile(join(root, '.build/lambda-meta.json'), 'utf8'));
  const files = new Set();
  const visit = (file) => {
    if (files.has(file) || !meta.outputs[file]) return;
    files.add(file);
    for (const imported of meta.outputs[file].imports ?? []) if (imported.kind === 'import-statement') visit(imported.path);
  };
  visit('.build/lambda/app.mjs');
  const entry = '.build/lambda/index.mjs';
  // The files' sizes as shipped: the metafile's are from before the pass that drops unused names.
  const sizes = await Promise.all([entry, ...files].map(async (file) => (await stat(join(root, file))).size));
  const size = sizes.reduce((sum, bytes) => sum + bytes, 0);
  const lazy = Object.keys(meta.outputs)
    .filter((file) => !files.has(file) && !file.endsWith('.map')) // the maps are the names pass's, then removed
    .map((file) => ({ file, inputs: Object.keys(meta.outputs[file].inputs).join(' ') }));
  return { files: [entry, ...files], size, lazy };
}

/** The compile cache shipped beside the entry: one folder per Node version, architecture and user it is for. */
export async function compileCacheFiles(root) {
  const dir = join(root, '.build/lambda/compile-cache');
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const files = entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
  const sizes = await Promise.all(files.map(async (file) => (await stat(file)).size));
  const tags = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  return { files, size: sizes.reduce((sum, size) => sum + size, 0), tags };
}
