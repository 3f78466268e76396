import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { build, type Metafile } from 'esbuild';
// @ts-expect-error: a build script in plain JavaScript, without types
import { lambdaBundleOptions } from '../scripts/lambda-bundle-options.mjs';

const run = promisify(execFile);
/** The entries live in a temporary folder: their imports resolve from the project's node_modules. */
const nodePaths = [new URL('../node_modules', import.meta.url).pathname];

/**
 * The Lambda and server bundles leave Fastify's pino logger out of the code a start loads
 * (scripts/lambda-bundle-options.mjs, `fastify-logger-apart`): it sits in chunks/fastify-logger.mjs, which Fastify
 * requires only when its logger is turned on. Checked with a Fastify app that turns it on, bundled with the same
 * options, run from a folder with no node_modules: with Fastify in the entry's file, and in a shared chunk.
 */
describe('bundles keep Fastify’s logger apart, and it still works when turned on', () => {
  let dir: string;
  const app = (name: string) => `
    import Fastify from 'fastify';
    // As Kura's app does: no route schemas, so Fastify's schema compilers (left out of the bundle) are not needed.
    const none = () => () => { throw new Error('no route schemas'); };
    const app = Fastify({ logger: { base: { app: '${name}' } }, schemaController: { compilersFactory: { buildValidator: none, buildSerializer: none } } });
    app.get('/', async (request) => { request.log.info('handled'); return { ok: true }; });
    const reply = await app.inject('/');
    process.stdout.write('status ' + reply.statusCode + '\\n');
    await app.close();
  `;
  const pinoIn = (metafile: Metafile | undefined, output: string) => Object.keys(metafile!.outputs[output]?.inputs ?? {}).filter((input) => /node_modules\/(pino|thread-stream|sonic-boom)\//.test(input));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kura-logger-apart-'));
    await writeFile(join(dir, 'one.mjs'), app('one'));
    await writeFile(join(dir, 'two.mjs'), app('two'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('one file: the logger is required from chunks/ beside it', async () => {
    const out = join(dir, 'single');
    const { metafile } = await build({ ...lambdaBundleOptions, nodePaths, entryPoints: [join(dir, 'one.mjs')], outfile: join(out, 'one.mjs'), metafile: true });
    expect(pinoIn(metafile, Object.keys(metafile!.outputs)[0]!)).toEqual([]);
    expect(await readdir(join(out, 'chunks'))).toEqual(['fastify-logger.mjs']);
    const { stdout } = await run(process.execPath, [join(out, 'one.mjs')], { cwd: out });
    expect(stdout).toContain('status 200');
    const logged = stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { app: string; msg: string });
    expect(logged.map(({ app, msg }) => `${app} ${msg}`)).toContain('one handled');
  });

  it('split: Fastify in a shared chunk requires the logger from its own folder', async () => {
    const out = join(dir, 'split');
    const { metafile } = await build({
      ...lambdaBundleOptions,
      nodePaths,
      entryPoints: [join(dir, 'one.mjs'), join(dir, 'two.mjs')],
      outdir: out,
      outExtension: { '.js': '.mjs' },
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
      metafile: true,
    });
    for (const output of Object.keys(metafile!.outputs)) expect(pinoIn(metafile, output)).toEqual([]);
    const chunks = await readdir(join(out, 'chunks'));
    expect(chunks).toContain('fastify-logger.mjs');
    expect(chunks.length).toBeGreaterThan(1);
    for (const entry of ['one', 'two']) {
      const { stdout } = await run(process.execPath, [join(out, `${entry}.mjs`)], { cwd: out });
      expect(stdout).toContain('status 200');
      expect(stdout).toMatch(new RegExp(`"app":"${entry}".*"msg":"handled"`));
    }
  });
});
