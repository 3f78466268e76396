import { StoreUnavailableError } from '@kura/common';
import { hashSlotOf } from './redis-cluster.js';

/** `count` session ids whose keys all hash to one slot (ids are each key's hash tag). */
export function idsInOneSlot(count: number): { slot: number; ids: string[] } {
  const first = `s${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const slot = hashSlotOf(`{${first}}`);
  const ids = [first];
  for (let n = 0; ids.length < count; n += 1) if (hashSlotOf(`{${first}-${n}}`) === slot) ids.push(`${first}-${n}`);
  return { slot, ids };
}

/** A new session of `userId`, an hour to live, as a login writes it. */
export function sessionRecord(id: string, userId: string) {
  const now = Date.now();
  return { id, user: { id: userId, name: null }, createdAt: now, lastSeenAt: now, idleExpiresAt: now + 60_000, absoluteExpiresAt: now + 3_600_000 };
}

/** Whether a store call was acknowledged, or why it was refused (and what the client said, in brackets). */
export const outcome = (work: Promise<unknown>) =>
  work.then(
    () => 'acknowledged',
    (error: unknown) =>
      `refused: ${error instanceof StoreUnavailableError ? `${error.reason}${error.cause instanceof Error ? ` (${error.cause.message})` : ''}` : String(error)}`,
  );

/** A durable write refused because its replica did not confirm it in time. */
export const REFUSED_BY_WAIT = expect.stringMatching(/^refused: only 0 of 1 replica\(s\) confirmed the write/);
