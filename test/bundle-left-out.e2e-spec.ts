import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { build } from 'esbuild';
// @ts-expect-error: a build script in plain JavaScript, without types
import { lambdaBundleOptions, lambdaHandlerOptions } from '../scripts/lambda-bundle-options.mjs';

const run = promisify(execFile);
/** The entries live in a temporary folder: their imports resolve from the project's node_modules. */
const nodePaths = [new URL('../node_modules', import.meta.url).pathname];

/**
 * Kura's Lambda bundle leaves out two checks its code never needs (scripts/lambda-bundle-options.mjs): find-my-way's
 * ReDoS check of regular expressions in routes, and light-my-request's validator of `inject` options. Each leaves an
 * error in its place, so code that would have needed it fails saying why instead of going unchecked. Checked with a
 * Fastify app bundled with the same options, run from a folder with no node_modules.
 */
describe('what the Lambda bundle leaves out fails loudly when it is needed', () => {
  let dir: string;
  const app = (route: string, inject: string) => `
    import Fastify from 'fastify';
    const none = () => () => { throw new Error('no route schemas'); };
    const app = Fastify({ schemaController: { compilersFactory: { buildValidator: none, buildSerializer: none } } });
    try {
      app.get(${JSON.stringify(route)}, async () => ({ ok: true }));
      const reply = await app.inject(${inject});
      process.stdout.write('status ' + reply.statusCode + '\\n');
    } catch (error) {
      process.stdout.write('error ' + error.message + '\\n');
    }
    await app.close();
  `;
  const bundleAndRun = async (name: string, source: string, options: object) => {
    await writeFile(join(dir, `${name}.mjs`), source);
    const out = join(dir, `out-${name}`);
    await build({ ...options, nodePaths, entryPoints: [join(dir, `${name}.mjs`)], outdir: out, outExtension: { '.js': '.mjs' }, splitting: false, metafile: false });
    const { stdout } = await run(process.execPath, [join(out, `${name}.mjs`)], { cwd: out });
    return stdout.trim();
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kura-left-out-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a route with parameters and no regular expression works; one with a regular expression fails at start', async () => {
    const plain = await bundleAndRun('plain', app('/items/:id', "'/items/7'"), lambdaBundleOptions);
    expect(plain).toBe('status 200');
    const regex = await bundleAndRun('regex', app('/items/:id(^\\\\d+$)', "'/items/7'"), lambdaBundleOptions);
    expect(regex).toMatch(/^error Kura's Lambda bundle has no ReDoS check for regular expressions in routes .*\\d\+\$/);
  });

  it("Kura's handler bundle injects with validate: false, and without it says what is missing", async () => {
    const handler = lambdaHandlerOptions(join(dir, 'unused')); // its entry and folder are replaced
    expect(await bundleAndRun('unvalidated', app('/', "{ url: '/', validate: false }"), handler)).toBe('status 200');
    expect(await bundleAndRun('validated', app('/', "'/'"), handler)).toBe(
      "error Kura's Lambda bundle leaves out light-my-request's option validator: inject with validate: false",
    );
  });
});
