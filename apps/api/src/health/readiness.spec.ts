import { jest } from '@jest/globals';
import type { SessionService } from '@kura/session';
import { Lifecycle } from './lifecycle.js';
import { Readiness, STARTING } from './readiness.js';

const storeDown = () => Promise.reject(new Error('store unreachable'));
const storeUp = () => Promise.resolve();

function readinessWith(ping: () => Promise<void>) {
  const lifecycle = new Lifecycle();
  const store = { ping: jest.fn(ping) };
  return { sut: new Readiness(lifecycle, store as unknown as SessionService), store, lifecycle };
}

describe('Readiness', () => {
  it('is not ready while starting: the store has never answered this replica (a wrong role, table or region)', async () => {
    const { sut } = readinessWith(storeDown);

    expect(await sut.notReadyReason()).toBe(STARTING);
  });

  it('turns ready at the first answer from the store', async () => {
    const { sut, store } = readinessWith(storeDown);
    await sut.notReadyReason();
    store.ping.mockImplementation(storeUp);

    expect(await sut.notReadyReason()).toBeUndefined();
  });

  it('stays ready when the store fails after that: every replica shares it, so none leaves the Service for it', async () => {
    const { sut, store } = readinessWith(storeUp);
    await sut.notReadyReason();
    store.ping.mockImplementation(storeDown);

    expect(await sut.notReadyReason()).toBeUndefined();
    expect(await sut.notReadyReason()).toBeUndefined();
  });

  it('asks the store only until it has answered once', async () => {
    const { sut, store } = readinessWith(storeUp);
    for (let probe = 0; probe < 5; probe += 1) await sut.notReadyReason();

    expect(store.ping).toHaveBeenCalledTimes(1);
  });

  it('makes one call at a time while starting, however many probes overlap', async () => {
    let answer: () => void = () => undefined;
    const { sut, store } = readinessWith(() => new Promise<void>((resolve) => (answer = resolve)));
    const probes = [sut.notReadyReason(), sut.notReadyReason(), sut.notReadyReason()];
    answer();

    expect(await Promise.all(probes)).toEqual([undefined, undefined, undefined]);
    expect(store.ping).toHaveBeenCalledTimes(1);
  });

  it('is not ready while draining, whatever the store says', async () => {
    const { sut, lifecycle } = readinessWith(storeUp);
    await sut.notReadyReason();
    lifecycle.startDraining();

    expect(await sut.notReadyReason()).toBe('shutting down');
  });
});
