import { type ConnectSessionStore, type UserIndexEntry, userIndexEntryOf, userIndexMember } from '@kura/common';
import { Migration } from './migration.js';

/**
 * `destroySessionsOf`'s endings of the sessions still in the previous store (`Migration.endUser`): their compaction
 * keeps every ending in force however three of them at once interleave, each await of each played in every order.
 */
const ENTRY = 'previous-store';
const SESSIONS = ['a', 'b', 'c', 'z'];
const SEENS = [undefined, 0, 1, 2, 3, 4, 5, 6];
/** Whether a mark of these entries ends the session `id` written with the count `seen` (as `Endings.end` says). */
const ends = (entries: readonly UserIndexEntry[], seen: number | undefined, id: string) => entries.some((entry) => entry.addedAtMs > (seen ?? -1) && entry.id !== `${ENTRY}:${id}`);
const entriesOf = (members: Iterable<string>) => [...members].map((member) => userIndexEntryOf(member)!);
const countOf = (entries: readonly UserIndexEntry[]) => Math.max(0, ...entries.map((entry) => entry.addedAtMs));

/** Every order of `counts[i]` steps of each op `i`. */
function* orders(counts: number[], prefix: number[] = []): Generator<number[]> {
  if (counts.every((count) => count === 0)) return yield prefix;
  for (let op = 0; op < counts.length; op += 1) {
    if (counts[op] === 0) continue;
    counts[op] = counts[op]! - 1;
    yield* orders(counts, [...prefix, op]);
    counts[op] = counts[op]! + 1;
  }
}

/**
 * `destroySessionsOf`'s `endUser`, one per op, on one mark held in memory: each call to the port waits until the
 * order given runs it, then is made at once (one Redis command each; a listing in an order of each op's own). After every step, whatever any entry ever added
 * ends is still ended by the mark as it stands, and the count never goes down.
 */
async function play(order: number[], excepts: (string | undefined)[], initial: string[]): Promise<string | undefined> {
  const mark = new Set(initial);
  const ever = new Set(initial);
  const waiting = new Map<number, () => void>();
  const portOf = (op: number) => {
    const gate = <T>(apply: () => T) => new Promise<T>((resolve) => waiting.set(op, () => resolve(apply())));
    return {
      // In no order (SMEMBERS): each op gets the members in an order of its own.
      userIndex: () => gate(() => (op % 2 === 0 ? [...mark] : [...mark].reverse()).map((member) => userIndexEntryOf(member)!)),
      addToUserIndex: (_key: string, entry: UserIndexEntry) =>
        gate(() => {
          mark.add(userIndexMember(entry));
          ever.add(userIndexMember(entry));
          return mark.size;
        }),
      removeFromUserIndex: (_key: string, entries: readonly UserIndexEntry[]) =>
        gate(() => {
          for (const entry of entries) mark.delete(userIndexMember(entry));
        }),
    } as unknown as ConnectSessionStore;
  };
  const migration = new Migration({ previous: undefined as never, rolloutMs: 0, previousTtlMs: 0, ttlMs: 0, absoluteTtlMs: undefined, users: undefined, notData: new Set() });
  const running = excepts.map((except, op) => migration.endUser(portOf(op), 'ada', except));
  let count = countOf(entriesOf(mark));
  for (const [step, op] of order.entries()) {
    for (let turn = 0; turn < 100 && !waiting.has(op); turn += 1) await Promise.resolve();
    const run = waiting.get(op);
    if (!run) return `step ${step}: op ${op} is not waiting on the port`;
    waiting.delete(op);
    run();
    const now = entriesOf(mark);
    const all = entriesOf(ever);
    for (const id of SESSIONS) for (const seen of SEENS) if (ends(all, seen, id) && !ends(now, seen, id)) return `after step ${step} (${order.join('')}): an ending of ${id} (seen ${seen}) was taken out; mark ${[...mark].join(' ')}; ever ${[...ever].join(' ')}`;
    if (countOf(now) < count) return `after step ${step} (${order.join('')}): the count went down to ${countOf(now)}`;
    count = countOf(now);
  }
  await Promise.all(running);
  return undefined;
}

describe('destroySessionsOf at once: the endings compaction, every interleaving of its awaits', () => {
  const cases: [string, (string | undefined)[], string[]][] = [
    ['three at once: none spared, a spared, b spared; no mark before', [undefined, 'a', 'b'], []],
    ['three at once: a, b, c spared; a mark of the version before (count 0)', ['a', 'b', 'c'], [`0:${ENTRY}`]],
    ['three at once: a, a, none; a mark sparing a and one sparing b before', ['a', 'a', undefined], [`2:${ENTRY}:a`, `1:${ENTRY}:b`]],
  ];
  it.each(cases)('%s', async (_name, excepts, initial) => {
    let plays = 0;
    for (const order of orders(excepts.map(() => 4))) {
      plays += 1;
      const failure = await play(order, excepts, initial);
      if (failure) throw new Error(failure);
    }
    expect(plays).toBe(34_650);
  }, 600_000);
});
