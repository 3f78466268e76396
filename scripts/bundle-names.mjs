// esbuild's `keepNames` keeps every class's and function's `.name` through bundling by calling its `__name`
// helper on each: once for what a module defines at load, but on every call of the enclosing function for a
// closure defined inside a function (Fastify's hook runners and Nest's execution contexts make several per
// request). Those calls cost Kura's cached GET about 8-10 µs of CPU per request on this machine (about 15%), and
// turning `keepNames` off instead renames classes that Nest logs, node-redis's errors are told apart by, and more
// (`_InstanceLoader`, `TerminusModule2`). This pass keeps what matters and drops the per-call cost: it removes
// `__name` only where it is called inside a function on a function (a closure made per call), and keeps it at
// module level and on every class. No bundler option does this, hence this pass (on esbuild's unminified output,
// parsed with @babel/parser, edited with magic-string, so nothing but those calls changes).
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from '@babel/parser';
import MagicString from 'magic-string';

const FUNCTIONS = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression', 'ObjectMethod', 'ClassMethod', 'ClassPrivateMethod']);
const isFunctionValue = (node) => node.type === 'FunctionExpression' || node.type === 'ArrowFunctionExpression';

/** The `__name(...)` calls to drop from one file's code, and how: { removed, code }. */
export function dropClosureNames(code) {
  const ast = parse(code, { sourceType: 'module', errorRecovery: false });
  const edits = new MagicString(code);
  let removed = 0;
  const visit = (node, depth, declared) => {
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
    if (depth > 0 && node.type === 'ExpressionStatement' && isNameCall(node.expression)) {
      const [target] = node.expression.arguments;
      if (target.type === 'Identifier' && declared.has(target.name)) {
        edits.remove(node.start, node.end);
        removed += 1;
        return;
      }
    }
    if (depth > 0 && isNameCall(node) && isFunctionValue(node.arguments[0])) {
      const [target] = node.arguments;
      // `__name(f, "f")` becomes `(f)`: only the call's own text changes, so calls nested in `f` can be edited too.
      edits.overwrite(node.start, target.start, '(');
      edits.overwrite(target.end, node.end, ')');
      removed += 1;
      visit(target, depth, declared);
      return;
    }
    for (const key of Object.keys(node)) {
      if (key === 'loc' || key === 'start' || key === 'end' || key === 'extra' || key === 'leadingComments' || key === 'trailingComments') continue;
      const value = node[key];
      if (Array.isArray(value)) for (const child of value) visit(child, inner, names);
      else if (value && typeof value === 'object') visit(value, inner, names);
    }
  };
  visit(ast.program, 0, new Set());
  return { removed, code: removed > 0 ? edits.toString() : code };
}

function isNameCall(node) {
  return node?.type === 'CallExpression' && node.callee.type === 'Identifier' && node.callee.name === '__name' && node.arguments.length === 2;
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
