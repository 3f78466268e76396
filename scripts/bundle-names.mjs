// esbuild's `keepNames` keeps every class's and function's `.name` through bundling by calling its `__name`
// helper on each: once for what a module defines at load, but on every call of the enclosing function for a
// closure defined inside a function (Fastify's hook runners and Nest's execution contexts make several per
// request). Those calls cost Kura's cached GET about 8-10 µs of CPU per request on this machine (about 15%), and
// turning `keepNames` off instead renames classes that Nest logs, node-redis's errors are told apart by, and more
// (`_InstanceLoader`, `TerminusModule2`). This pass keeps what matters and drops the per-call cost: it removes
// `__name` only where it is called inside a function on a function (a closure made per call), and keeps it at
// module level and on every class. No bundler option does this, hence this pass (on esbuild's output, parsed with
// @babel/parser, edited with magic-string, so nothing but those calls changes). The minified Lambda bundle goes
// further (`dropUnneededNamesIn`, below).
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { SourceMap } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { parse } from '@babel/parser';
import MagicString from 'magic-string';

const FUNCTIONS = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression', 'ObjectMethod', 'ClassMethod', 'ClassPrivateMethod']);
const isFunctionValue = (node) => node.type === 'FunctionExpression' || node.type === 'ArrowFunctionExpression';
const SKIPPED_KEYS = new Set(['loc', 'start', 'end', 'extra', 'leadingComments', 'trailingComments', 'innerComments']);

/** The `__name(...)` calls to drop from one file's code, and how: { removed, code }. */
export function dropClosureNames(code) {
  return dropNames(code, { helpers: new Set(['__name']) });
}

/**
 * Drops from `code` the calls of the name helper (`helpers`: its local names in this file) that run per call of a
 * function (closures, as above), and, when `unneeded(call)` says so, any other. A dropped statement goes, a dropped
 * call inside an expression leaves its function in parentheses, and a class's `static { __name(this, ...) }` goes
 * whole. Written for esbuild's output, minified or not.
 */
export function dropNames(code, { helpers, unneeded = () => false }) {
  const ast = parse(code, { sourceType: 'module', errorRecovery: false });
  const edits = new MagicString(code);
  let removed = 0;
  const isNameCall = (node) => node?.type === 'CallExpression' && node.callee.type === 'Identifier' && helpers.has(node.callee.name) && node.arguments.length === 2;
  const visit = (node, depth, declared, parent, grandparent) => {
    if (!node || typeof node.type !== 'string') return;
    let inner = depth;
    let names = declared;
    if (FUNCTIONS.has(node.type)) {
      inner = depth + 1;
      // The functions this one declares: a statement `__name(f, "f")` in its body names one of them.
      names = new Set();
      const body = node.body?.type === 'BlockStatement' ? node.body.body : [];
      for (const statement of body) if (statement.type === 'FunctionDeclaration' && statement.id) names.add(statement.id.name);
    }
    if (node.type === 'StaticBlock' && node.body.length === 1 && isNameCall(node.body[0].expression) && unneeded(node.body[0].expression)) {
      edits.remove(node.start, node.end);
      removed += 1;
      return;
    }
    if (isNameCall(node)) {
      const [target] = node.arguments;
      const closure = depth > 0 && (target.type === 'Identifier' ? declared.has(target.name) : isFunctionValue(target));
      if (closure || unneeded(node)) {
        removed += 1;
        if (parent?.type === 'ExpressionStatement') {
          edits.overwrite(parent.start, parent.end, ';');
          return;
        }
        const at = parent?.type === 'SequenceExpression' ? parent.expressions.indexOf(node) : -1;
        const valueUnused = at >= 0 && (at < parent.expressions.length - 1 || grandparent?.type === 'ExpressionStatement');
        if (valueUnused) {
          const next = parent.expressions[at + 1];
          // `x, call, y` becomes `x, y`; a call that ends the sequence goes with the comma before it.
          if (next) edits.remove(node.start, next.start);
          else edits.remove(parent.expressions[at - 1].end, node.end);
          return;
        }
        // `__name(f, "f")` becomes `(f)`, its value: only the call's own text changes, so calls nested in `f` can be
        // edited too.
        edits.overwrite(node.start, target.start, '(');
        edits.overwrite(target.end, node.end, ')');
        visit(target, depth, declared, node, parent);
        return;
      }
    }
    for (const key of Object.keys(node)) {
      if (SKIPPED_KEYS.has(key)) continue;
      const value = node[key];
      if (Array.isArray(value)) for (const child of value) visit(child, inner, names, node, parent);
      else if (value && typeof value === 'object') visit(value, inner, names, node, parent);
    }
  };
  visit(ast.program, 0, new Set(), null, null);
  return { removed, code: removed > 0 ? edits.toString() : code };
}

/** Applies dropClosureNames to every .mjs file under `dir`; returns how many calls it removed. */
export async function dropClosureNamesIn(dir) {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.mjs')) continue;
    const file = join(entry.parentPath, entry.name);
    const { removed, code } = dropClosureNames(await readFile(file, 'utf8'));
    if (removed > 0) await writeFile(file, code);
    total += removed;
  }
  return total;
}

