import { jest } from '@jest/globals';
import type { SessionService } from '@kura/session';
import { Lifecycle } from './lifecycle.js';
import { StoreUnavailableError } from '@kura/common';
import { Readiness, STARTING, STARTING_USERS } from './readiness.js';

const storeDown = () => Promise.reject(new Error('store unreachable'));
const storeUp = () => Promise.resolve();

function readinessWith(ping: () => Promise<void>, usersPing: (() => Promise<void>) | undefined = storeUp) {
  const lifecycle = new Lifecycle();
  const store = { ping: jest.fn(ping) };
  const users = usersPing ? { ping: jest.fn(usersPing) } : {};
  return { sut: new Readiness(lifecycle, store as unknown as SessionService, users), store, users, lifecycle };
}

describe('Readiness', () => {
  it('is not ready while starting: the store has never answered this replica (a wrong role, table or region)', async () => {
    const { sut } = readinessWith(storeDown);

    expect(await sut.notReadyReason()).toBe(STARTING);
  });

  // Only the sessions table was pinged: a wrong KURA_USERS_TABLE made a ready replica that answered every login 503.
  it('is not ready while the users table, apart from the sessions (DynamoDB), has not answered, saying why', async () => {
    const missing = new StoreUnavailableError('user.ping', { reason: 'table kura-prod-users does not exist: run npm run db:init' });
    const { sut, users } = readinessWith(storeUp, () => Promise.reject(missing));

    expect(await sut.notReadyReason()).toBe(`${STARTING_USERS}: table kura-prod-users does not exist: run npm run db:init`);
    (users as { ping: jest.Mock<() => Promise<void>> }).ping.mockImplementation(storeUp);
    expect(await sut.notReadyReason()).toBeUndefined();
  });

  it('turns ready at the session store\'s first answer where the users have no store apart (Redis, memory)', async () => {
    const { sut } = readinessWith(storeUp, undefined);

    expect(await sut.notReadyReason()).toBeUndefined();
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
