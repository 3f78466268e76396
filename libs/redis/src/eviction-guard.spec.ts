import { jest } from '@jest/globals';
import { StoreUnavailableError } from '@kura/common';
import { EvictionGuard } from './eviction-guard.js';
import type { RedisCommander } from './redis-script.js';

/**
 * EvictionGuard's readings, on a commander that answers `INFO memory` with the policy set here (a unit test: the
 * guard on real servers is in redis-session.store.spec and redis-connect-session.eviction.spec).
 */
describe('EvictionGuard: when it reads the policy again, and what it says each time', () => {
  let policy = 'volatile-lru';
  let infos = 0;
  const redis: RedisCommander = {
    sendCommand: async () => {
      infos += 1;
      return `# Memory\r\nmaxmemory_policy:${policy}\r\n`;
    },
  };
  let now = 1_000_000;
  beforeEach(() => {
    policy = 'volatile-lru';
    infos = 0;
    jest.spyOn(performance, 'now').mockImplementation(() => now);
  });
  afterEach(() => jest.restoreAllMocks());
  const settled = () => new Promise((resolve) => setImmediate(resolve));

  it('reads it again every 10 s of calls, and says an accepted policy once per change, not at every reading', async () => {
    const accepted = jest.fn();
    const guard = new EvictionGuard(redis, { refusal: (p) => `refused ${p}`, accepted });
    await guard.refuseWrite('op');
    expect([infos, accepted.mock.calls]).toEqual([1, [['volatile-lru']]]);

    for (let second = 1; second <= 35; second += 1) {
      now += 1000;
      guard.refuse('op');
      await settled();
    }
    expect(infos).toBe(4); // at 10, 20 and 30 s
    expect(accepted).toHaveBeenCalledTimes(1); // the same policy: the warning (KuraStore's) is not said again

    policy = 'noeviction';
    now += 10_000;
    guard.refuse('op');
    await settled();
    expect(accepted.mock.calls).toEqual([['volatile-lru'], ['noeviction']]);
  });

  it('refuses from the reading after an allkeys-* policy was set, and reads nothing while no call comes', async () => {
    const guard = new EvictionGuard(redis, { refusal: (p) => `refused ${p}` });
    await guard.refuseWrite('op');
    policy = 'allkeys-lru';
    now += 60_000; // idle for a minute: no reading
    expect(infos).toBe(1);

    guard.refuse('op'); // the call that finds the reading due goes on
    await settled();
    expect(() => guard.refuse('op')).toThrow(new StoreUnavailableError('op', { reason: 'refused allkeys-lru' }));
  });
});
