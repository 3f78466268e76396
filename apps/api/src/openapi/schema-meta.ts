import * as z from 'zod/mini';

/**
 * Kura's schemas use zod's smaller `zod/mini` API: the classic one installs dozens of methods on every schema it
 * builds, which every cold start paid for at load (BENCHMARKS.md, "Lambda cold start"). Metadata for the API document
 * goes to zod's global registry, from which the document's JSON Schemas are made: `.register(z.globalRegistry, { id })`
 * names a component (once, on the final schema: a `z.meta()` check would be attached again to every schema derived
 * from it, and an id may be given only once), and `described` is the classic `.describe()`.
 */

/**
 * `schema`, described in the API document. The description is registered on `schema` itself, where the classic
 * `.describe()` returned a described copy: pass a schema made for this place, not one used elsewhere too.
 */
export function described<T extends z.ZodMiniType>(schema: T, description: string): T {
  z.globalRegistry.add(schema, { description });
  return schema;
}

