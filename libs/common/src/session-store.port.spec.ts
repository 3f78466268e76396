import { jest } from '@jest/globals';
import { cleanUpRegister, registerCleanup, registerOutcome } from './session-store.port.js';
import { StoreUnavailableError } from './store-unavailable.error.js';

describe('what a register step leaves to clean up (every adapter alike)', () => {
  const now = 1_000_000;
  const entry = (id: string, absoluteExpiresAt: number, credentialVersion = 1) => ({ id, absoluteExpiresAt, credentialVersion });
  const login = entry('new', now + 1000);

  it('drops, without a read, the entries past their absolute expiry on these credentials or newer; older ones are the outcome\'s to end', () => {
    const entries = [login, entry('live', now + 1), entry('over', now), entry('older-over', now - 5, 0), entry('newer-over', now - 1, 2)];

    expect(registerCleanup(entries, login, now)).toEqual({ unregister: ['over', 'newer-over'] });
    expect(registerOutcome(entries, login, now)).toMatchObject({ older: [entry('older-over', now - 5, 0)] });
  });

  it('prunes every other entry at each hundredth registration from a thousand on, and only then', () => {
    const register = (count: number) => [login, ...Array.from({ length: count - 1 }, (_, i) => entry(`s${i}`, now + 1))];

    expect(registerCleanup(register(1000), login, now)).toEqual({ prune: register(1000).slice(1) });
    expect(registerCleanup(register(1100), login, now)).toMatchObject({ prune: expect.any(Array) });
    for (const count of [999, 1001, 1099, 900]) expect(registerCleanup(register(count), login, now)).toEqual({ unregister: [] });
  });

  it('runs the adapter\'s step it chose, and fails no registration when the store fails it (upkeep, done again later)', async () => {
    const steps = { prune: jest.fn(async (_entries: readonly unknown[]) => undefined), unregister: jest.fn(async (_ids: readonly string[]) => undefined) };
    await cleanUpRegister([login, entry('over', now)], login, now, steps);
    expect(steps.unregister).toHaveBeenCalledWith(['over']);
    expect(steps.prune).not.toHaveBeenCalled();

    const failing = { prune: async () => Promise.reject(new StoreUnavailableError('session.register')), unregister: async () => Promise.reject(new StoreUnavailableError('session.unregister')) };
    await expect(cleanUpRegister([login, entry('over', now)], login, now, failing)).resolves.toBeUndefined();
    const thousand = [login, ...Array.from({ length: 999 }, (_, i) => entry(`s${i}`, now + 1))];
    await expect(cleanUpRegister(thousand, login, now, failing)).resolves.toBeUndefined();
    // A defect is no store failure: it goes up.
    await expect(cleanUpRegister(thousand, login, now, { ...failing, prune: async () => Promise.reject(new TypeError('bug')) })).rejects.toThrow(TypeError);
  });
});
