import type { EndedSession } from './session-store.port.js';

/**
 * The sessions a sweep ended, by user: `ids[i]` ended as `ended[i]` (`undefined`: not a session, nothing ended).
 * For an adapter's `removeAll`, which drops exactly those from each user's register.
 */
export function endedByUser(ids: readonly string[], ended: readonly (EndedSession | undefined)[]): Map<string, string[]> {
  const byUser = new Map<string, string[]>();
  ended.forEach((session, index) => {
    if (!session) return;
    const own = byUser.get(session.userId);
    if (own) own.push(ids[index]!);
    else byUser.set(session.userId, [ids[index]!]);
  });
  return byUser;
}
