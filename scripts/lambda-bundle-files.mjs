// What a Lambda cold start loads from the split bundle (`npm run bundle`): the entry and the chunks it imports
// statically, read from esbuild's metafile; `lazy` lists the chunks only a dynamic import loads (Redis's client).
import { readFile } from 'node:fs/promises';
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
  visit('.build/lambda/index.mjs');
  const size = [...files].reduce((sum, file) => sum + meta.outputs[file].bytes, 0);
  const lazy = Object.keys(meta.outputs)
    .filter((file) => !files.has(file))
    .map((file) => ({ file, inputs: Object.keys(meta.outputs[file].inputs).join(' ') }));
  return { files: [...files], size, lazy };
}
