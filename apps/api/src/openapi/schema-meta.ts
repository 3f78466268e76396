import type { StandardSchemaV1 } from '@standard-schema/spec';
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

/**
 * A schema built the first time it is used, not when its module loads. Kura's decorators take their schemas when
 * a controller class is defined, but a cold start serving `GET /auth/me` needs none of them: the response schemas
 * only describe the API document, and a body schema is needed by the first request to its route. Built at load,
 * they cost every Lambda cold start about 14 M instructions, 1.2% of it (BENCHMARKS.md). A standard schema itself, so
 * Nest's validation pipe and @nestjs/swagger take it as they take the zod schema; the document's converter reads
 * `schema`. Everything registered about the schema (its id, descriptions) is registered when it is built, which
 * the document's converter does before it reads the registry.
 */
export class DeferredSchema<T extends z.ZodMiniType> implements StandardSchemaV1<z.input<T>, z.output<T>> {
  private built: T | undefined;

  constructor(private readonly build: () => T) {}

  /** The zod schema, built on first use. */
  get schema(): T {
    this.built ??= this.build();
    return this.built;
  }

  /** Whether it has been built yet (`schema-meta.spec.ts` checks that a cold start builds none). */
  get isBuilt(): boolean {
    return this.built !== undefined;
  }

  get '~standard'(): StandardSchemaV1.Props<z.input<T>, z.output<T>> {
    return this.schema['~standard'];
  }
}

/** `build()`'s schema, built when first used (see `DeferredSchema`). */
export const deferred = <T extends z.ZodMiniType>(build: () => T): DeferredSchema<T> => new DeferredSchema(build);

/** What a deferred schema's parse returns: `z.infer` for a `DeferredSchema`. */
export type Infer<S> = S extends DeferredSchema<infer T> ? z.output<T> : never;
