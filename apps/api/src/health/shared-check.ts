/**
 * A check that many callers share: those that come while it runs get its outcome, and a pass is reused for
 * `reuseMs` after it ended, so however many requests ask, the check itself runs at most once a `reuseMs` while it
 * passes. A failure is not reused: the next caller checks again (concurrent ones still share that one run), so a
 * store that comes back is seen at once. For `GET /health/store`, public wherever every route is (Lambda): each
 * request cost a store call (on Redis, INFO and a write), so a client asking in a loop set the store's load and bill.
 * Written here, not taken from a memoising library: a few lines, and p-memoize and its kin reuse a result by a key
 * for a time, not "in flight, then passes only", which is the whole point.
 */
export class SharedCheck {
  #running: Promise<void> | undefined;
  #passedAt = -Infinity;

  constructor(
    private readonly check: () => Promise<void>,
    private readonly reuseMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  run(): Promise<void> {
    if (this.now() - this.#passedAt < this.reuseMs) return Promise.resolve();
    this.#running ??= this.check()
      .then(() => {
        this.#passedAt = this.now();
      })
      .finally(() => {
        this.#running = undefined;
      });
    return this.#running;
  }
}