/**
 * The Lambda bundle is minified, so a class or function keeps its name only through esbuild's `keepNames`, which is
 * all or nothing: on everything, its `__name` calls and their strings were 55 KiB of the 1032 KiB a cold start loads,
 * and it names every closure a request makes. Names are used by few of the bundled packages: Nest logs by class name
 * and puts class names in its errors, node-redis's errors are told apart by their constructor's name (libs/redis),
 * jose names its errors after their classes, and Kura's own classes show in Nest's logs. The packages that
 * `nameless` matches were read for any use of a function's or class's name: they use one only in debug output and
 * messages (Fastify's and avvio's plugin names) or on built-ins (`AsyncFunction`, `Uint8Array`), and the AWS SDK tells
 * its errors apart by `shapeId`. So the bundle is built with `keepNames` and source maps, and this pass drops the
 * `__name` calls that the maps place in those packages, and the per-call ones everywhere (`dropClosureNames`). A
 * package not in the list keeps its names: a new dependency costs bytes, never a silent rename. esbuild cannot keep
 * names per package, and keeping them per module before bundling (its transform) makes every module's classes look
 * like side effects, so nothing is tree-shaken: hence a pass after it.
 */
export const nameless = new RegExp(
  `(^|/)node_modules/(${[
    '@smithy/[^/]+',
    '@aws-sdk/[^/]+',
    '@aws/lambda-invoke-store',
    'fastify',
    '@fastify/(?:aws-lambda|middie|proxy-addr|error|deepmerge|forwarded)',
    'fastify-plugin',
    'avvio',
    'find-my-way',
    'light-my-request',
    'zod',
    'rxjs',
    'reflect-metadata',
    'semver',
    'ret',
    'safe-regex2',
    'ipaddr\\.js',
    'toad-cache',
    'mnemonist',
    'obliterator',
    'fast-[a-z-]+',
    'fastq',
    'rfdc',
    'secure-json-parse',
    'process-warning',
    'set-cookie-parser',
    'path-to-regexp',
    'iterare',
    'tslib',
  ].join('|')})/`,
);

/**
 * The pass over a bundle just built in `dir` with `keepNames` and external source maps (`buildLambdaBundle` in
 * lambda-bundle-options.mjs); files without a map are left alone. Removes the maps; returns the calls dropped from
 * `nameless` packages, by package.
 */
export async function dropUnneededNamesIn(dir) {
  const files = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && /\.m?js\.map$/.test(entry.name)) files.push(resolve(entry.parentPath, entry.name.slice(0, -'.map'.length)));
  }
  const parsed = new Map();
  for (const file of files) parsed.set(file, parse(await readFile(file, 'utf8'), { sourceType: 'module' }).program);
  // The helper is defined once, in the chunk with esbuild's runtime, and imported by the others under its export name.
  const helperAt = new Map(); // file -> its local names for the helper
  const exported = new Map(); // defining file -> the helper's export names
  for (const [file, program] of parsed) {
    const local = helperDefinedIn(program);
    if (!local) continue;
    helperAt.set(file, new Set([local]));
    exported.set(file, new Set(program.body.flatMap((node) => (node.type === 'ExportNamedDeclaration' ? node.specifiers : [])).filter((spec) => spec.local.name === local).map((spec) => spec.exported.name)));
  }
  for (const [file, program] of parsed) {
    for (const node of program.body) {
      if (node.type !== 'ImportDeclaration' || !node.source.value.startsWith('.')) continue;
      const names = exported.get(resolve(dirname(file), node.source.value));
      if (!names) continue;
      for (const spec of node.specifiers) {
        if (spec.type === 'ImportSpecifier' && names.has(spec.imported.name)) helperAt.set(file, (helperAt.get(file) ?? new Set()).add(spec.local.name));
      }
    }
  }
  const byPackage = {};
  for (const file of files) {
    const map = new SourceMap(JSON.parse(await readFile(`${file}.map`, 'utf8')));
    await rm(`${file}.map`);
    const helpers = helperAt.get(file);
    if (!helpers) continue;
    const sourceOf = (node) => map.findEntry(node.loc.start.line - 1, node.loc.start.column).originalSource ?? '';
    const { removed, code } = dropNames(await readFile(file, 'utf8'), {
      helpers,
      unneeded: (call) => {
        // Paths in the map are relative to it, with forward slashes: `../node_modules/fastify/lib/route.js`.
        const match = nameless.exec(sourceOf(call));
        if (match) byPackage[match[2]] = (byPackage[match[2]] ?? 0) + 1;
        return match !== null;
      },
    });
    if (removed > 0) await writeFile(file, code);
  }
  return byPackage;
}

/** The local name of esbuild's `__name` helper if `program` defines it: `(target, value) => defineProperty(target, "name", { value, configurable: true })`. */
function helperDefinedIn(program) {
  for (const node of program.body) {
    if (node.type !== 'VariableDeclaration') continue;
    for (const { id, init } of node.declarations) {
      if (init?.type !== 'ArrowFunctionExpression' || init.params.length !== 2 || init.body.type !== 'CallExpression') continue;
      const [target, key, descriptor] = init.body.arguments;
      const keys = descriptor?.type === 'ObjectExpression' ? descriptor.properties.map((property) => property.key?.name).sort().join() : '';
      if (target?.name === init.params[0].name && key?.value === 'name' && keys === 'configurable,value') return id.name;
    }
  }
  return undefined;
}
