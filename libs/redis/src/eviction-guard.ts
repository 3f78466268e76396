import { StoreUnavailableError } from '@kura/common';
import { isCommandUnavailable } from './redis-errors.js';
import type { RedisCommander } from './redis-script.js';

/** How often a guard refusing under an `allkeys-*` eviction policy reads the policy again (ms). */
const RECHECK_MS = 1000;

/** What a store makes of Redis's eviction policy: the refusal's reason under an `allkeys-*` one, and what else it reads. */
export interface EvictionPolicyReaction {
  refusal(policy: string): string;
  /** Any other policy (`noeviction`, a `volatile-*` one), or none read: once per reading. */
  accepted?(policy: string | undefined): void;
}

/**
 * Refuses a store's calls while Redis's `maxmemory-policy` is an `allkeys-*` one, under which Redis may evict what
 * has no expiry (an account, a user's credential in force, the end of a session) to make room: a refusal (a 503
 * saying why) rather than an acknowledged write that may vanish. The policy is read with one `INFO memory` at the
 * first call (a write waits for it; a read goes on), again after a failure to read it, and at most every second
 * while refused, so that `CONFIG SET maxmemory-policy noeviction` ends the refusal without a restart. A user whose
 * ACL refuses `INFO` (or a server that renamed it) is not checked, nor refused. Read once otherwise: a policy set
 * later is not seen until the process restarts (readiness, `/health/store`, reads it on every probe).
 */
export class EvictionGuard {
  /** Whether Redis has answered a reading of the policy (or said it may not be read): calls no longer wait for one. */
  answered = false;
  private checked: Promise<void> | undefined;
  /** Set while the policy is an `allkeys-*` one (`atMs`: monotonic, `performance.now()`). */
  private refused: { readonly reason: string; readonly atMs: number } | undefined;

  constructor(
    private readonly redis: RedisCommander,
    private readonly reaction: EvictionPolicyReaction,
  ) {}

  /** Throws while the policy is an `allkeys-*` one; asks for it at the first call, without waiting. */
  refuse(operation: string): void {
    this.checked ??= this.check();
    const refused = this.refused;
    if (!refused) return;
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
    let info: string;
    try {
      info = String(await this.redis.sendCommand(['INFO', 'memory']));
    } catch (error) {
      // Not checked: nor refused (a refusal kept here would last for good, its re-check refused every time).
      if (isCommandUnavailable(error)) {
        this.refused = undefined;
        this.answered = true;
      } else {
        this.checked = undefined;
      }
      return;
    }
    this.answered = true;
    const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
    if (policy?.startsWith('allkeys-')) {
      this.refused = { reason: this.reaction.refusal(policy), atMs: performance.now() };
      return;
    }
    this.refused = undefined;
    this.reaction.accepted?.(policy);
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
