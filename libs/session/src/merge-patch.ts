/**
 * JSON Merge Patch (RFC 7396, section 2). Written here rather than taken from a package because it is a dozen
 * lines, and these lines must hold for untrusted input: the result is built from fresh plain objects, and a
 * `__proto__`, `constructor` or `prototype` key is refused rather than merged.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (FORBIDDEN_KEYS.has(key)) throw new MergePatchKeyError(key);
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

/** The keys no object of a merge patch may have: merged naively, they reach a prototype. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export class MergePatchKeyError extends Error {
  override readonly name = 'MergePatchKeyError';

  constructor(readonly key: string) {
    super(`A merge patch may not use the key "${key}"`);
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
