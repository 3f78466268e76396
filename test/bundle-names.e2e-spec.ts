import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
// @ts-expect-error: a build script in plain JavaScript, without types
import { dropClosureNames, dropNames } from '../scripts/bundle-names.mjs';
// @ts-expect-error: a build script in plain JavaScript, without types
import { buildLambdaBundle, lambdaBundleOptions } from '../scripts/lambda-bundle-options.mjs';

const drop = dropClosureNames as (code: string) => { removed: number; code: string };
type Call = { arguments: [unknown, { value: string }] };
const dropWhere = dropNames as (code: string, options: { helpers: Set<string>; unneeded: (call: Call) => boolean }) => { removed: number; code: string };

/**
 * scripts/bundle-names.mjs drops esbuild's `__name` calls that run on every call of a function (closures), and
 * keeps those that run once (module level) and every class's: what it does to esbuild's own output shapes.
 */
describe('the server bundle keeps names where they cost nothing per request', () => {
  it('drops __name on a closure made per call, on a function declared in a function, and keeps the rest', () => {
    const code = [
      'var __name = (target, value) => target;',
      'function top() { return 1; }',
      '__name(top, "top");',
      'var arrowTop = /* @__PURE__ */ __name(() => 1, "arrowTop");',
      'var Klass = class { static { __name(this, "Klass"); } };',
      'function runner(hooks) {',
      '  function next() { return 2; }',
      '  __name(next, "next");',
      '  const done = /* @__PURE__ */ __name((x) => __name(function inner() { return x; }, "inner"), "done");',
      '  const Local = __name(class Local2 {}, "Local");',
      '  return [next, done, Local];',
      '}',
      '__name(runner, "runner");',
    ].join('\n');
    const { removed, code: out } = drop(code);
    expect(removed).toBe(3);
    expect(out).toContain('__name(top, "top");');
    expect(out).toContain('__name(() => 1, "arrowTop")');
    expect(out).toContain('__name(this, "Klass")');
    expect(out).toContain('__name(runner, "runner");');
    expect(out).toContain('__name(class Local2 {}, "Local")');
    expect(out).not.toContain('__name(next');
    expect(out).toContain('const done = /* @__PURE__ */ ((x) => (function inner() { return x; }));');
    // Still valid JavaScript, and names inferred from the bindings as before.
    const [next, done] = new Function(`${out}\nreturn runner();`)() as [() => number, (x: number) => () => number];
    expect([next.name, done.name, done(3)()]).toEqual(['next', 'done', 3]);
  });

  it('leaves the built server bundle (npm run bundle:server) with no __name inside a function but on classes', async () => {
    const dir = new URL('../.build/server/', import.meta.url).pathname;
    const files = ['main.mjs', ...(await readdir(`${dir}chunks`)).map((file) => `chunks/${file}`)];
    for (const file of files) expect(drop(await readFile(`${dir}${file}`, 'utf8')).removed).toBe(0);
  });
});

/**
 * The Lambda bundle is minified: names survive only where esbuild's `keepNames` puts them, and the pass after it
 * (`dropUnneededNamesIn`) drops them from the packages that use none. Checked on minified code's shapes, and on a
 * real split bundle run from a folder without node_modules.
 */
describe('the Lambda bundle keeps names where they are used', () => {
  it('drops a call in a statement, in a sequence, in a static block, or around a value, and keeps what stays', () => {
    const code = [
      'var n=(e,t)=>Object.defineProperty(e,"name",{value:t,configurable:!0});',
      'function f(){return 1}n(f,"f"),globalThis.x=1;',
      'function k(){return 2}n(k,"keep");',
      'class A{static{n(this,"A")}}class B{static{n(this,"keepB")}}',
      'let g=n(()=>3,"g"),h=(0,n(f,"f"));',
      'globalThis.out=[f,k,A,B,g,h];',
    ].join('');
    const { removed, code: out } = dropWhere(code, { helpers: new Set(['n']), unneeded: (call) => !call.arguments[1].value.startsWith('keep') });
    expect(removed).toBe(4);
    new Function(out)();
    const [f, k, A, B, g, h] = (globalThis as unknown as { out: Array<{ name: string } & (() => number)> }).out;
    expect([f!.name, k!.name, A!.name, B!.name, g!.name]).toEqual(['f', 'keep', 'A', 'keepB', 'g']);
    expect([h, (globalThis as unknown as { x: number }).x]).toEqual([f, 1]);
    expect(out).not.toMatch(/n\(f,|n\(this,"A"\)|n\(\(\)=>3/);
  });

  it('keeps the names of Nest, node-redis and Kura, and drops those of Fastify, rxjs and semver, across chunks', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kura-names-'));
    try {
      const dist = new URL('../dist/libs/redis/src/redis-errors.js', import.meta.url).pathname;
      const entry = (name: string) => `
        import { Logger, Injectable } from '@nestjs/common';
        import { ClientClosedError } from '@redis/client';
        import { ReplicaAckError } from ${JSON.stringify(dist)};
        import { Subject } from 'rxjs';
        import SemVer from 'semver/classes/semver.js'; // 'semver' itself is fastify's three functions (semver-for-fastify.cjs)
        import Fastify from 'fastify';
        process.stdout.write(JSON.stringify({ ${JSON.stringify(name)}: [Logger.name, Injectable.name, ClientClosedError.name, ReplicaAckError.name, Subject.name, SemVer.name, Fastify.name] }));
      `;
      await writeFile(join(dir, 'one.mjs'), entry('one'));
      await writeFile(join(dir, 'two.mjs'), entry('two'));
      const out = join(dir, 'out');
      const { namesDropped } = (await buildLambdaBundle({
        ...lambdaBundleOptions,
        nodePaths: [new URL('../node_modules', import.meta.url).pathname],
        entryPoints: [join(dir, 'one.mjs'), join(dir, 'two.mjs')],
        outdir: out,
        outExtension: { '.js': '.mjs' },
        splitting: true,
        chunkNames: 'chunks/[name]-[hash]',
        inject: [new URL('../scripts/bundle-stubs/reflect-metadata-first.mjs', import.meta.url).pathname],
      })) as { namesDropped: Record<string, number> };
      expect(Object.keys(namesDropped)).toEqual(expect.arrayContaining(['rxjs', 'semver']));
      expect((await readdir(out, { recursive: true })).filter((file) => file.endsWith('.map'))).toEqual([]);
      for (const name of ['one', 'two']) {
        const { stdout } = await promisify(execFile)(process.execPath, [join(out, `${name}.mjs`)], { cwd: out });
        const [logger, injectable, closed, replica, subject, semver, fastify] = (JSON.parse(stdout) as Record<string, string[]>)[name]!;
        expect([logger, injectable, closed, replica]).toEqual(['Logger', 'Injectable', 'ClientClosedError', 'ReplicaAckError']);
        expect([subject, semver, fastify]).toEqual([expect.not.stringMatching(/^Subject$/), expect.not.stringMatching(/^SemVer$/), expect.not.stringMatching(/^fastify$/)]);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
