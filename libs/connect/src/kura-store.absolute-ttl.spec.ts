import { randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import { ManualClock } from '@kura/common';
import { KuraStore } from './kura-store.js';
import type { KuraStoreOptions } from './kura-store.options.js';

const DAY = 86_400_000;
const clock = new ManualClock(Date.now());
const nothing = async (): Promise<undefined> => undefined;
/** A storage that keeps nothing: these tests look only at what the store says, not at what it writes. */
const adapter = { read: nothing, replace: nothing, update: async (): Promise<boolean> => true, delete: nothing, addToUserIndex: async () => 1, userIndex: async () => [], removeFromUserIndex: nothing, noteIndexed: async () => true };
const newSid = () => randomBytes(18).toString('base64url');
/** A session as express-session hands it over at login, its cookie expiring in `ms` (or a browser-session cookie). */
const loginWith = (ms: number | null) => ({ cookie: ms === null ? { originalMaxAge: null, expires: null, path: '/' } : { originalMaxAge: ms, expires: new Date(clock.now() + ms).toISOString(), path: '/' }, user: 7 });

/** The warnings KuraStore emitted while `logins` sessions were saved, each with its cookie. */
async function warningsAfter(options: Partial<KuraStoreOptions>, ...logins: (number | null)[]): Promise<string[]> {
  const warnings: string[] = [];
  const emit = jest.spyOn(process, 'emitWarning').mockImplementation(((warning: string, options?: { code?: string }) => {
    warnings.push(`${options?.code}: ${warning}`);
  }) as typeof process.emitWarning);
  try {
    const sut = new KuraStore({ adapter, clock, ...options });
    for (const ms of logins) await sut.set(newSid(), loginWith(ms));
    return warnings;
  } finally {
    emit.mockRestore();
  }
}

describe('KuraStore and a cookie that outlives absoluteTtlSeconds', () => {
  it('warns once, naming the cookie\'s lifetime, absoluteTtlSeconds and what to change, when a 30-day cookie meets the default day', async () => {
    const warnings = await warningsAfter({}, 30 * DAY, 30 * DAY, 30 * DAY);

    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^KURA_COOKIE_OUTLIVES_SESSION: /);
    expect(warnings[0]).toContain('2592000 s (30 days)');
    expect(warnings[0]).toContain('absoluteTtlSeconds is 86400 s (24 hours)');
    expect(warnings[0]).toContain('absoluteTtlSeconds at least the cookie\'s maxAge');
  });

  it('warns once per store: another store warns again', async () => {
    expect(await warningsAfter({}, 2 * DAY)).toHaveLength(1);
    expect(await warningsAfter({}, 2 * DAY)).toHaveLength(1);
  });

  it.each([
    ['a cookie no longer than the absolute lifetime', {}, [DAY, 30 * 60_000]],
    ['a browser-session cookie (no maxAge)', {}, [null]],
    ['absoluteTtlSeconds as long as the cookie', { absoluteTtlSeconds: 30 * 86_400 }, [30 * DAY]],
    ['no absolute lifetime (null)', { absoluteTtlSeconds: null }, [365 * DAY]],
  ] as const)('says nothing of %s', async (_case, options, logins) => {
    expect(await warningsAfter(options, ...logins)).toEqual([]);
  });
});
