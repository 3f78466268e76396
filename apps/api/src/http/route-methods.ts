/**
 * The methods each path of the app takes, recorded as Fastify registers its routes (`add`, from an `onRoute`
 * hook), so that a request whose path exists under other methods is answered 405 with `Allow` (RFC 9110, section
 * 15.5.6), not 404: `DELETE /auth/me` names a resource that is there. Read only once the router has found no route,
 * never on a request it serves. Catch-all routes (the explorer's files, CORS's `OPTIONS *`) name no path of their own
 * and are left out.
 */
export class RouteMethods {
  readonly #exact = new Map<string, Set<string>>();
  /** By the expression's source, which two routes differing only in a parameter's name share. */
  readonly #parametric = new Map<string, { readonly pattern: RegExp; readonly methods: Set<string> }>();

  /** A route as Fastify's `onRoute` hook gives it: its method or methods, and its URL (`/auth/sessions/:id`). */
  add(method: string | readonly string[], url: string): void {
    if (url.includes('*')) return;
    const methods = url.includes(':') ? this.#patternOf(url) : this.#exactOf(url);
    for (const name of typeof method === 'string' ? [method] : method) {
      methods.add(name);
      // Fastify answers HEAD wherever GET is (exposeHeadRoutes), as RFC 9110 asks.
      if (name === 'GET') methods.add('HEAD');
    }
  }

  /** The methods `path` (no query) takes, in a stable order, or `undefined` where no route has it. */
  of(path: string): readonly string[] | undefined {
    let methods = this.#exact.get(path);
    for (const { pattern, methods: ofPattern } of methods ? [] : this.#parametric.values()) {
      if (pattern.test(path)) {
        methods = ofPattern;
        break;
      }
    }
    return methods && [...methods].sort();
  }

  #exactOf(url: string): Set<string> {
    let methods = this.#exact.get(url);
    if (!methods) this.#exact.set(url, (methods = new Set()));
    return methods;
  }

  #patternOf(url: string): Set<string> {
    // A parameter (`:id`) is one segment, as find-my-way matches it; the rest is literal.
    const source = `^${url
      .split('/')
      .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/')}$`;
    let entry = this.#parametric.get(source);
    if (!entry) this.#parametric.set(source, (entry = { pattern: new RegExp(source), methods: new Set() }));
    return entry.methods;
  }
}

/** A path that exists, asked with a method it does not take: answered 405 with `Allow`. */
export class MethodNotAllowedError extends Error {
  constructor(readonly allowed: readonly string[]) {
    super(`This path takes ${allowed.join(', ')}`);
    this.name = 'MethodNotAllowedError';
  }
}
