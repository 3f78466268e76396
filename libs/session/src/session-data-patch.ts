import { FORBIDDEN_KEYS, MergePatchKeyError } from './merge-patch.js';
import { InvalidSessionDataError } from './session.errors.js';

/**
 * How deeply session data may nest objects and arrays, the document itself being level 1. Merging, measuring
 * (`JSON.stringify`) and storing the data each walk it recursively, and a 10 KB body can nest 5,000 levels:
 * enough to exhaust the stack.
 */
export const SESSION_DATA_MAX_DEPTH = 64;

/**
 * Refuses, before any work, a patch that cannot be stored as sent: one nested deeper than
 * `SESSION_DATA_MAX_DEPTH`; one holding a number that is not finite (`JSON.parse` reads `1e400` as `Infinity`,
 * which `JSON.stringify` would store as `null`); one using a key no object may have, at any depth, arrays
 * included (a merge replaces an array without looking inside it). Walks with a stack of its own: the patch may
 * be too deep for recursion.
 */
export function checkSessionDataPatch(patch: Record<string, unknown>): void {
  const pending: [value: unknown, depth: number][] = [[patch, 1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [value, depth] = next;
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new InvalidSessionDataError('Session data numbers must be finite (a JSON number too large for a double, such as 1e400, is not)');
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth > SESSION_DATA_MAX_DEPTH) {
      throw new InvalidSessionDataError(`Session data may nest objects and arrays at most ${SESSION_DATA_MAX_DEPTH} levels deep`);
    }
    for (const [key, child] of Object.entries(value)) {
      if (!Array.isArray(value) && FORBIDDEN_KEYS.has(key)) throw new InvalidSessionDataError(new MergePatchKeyError(key).message);
      pending.push([child, depth + 1]);
    }
  }
}
