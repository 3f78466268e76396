import { InMemorySessionStore } from './in-memory-session.store.js';
import {
  InvalidSessionDataError,
  SessionDataConflictError,
  SessionDataContentionError,
  SessionDataTooLargeError,
} from './session.errors.js';
import { resolveSessionSettings } from './session.options.js';
import { SessionDataService } from './session-data.service.js';
import { SESSION_DATA_MAX_DEPTH } from './session-data-patch.js';
import { dataIdOf, type SessionRecord } from './session.types.js';
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

  it.each([
    ['an empty patch', {}],
    ['a value set to what it is', { cart: { apple: 2 } }],
    ['the removal of a key that is not there', { pear: null, cart: { plum: null } }],
  ])('writes nothing for %s: the version, and so every other If-Match, stays', async (_case, patch) => {
    const { sut, store } = setup();
    await sut.patch(session, { cart: { apple: 2 }, step: 'checkout' });
    const write = jest.spyOn(store, 'write');

    const result = await sut.patch(session, patch);

    expect(result).toEqual({ data: { cart: { apple: 2 }, step: 'checkout' }, version: 1 });
    expect(write).not.toHaveBeenCalled();
    await expect(sut.patch(session, { step: 'paid' }, 1)).resolves.toMatchObject({ version: 2 });
  });

  it('refuses a stale If-Match', async () => {
    const { sut } = setup();
    await sut.patch(session, { a: 1 });

    await expect(sut.patch(session, { a: 2 }, 0)).rejects.toEqual(new SessionDataConflictError(1));
  });

  it('applies a patch to any version a precondition admits (If-Match with a list of ETags)', async () => {
    const { sut } = setup();
    await sut.patch(session, { a: 1 });

    await expect(sut.patch(session, { a: 2 }, (version) => [1, 2].includes(version))).resolves.toEqual({ data: { a: 2 }, version: 2 });
    await expect(sut.patch(session, { a: 3 }, (version) => version !== 2)).rejects.toEqual(new SessionDataConflictError(2));
  });

  it('asks a precondition again of the version a concurrent write made, and refuses the patch once it fails', async () => {
    const { sut, store } = setup();
    await sut.patch(session, { a: 1 });
    const write = store.write.bind(store);
    // Another patch lands between this patch's read (version 1) and its write.
    jest.spyOn(store, 'write').mockImplementationOnce(async (id: string, data: Record<string, unknown>, expected: number) => {
      await write(dataIdOf(session), { a: 'other' }, 1);
      return write(id, data, expected);
    });

    await expect(sut.patch(session, { a: 'mine' }, (version) => version !== 2)).rejects.toEqual(new SessionDataConflictError(2));
    expect(await sut.read(session)).toEqual({ data: { a: 'other' }, version: 2 });
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

  it.each([
    ['constructor at the top level', '{"constructor": 1}'],
    ['prototype at the top level', '{"prototype": {"x": 1}}'],
    ['__proto__ nested', '{"cart": {"__proto__": {"x": 1}}}'],
    ['constructor nested', '{"cart": {"constructor": "x", "items": 2}}'],
    ['prototype inside an array', '{"cart": [{"prototype": 1}]}'],
    ['a number too large for a double (Infinity)', '{"price": 1e400}'],
    ['a number too large for a double, in an array', '{"prices": [1, -1e400]}'],
    ['objects nested 65 levels deep', `${'{"a":'.repeat(65)}1${'}'.repeat(65)}`],
    ['arrays nested 5,000 deep', `{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`],
  ])('refuses a patch with %s before reading or writing anything', async (_case, body) => {
    const { sut, store } = setup(100_000);
    const read = jest.spyOn(store, 'read');
    const write = jest.spyOn(store, 'write');

    await expect(sut.patch(session, JSON.parse(body))).rejects.toBeInstanceOf(InvalidSessionDataError);

    expect(read).not.toHaveBeenCalled();
    expect(write).not.toHaveBeenCalled();
  });

  it(`accepts data nested ${SESSION_DATA_MAX_DEPTH} levels deep, the document itself being the first`, async () => {
    const { sut } = setup();
    const body = `${'{"a":'.repeat(SESSION_DATA_MAX_DEPTH)}1${'}'.repeat(SESSION_DATA_MAX_DEPTH)}`;

    await expect(sut.patch(session, JSON.parse(body))).resolves.toMatchObject({ version: 1 });
  });

  it('gives up with SessionDataContentionError when every write loses', async () => {
    const { sut, store } = setup();
    jest.spyOn(store, 'write').mockResolvedValue(false);

    await expect(sut.patch(session, { a: 1 })).rejects.toBeInstanceOf(SessionDataContentionError);
  });
});
