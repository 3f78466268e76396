import { InMemorySessionStore } from './in-memory-session.store.js';
import {
  InvalidSessionDataError,
  SessionDataConflictError,
  SessionDataContentionError,
  SessionDataTooLargeError,
} from './session.errors.js';
import { resolveSessionSettings } from './session.options.js';
import { SessionDataService } from './session-data.service.js';
import type { SessionRecord } from './session.types.js';
import { jest } from '@jest/globals';

const session = { id: 's1', absoluteExpiresAt: Date.now() + 60_000 } as SessionRecord;

function setup(dataMaxBytes = 1024) {
  const store = new InMemorySessionStore();
  return { store, sut: new SessionDataService(resolveSessionSettings({ store, dataStore: store, dataMaxBytes })) };
}

describe('SessionDataService', () => {
  it('merges patches and counts versions', async () => {
    const { sut } = setup();

    await sut.patch(session, { a: 1 });
    const result = await sut.patch(session, { b: 2 });

    expect(result).toEqual({ data: { a: 1, b: 2 }, version: 2 });
    expect(await sut.read(session)).toEqual(result);
  });

  it('loses no concurrent update without If-Match', async () => {
    const { sut } = setup(8192);

    await Promise.all(Array.from({ length: 30 }, (_, i) => sut.patch(session, { [`k${i}`]: i })));

    expect(Object.keys((await sut.read(session)).data)).toHaveLength(30);
  });

  it('refuses a stale If-Match', async () => {
    const { sut } = setup();
    await sut.patch(session, { a: 1 });

    await expect(sut.patch(session, { a: 2 }, 0)).rejects.toEqual(new SessionDataConflictError(1));
  });

  it('refuses a result over the limit, counting UTF-8 bytes', async () => {
    const { sut } = setup(64);

    await expect(sut.patch(session, { text: 'é'.repeat(30) })).rejects.toBeInstanceOf(SessionDataTooLargeError);
    await expect(sut.patch(session, { text: 'e'.repeat(30) })).resolves.toMatchObject({ version: 1 });
  });

  it('refuses a patch that is not an object', async () => {
    const { sut } = setup();

    await expect(sut.patch(session, [1])).rejects.toBeInstanceOf(InvalidSessionDataError);
  });

  it('gives up with SessionDataContentionError when every write loses', async () => {
    const { sut, store } = setup();
    jest.spyOn(store, 'write').mockResolvedValue(false);

    await expect(sut.patch(session, { a: 1 })).rejects.toBeInstanceOf(SessionDataContentionError);
  });
});
