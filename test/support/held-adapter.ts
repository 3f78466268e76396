import type { ConnectSessionStore } from '@kura/common';

/**
 * `adapter` with its calls of `method` held: each one says it was reached (`reached`), then waits for `release()`
 * before it goes through. Every other call goes through at once.
 */
export function holding<M extends keyof ConnectSessionStore>(adapter: ConnectSessionStore, method: M): { adapter: ConnectSessionStore; reached: Promise<void>; release(): void } {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let reach!: () => void;
  const reached = new Promise<void>((resolve) => (reach = resolve));
  const held = Object.fromEntries(
    METHODS.map((name) => [
      name,
      async (...args: unknown[]) => {
        if (name === method) {
          reach();
          await released;
        }
        return (adapter[name] as (...a: unknown[]) => unknown).apply(adapter, args);
      },
    ]),
  ) as unknown as ConnectSessionStore;
  return { adapter: held, reached, release };
}
const METHODS = ['read', 'replace', 'update', 'delete', 'addToUserIndex', 'userIndex', 'removeFromUserIndex', 'noteIndexed'] as const satisfies readonly (keyof ConnectSessionStore)[];
