/**
 * Told of every command as its answer (or failure) arrives: for metrics (Prometheus counters, CloudWatch EMF).
 * `failed`: no answer the stores could use, an answer after their deadline included.
 */
export type RedisCommandListener = (command: { name: string; failed: boolean; seconds: number }) => void;

/**
 * Counts every command Kura's stores send to Redis (by name: `HGETALL`, `EVALSHA`, ... and whether it failed)
 * and how long its round trip took, from the first listener on (without one, a command costs nothing extra). Give it to `connectRedis` (`commandLog`) and add listeners for metrics; a
 * durable write's `WAIT` is part of its command's round trip, not a command of its own. Aggregates only, so it
 * can stay on in production.
 */
export class RedisCommandLog {
  private readonly listeners: RedisCommandListener[] = [];
  private totals = new Map<string, { calls: number; failures: number }>();
  private readonly deadlineMs: number;

  /**
   * @param options.deadlineMs the stores' `commandTimeoutMs`: a reply that comes later is counted as a failure, since
   * the stores had given up on it (the request answered 503) and dropped it. @default 1000, the stores' default
   */
  constructor(options: { deadlineMs?: number } = {}) {
    this.deadlineMs = options.deadlineMs ?? 1000;
  }

  /** Adds a listener told of every command from now on. */
  onCommand(listener: RedisCommandListener): void {
    this.listeners.push(listener);
  }

  record(name: string, failed: boolean, seconds: number): void {
    const entry = this.totals.get(name) ?? { calls: 0, failures: 0 };
    if (entry.calls === 0) this.totals.set(name, entry);
    entry.calls += 1;
    if (failed) entry.failures += 1;
    for (const listener of this.listeners) listener({ name, failed, seconds });
  }

  /** Calls and failures by command name since the last reset (a copy). */
  snapshot(): Record<string, { calls: number; failures: number }> {
    return Object.fromEntries([...this.totals].map(([name, entry]) => [name, { ...entry }]));
  }

  reset(): void {
    this.totals = new Map();
  }

  /** `send`, counted: its name, outcome and round trip (only while someone listens: nothing to pay otherwise). */
  async time<T>(args: readonly string[], send: () => Promise<T>): Promise<T> {
    if (this.listeners.length === 0) return send();
    const started = performance.now();
    try {
      const reply = await send();
      const ms = performance.now() - started;
      this.record(nameOf(args), ms > this.deadlineMs, ms / 1000);
      return reply;
    } catch (error) {
      this.record(nameOf(args), true, (performance.now() - started) / 1000);
      throw error;
    }
  }
}

/** A command's name, upper case; only names Kura sends are expected, anything else is counted as `OTHER`. */
const nameOf = (args: readonly string[]) => {
  const name = (args[0] ?? '').toUpperCase();
  return /^[A-Z]{1,16}$/.test(name) ? name : 'OTHER';
};
