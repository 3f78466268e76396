/** The part of express-session's `Store` a store borrows: how a stored session becomes a live `Session`. */
type CreateSession = (this: unknown, req: object, sess: Record<string, unknown>) => object;
interface ExpressSessionModule {
  Store: { prototype: { createSession: CreateSession } };
}

let createSession: CreateSession | undefined;
let loading: Promise<void> | undefined;
let settled = false;

/**
 * Loads express-session, once, for its own `Store.prototype.createSession`, which builds its `Cookie` and `Session`
 * classes around a stored session; settles, whether or not it is installed (@fastify/session users need not
 * install it). Called by the store's reads, which express-session's `createSession` calls follow, so it has settled
 * by then.
 *
 * An `import()` of the name as written, which a bundler follows and bundles where the package is installed (its
 * `.catch` tells esbuild it may be missing). It was a `require` made with `createRequire(import.meta.url)` at load,
 * which bundlers cannot follow: an ES module bundle run away from node_modules (a Lambda) answered 500 to every
 * request with a session, and a CommonJS bundle, where `import.meta.url` is empty, did not start, Fastify apps too
 * (an outside review, 2026-12-07).
 */
export function loadExpressSession(): Promise<void> {
  // @ts-ignore: express-session ships no types, and this package depends on none (an app may have @types/express-session).
  return (loading ??= import('express-session')
    .catch(() => undefined)
    .then((module: unknown) => {
      const loaded = module as (ExpressSessionModule & { default?: ExpressSessionModule }) | undefined;
      createSession = (loaded?.default ?? loaded)?.Store?.prototype.createSession;
      settled = true;
    }));
}

/** Whether `loadExpressSession` has settled (a store's read need not wait for it). */
export const expressSessionSettled = (): boolean => settled;

/** express-session's `Store.prototype.createSession`, once loaded. */
export function expressCreateSession(): CreateSession {
  if (!createSession) throw new Error('KuraStore: express-session could not be loaded (npm install express-session); KuraStore uses its Session and Cookie classes');
  return createSession;
}
