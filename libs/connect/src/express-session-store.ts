import { createRequire } from 'node:module';

/** The part of express-session's `Store` a store borrows: how a stored session becomes a live `Session`. */
interface ExpressSessionModule {
  Store: { prototype: { createSession(this: unknown, req: object, sess: Record<string, unknown>): object } };
}

const require = createRequire(import.meta.url);

/**
 * express-session's own `Store.prototype.createSession`, which builds its `Cookie` and `Session` classes around
 * a stored session. Loaded only when express-session calls for it, so @fastify/session users need not install
 * express-session.
 */
export function expressCreateSession(): ExpressSessionModule['Store']['prototype']['createSession'] {
  // Once: `require` resolves the name again on every call, measurable on a path taken by every request.
  createSession ??= (require('express-session') as ExpressSessionModule).Store.prototype.createSession;
  return createSession;
}

let createSession: ExpressSessionModule['Store']['prototype']['createSession'] | undefined;
