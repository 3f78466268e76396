/**
 * What @kura/common holds once per process, whichever copy of it a package loaded. npm nests a second copy when two
 * @kura packages ask for different versions of it (one upgraded alone), and then @kura/dynamodb threw the
 * `StoreUnavailableError` of its copy while @kura/session and the app's handler tested for the other's with
 * `instanceof`: a store outage answered 500, not 503 (an outside review, 2026-12-07). Its errors are recognised
 * by a mark shared through the global symbol registry, and its per-request state is one shared object.
 */

/**
 * Makes `error instanceof errorClass` hold for the errors of this class made by any copy of @kura/common: the class
 * marks its prototype with a registered symbol, and `instanceof` asks for the mark. A subclass keeps the ordinary
 * test (its instances carry the mark too, so they are still instances of this class).
 */
export function recognisedAcrossCopies(errorClass: abstract new (...args: never[]) => Error, name: string): void {
  const mark = Symbol.for(`@kura/common ${name}`);
  Object.defineProperty(errorClass.prototype, mark, { value: true });
  Object.defineProperty(errorClass, Symbol.hasInstance, {
    value(this: abstract new (...args: never[]) => unknown, value: unknown): boolean {
      if (this !== errorClass) return Function.prototype[Symbol.hasInstance].call(this, value);
      return typeof value === 'object' && value !== null && mark in value;
    },
  });
}

/** One value per process under `name`, made by the first copy of @kura/common that asks for it. */
export function sharedAcrossCopies<T extends object>(name: string, make: () => T): T {
  const key = Symbol.for(`@kura/common ${name}`);
  const registry = globalThis as unknown as Record<symbol, T | undefined>;
  return (registry[key] ??= make());
}
