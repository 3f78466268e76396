import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from '@jest/globals';
// @ts-expect-error: a build script in plain JavaScript, without types
import { dropClosureNames } from '../scripts/bundle-names.mjs';

const drop = dropClosureNames as (code: string) => { removed: number; code: string };

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
