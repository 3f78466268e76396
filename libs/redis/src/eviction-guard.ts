import { StoreUnavailableError } from '@kura/common';
import { isCommandUnavailable } from './redis-errors.js';
import type { RedisCommander } from './redis-script.js';

/** How often a guard refusing under an `allkeys-*` eviction policy reads the policy again (ms). */
const RECHECK_MS = 1000;
/** How often a guard that accepted the policy reads it again, while calls come (ms). */
const STEADY_RECHECK_MS = 10_000;
/** No reading yet (a policy read may be `undefined`: INFO without the field). */
const UNREAD = Symbol('unread');

/** What a store makes of Redis's eviction policy: the refusal's reason under an `allkeys-*` one, and what else it reads. */
export interface EvictionPolicyReaction {
  refusal(policy: string): string;
  /** Any other policy (`noeviction`, a `volatile-*` one), or none read: at the first reading, and when it changes. */
  accepted?(policy: string | undefined): void;
}

/**
 * Refuses a store's calls while Redis's `maxmemory-policy` is an `allkeys-*` one, under which Redis may evict what
 * has no expiry (an account, a user's credential in force, the end of a session) to make room: a refusal (a 503
 * saying why) rather than an acknowledged write that may vanish. The policy is read with one `INFO memory` at the
 * first call (a write waits for it; a read goes on), again after a failure to read it, at most every second while
 * refused (so that `CONFIG SET maxmemory-policy noeviction` ends the refusal without a restart), and every 10 s
 * otherwise, in the background of a call (so that a policy set on a running Redis is refused within 10 s: an outside
 * review had a registration answered 201 after `CONFIG SET maxmemory-policy allkeys-lru`, the process having read the
 * policy once). Anything else that reads `INFO` hands it over ({@link observe}: the service's `/health/store`).
 * A user whose ACL refuses `INFO` (or a server that renamed it) is not checked, nor refused.
 */
export class EvictionGuard {
  /** Whether Redis has answered a reading of the policy (or said it may not be read): calls no longer wait for one. */
  answered = false;
  private checked: Promise<void> | undefined;
  /** Set while the policy is an `allkeys-*` one (`atMs`: monotonic, `performance.now()`). */
  private refused: { readonly reason: string; readonly atMs: number } | undefined;
  /** When the policy was last read or asked for (monotonic ms); Infinity where it may not be read. */
  private readAtMs = 0;
  private policy: string | undefined | typeof UNREAD = UNREAD;

  constructor(
    private readonly redis: RedisCommander,
    private readonly reaction: EvictionPolicyReaction,
  ) {}

  /** Throws while the policy is an `allkeys-*` one; asks for it at the first call, and now and then, without waiting. */
  refuse(operation: string): void {
    this.checked ??= this.check();
    const refused = this.refused;
    if (!refused) {
      if (this.answered && performance.now() - this.readAtMs >= STEADY_RECHECK_MS) this.checked = this.check();
      return;
    }
    if (performance.now() - refused.atMs >= RECHECK_MS) {
      this.refused = { ...refused, atMs: performance.now() };
      this.checked = this.check();
    }
    throw new StoreUnavailableError(operation, { reason: refused.reason });
  }

  /** {@link refuse}, for a write: made before the policy's first answer, it waits for it (one round trip, once). */
  async refuseWrite(operation: string): Promise<void> {
    if (!this.answered) await (this.checked ??= this.check());
    this.refuse(operation);
  }

  private async check(): Promise<void> {
    this.readAtMs = performance.now();
    let info: string;
    try {
      info = String(await this.redis.sendCommand(['INFO', 'memory']));
    } catch (error) {
      // Not checked: nor refused (a refusal kept here would last for good, its re-check refused every time).
      if (isCommandUnavailable(error)) {
        this.refused = undefined;
        this.answered = true;
        this.readAtMs = Infinity;
      } else if (!this.answered) {
        this.checked = undefined; // the first reading failed (Redis down?): the next call asks again
      }
      return;
    }
    this.observe(info);
  }

  /** What an `INFO` (any reply holding the `memory` section) read elsewhere says of the policy, taken as a reading. */
  observe(info: string): void {
    this.answered = true;
    this.readAtMs = performance.now();
    const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
    if (policy?.startsWith('allkeys-')) {
      this.refused = { reason: this.reaction.refusal(policy), atMs: this.refused?.atMs ?? performance.now() };
    } else {
      this.refused = undefined;
      if (policy !== this.policy) this.reaction.accepted?.(policy);
    }
    this.policy = policy;
  }
}

/**
 * `redis`, every command (and durable write) refused by `guard` first: the whole of a store's way in. Once Redis has
 * answered the guard, a command waits for nothing more (a steady request's read pays a field read, not a turn).
 */
export function guardedByEviction(redis: RedisCommander, guard: EvictionGuard): RedisCommander {
  const operation = 'redis.maxmemory-policy';
  const guarded = (send: () => Promise<unknown>): Promise<unknown> => {
    if (!guard.answered) return guard.refuseWrite(operation).then(send);
    try {
      guard.refuse(operation);
    } catch (error) {
      return Promise.reject(error);
    }
    return send();
  };
  const sendDurable = redis.sendDurable?.bind(redis);
  return {
    ...redis,
    sendCommand: (args) => guarded(() => redis.sendCommand(args)),
    ...(sendDurable ? { sendDurable: (args: string[]) => guarded(() => sendDurable(args)) } : {}),
  };
}
