import { randomBytes, randomUUID } from 'node:crypto';
import type { ConnectSessionChange, ConnectSessionItem, ConnectSessionStore, UserIndexEntry } from '@kura/common';

const HOUR = 3_600_000;

export const newConnectId = () => randomBytes(32).toString('base64url');

/** A session as KuraStore writes it: each key as JSON text, a cookie, an hour to live, a new generation. */
export const connectSession = (data: Record<string, unknown>, overrides: Partial<ConnectSessionItem> = {}): ConnectSessionItem => ({
  data: new Map(Object.entries(data).map(([key, value]) => [key, JSON.stringify(value)])),
  cookie: JSON.stringify({ originalMaxAge: HOUR, path: '/' }),
  expiresAtMs: Date.now() + HOUR,
  generation: randomUUID(),
  ...overrides,
});

const change = (set: Record<string, unknown>, remove: string[] = []): ConnectSessionChange => ({
  set: new Map(Object.entries(set).map(([key, value]) => [key, JSON.stringify(value)])),
  remove,
  cookie: JSON.stringify({ originalMaxAge: HOUR }),
  expiresAtMs: Date.now() + HOUR,
});

/**
 * What every adapter of KuraStore's storage port (`ConnectSessionStore`) owes it, run unchanged against each
 * real engine: `open` gives the adapter on a fresh engine (or table) and is called once per suite.
 */
export function connectSessionStoreContract(name: string, open: () => Promise<{ sut: ConnectSessionStore; close(): Promise<void> }>): void {
  describe(`the connect session store contract on ${name}`, () => {
    let sut: ConnectSessionStore;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ sut, close } = await open());
    });
    afterAll(() => close?.());

    const dataOf = async (id: string) => Object.fromEntries([...((await sut.read(id, Date.now()))?.data ?? [])].map(([key, json]) => [key, JSON.parse(json)]));

    it('reads back what it wrote, keys an engine might refuse included', async () => {
      const id = newConnectId();
      const written = connectSession({ '': 'empty', '\u0000x': 'nul', '__proto__': { polluted: true }, 'a.b[0]': 1, 'd:x': 'prefix', cookie2: 2, 日本: [null, 'x'] });

      await sut.replace(id, written);

      expect(await sut.read(id, Date.now())).toEqual(written);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('reads a session without a cookie as one without a cookie', async () => {
      const id = newConnectId();
      const written = connectSession({ user: 'ada' }, { cookie: undefined });

      await sut.replace(id, written);

      expect(await sut.read(id, Date.now())).toEqual(written);
    });

    it('finds nothing where nothing was written', async () => {
      expect(await sut.read(newConnectId(), Date.now())).toBeUndefined();
    });

    it('treats an expired session as absent, though the engine has not freed it yet', async () => {
      const id = newConnectId();
      const expiresAtMs = Date.now() + 2000;
      await sut.replace(id, connectSession({ user: 'ada' }, { expiresAtMs }));

      expect(await sut.read(id, expiresAtMs - 1)).toBeDefined();
      expect(await sut.read(id, expiresAtMs)).toBeUndefined();
    });

    it('replaces a session whole, keys it no longer has included', async () => {
      const id = newConnectId();
      await sut.replace(id, connectSession({ a: 1, b: 2 }));

      await sut.replace(id, connectSession({ c: 3 }));

      expect(await dataOf(id)).toEqual({ c: 3 });
    });

    it('changes only the keys it is given, so concurrent changes of other keys are all kept', async () => {
      const id = newConnectId();
      const { generation } = connectSession({});
      await sut.replace(id, connectSession({ keep: 1, drop: 2 }, { generation }));

      await Promise.all([
        sut.update(id, generation, change({ a: 'A' }), Date.now()),
        sut.update(id, generation, change({ b: 'B' }, ['drop']), Date.now()),
        sut.update(id, generation, change({ c: { nested: true } }), Date.now()),
      ]);

      expect(await dataOf(id)).toEqual({ keep: 1, a: 'A', b: 'B', c: { nested: true } });
    });

    it('writes a change of hundreds of keys', async () => {
      const id = newConnectId();
      const { generation } = connectSession({});
      await sut.replace(id, connectSession({ gone: 0 }, { generation }));
      const many = Object.fromEntries(Array.from({ length: 250 }, (_, index) => [`key-${index}`, index]));

      expect(await sut.update(id, generation, change(many, ['gone']), Date.now())).toBe(true);

      expect(await dataOf(id)).toEqual(many);
    });

    it.each([
      ['destroyed', async (id: string) => sut.delete(id, Date.now()), undefined],
      ['written whole again since it was read', async (id: string) => sut.replace(id, connectSession({ other: true })), { other: true }],
    ])('writes nothing to a session %s', async (_case, meanwhile, left) => {
      const id = newConnectId();
      const { generation } = connectSession({});
      await sut.replace(id, connectSession({ user: 'ada' }, { generation }));
      await meanwhile(id);

      expect(await sut.update(id, generation, change({ late: true }), Date.now())).toBe(false);

      expect(left === undefined ? await sut.read(id, Date.now()) : await dataOf(id)).toEqual(left);
    });

    it('never creates a session that was never written, whatever generation it names', async () => {
      const id = newConnectId();

      expect(await sut.update(id, undefined, change({ late: true }), Date.now())).toBe(false);

      expect(await sut.read(id, Date.now())).toBeUndefined();
    });

    it('never brings an expired session back', async () => {
      const id = newConnectId();
      const expiresAtMs = Date.now() + 2000;
      await sut.replace(id, connectSession({ user: 'ada' }, { expiresAtMs }));

      expect(await sut.update(id, undefined, change({ late: true }), expiresAtMs + 1)).toBe(false);

      expect(await sut.read(id, expiresAtMs - 1)).toMatchObject({ expiresAtMs });
      expect(await dataOf(id)).toEqual({ user: 'ada' });
    });

    // ASVS 7.3.2: a session in constant use still ends. KuraStore never asks for an expiry past the absolute one,
    // but an update from elsewhere (a touch of a session it did not read) may: the read refuses the session then.
    it('ends a session at its absolute expiry, however far an update moved its expiry, and keeps it through updates', async () => {
      const id = newConnectId();
      const absoluteExpiresAtMs = Date.now() + 2000;
      const written = connectSession({ user: 'ada' }, { absoluteExpiresAtMs });
      await sut.replace(id, written);

      expect(await sut.read(id, Date.now())).toEqual(written);
      expect(await sut.update(id, written.generation, { ...change({ n: 1 }), expiresAtMs: Date.now() + 2 * HOUR }, Date.now())).toBe(true);
      expect(await sut.read(id, absoluteExpiresAtMs - 1)).toMatchObject({ absoluteExpiresAtMs, generation: written.generation });
      expect(await sut.read(id, absoluteExpiresAtMs)).toBeUndefined();
    });

    // A session stored before KuraStore had absolute lifetimes (test/stored-formats) is given one at its next save.
    it('gives a session stored without an absolute expiry the one a change carries, and ends it there', async () => {
      const id = newConnectId();
      const written = connectSession({ user: 'ada' });
      await sut.replace(id, written);
      expect((await sut.read(id, Date.now()))?.absoluteExpiresAtMs).toBeUndefined();
      const absoluteExpiresAtMs = Date.now() + 2000;

      expect(await sut.update(id, written.generation, { ...change({}), expiresAtMs: Date.now() + 2 * HOUR, absoluteExpiresAtMs }, Date.now())).toBe(true);

      expect(await sut.read(id, absoluteExpiresAtMs - 1)).toMatchObject({ absoluteExpiresAtMs, generation: written.generation });
      expect(await sut.read(id, absoluteExpiresAtMs)).toBeUndefined();
    });

    // Two saves may each find a session without one (stored before KuraStore had absolute lifetimes): the first to
    // land gives it, and the user index it joined was told to last as long (a review found a later save moving it).
    it('keeps the absolute expiry a session has, whatever a later change carries', async () => {
      const id = newConnectId();
      const written = connectSession({ user: 'ada' });
      await sut.replace(id, written);
      const first = Date.now() + 2 * HOUR;

      await sut.update(id, written.generation, { ...change({}), absoluteExpiresAtMs: first }, Date.now());
      await sut.update(id, written.generation, { ...change({ n: 1 }), absoluteExpiresAtMs: first + HOUR }, Date.now());

      expect((await sut.read(id, Date.now()))?.absoluteExpiresAtMs).toBe(first);
    });

    it('keeps when a session was moved here: written whole with it, kept by every change, absent on a session made here', async () => {
      const id = newConnectId();
      const movedAtMs = Date.now() - 1000;
      const written = connectSession({ user: 'ada' }, { movedAtMs });
      await sut.replace(id, written);

      expect(await sut.read(id, Date.now())).toEqual(written);
      expect(await sut.update(id, written.generation, { ...change({ n: 1 }), indexed: '-:ada' }, Date.now())).toBe(true);
      expect(await sut.update(id, undefined, change({ n: 2 }), Date.now())).toBe(true);
      expect((await sut.read(id, Date.now()))?.movedAtMs).toBe(movedAtMs);
      const made = newConnectId();
      await sut.replace(made, connectSession({ user: 'bob' }));
      expect((await sut.read(made, Date.now()))?.movedAtMs).toBeUndefined();
      // Deleted, and written whole again (a replace of another generation after the mark has gone is a new session).
      await sut.delete(id, Date.now());
      expect(await sut.read(id, Date.now())).toBeUndefined();
    });

    it('keeps the note of the user index a session joined: written whole with it, set by a change, kept by a change without one', async () => {
      const id = newConnectId();
      const written = connectSession({ user: 'ada' }, { indexed: '-:ada' });
      await sut.replace(id, written);
      expect(await sut.read(id, Date.now())).toEqual(written);

      await sut.update(id, written.generation, { ...change({ user: 'bob' }), indexed: '123:bob' }, Date.now());
      expect((await sut.read(id, Date.now()))?.indexed).toBe('123:bob');
      await sut.update(id, written.generation, change({ cart: 1 }), Date.now());
      expect((await sut.read(id, Date.now()))?.indexed).toBe('123:bob');

      const plain = newConnectId();
      await sut.replace(plain, connectSession({}));
      expect((await sut.read(plain, Date.now()))?.indexed).toBeUndefined();
    });

    it('writes the note of the user index alone: a change saved since the read keeps its cookie and expiry', async () => {
      const id = newConnectId();
      const written = connectSession({ user: 'ada' });
      await sut.replace(id, written);
      const later = { ...change({ remember: true }), cookie: '{"originalMaxAge":2592000000}', expiresAtMs: Date.now() + 20 * HOUR };
      await sut.update(id, written.generation, later, Date.now());

      expect(await sut.noteIndexed(id, written.generation, '-:ada', Date.now())).toBe(true);

      expect(await sut.read(id, Date.now())).toMatchObject({ indexed: '-:ada', cookie: later.cookie, expiresAtMs: later.expiresAtMs, generation: written.generation });
      expect(await dataOf(id)).toEqual({ user: 'ada', remember: true });
    });

    it('writes no note on a session written whole again, deleted, expired or never written', async () => {
      const id = newConnectId();
      const expiresAtMs = Date.now() + HOUR;
      const first = connectSession({ user: 'ada' }, { expiresAtMs });
      await sut.replace(id, first);

      expect(await sut.noteIndexed(id, first.generation, '-:ada', expiresAtMs)).toBe(false);
      const second = connectSession({ user: 'bob' });
      await sut.replace(id, second);
      expect(await sut.noteIndexed(id, first.generation, '-:ada', Date.now())).toBe(false);
      expect((await sut.read(id, Date.now()))?.indexed).toBeUndefined();
      await sut.delete(id, Date.now());
      expect(await sut.noteIndexed(id, second.generation, '-:bob', Date.now())).toBe(false);
      expect(await sut.noteIndexed(newConnectId(), second.generation, '-:bob', Date.now())).toBe(false);
      expect(await sut.read(id, Date.now())).toBeUndefined();
    });

    it('moves the expiry and the cookie without touching the data', async () => {
      const id = newConnectId();
      const { generation } = connectSession({});
      await sut.replace(id, connectSession({ user: 'ada' }, { generation }));
      const later = { set: new Map(), remove: [], cookie: '{"moved":true}', expiresAtMs: Date.now() + 2 * HOUR };

      expect(await sut.update(id, generation, later, Date.now())).toBe(true);

      expect(await sut.read(id, Date.now())).toMatchObject({ cookie: '{"moved":true}', expiresAtMs: later.expiresAtMs, generation });
      expect(await dataOf(id)).toEqual({ user: 'ada' });
    });

    it('drops the cookie when a change has none', async () => {
      const id = newConnectId();
      const { generation } = connectSession({});
      await sut.replace(id, connectSession({ user: 'ada' }, { generation }));

      expect(await sut.update(id, generation, { ...change({}), cookie: undefined }, Date.now())).toBe(true);

      expect((await sut.read(id, Date.now()))?.cookie).toBeUndefined();
    });

    describe('the cookie settings a change read (cookieSettingsRead)', () => {
      const withSettings = (cookie: string, cookieSettings: string, expiresAtMs: number) => ({ cookie, cookieSettings, expiresAtMs });

      it('reads back the fingerprint written whole and by a change, and drops it with the cookie', async () => {
        const id = newConnectId();
        const { generation } = connectSession({});
        await sut.replace(id, connectSession({}, { generation, cookieSettings: 'a' }));
        expect((await sut.read(id, Date.now()))?.cookieSettings).toBe('a');

        expect(await sut.update(id, generation, { ...change({}), cookieSettings: 'b' }, Date.now())).toBe(true);
        expect((await sut.read(id, Date.now()))?.cookieSettings).toBe('b');

        expect(await sut.update(id, generation, change({}), Date.now())).toBe(true);
        expect((await sut.read(id, Date.now()))?.cookieSettings).toBeUndefined();
      });

      it('writes the cookie and the expiry where the settings read are still stored', async () => {
        const id = newConnectId();
        const { generation } = connectSession({});
        await sut.replace(id, connectSession({}, { generation, cookieSettings: 'a' }));
        const later = Date.now() + 2 * HOUR;

        expect(await sut.update(id, generation, { ...change({ x: 1 }), ...withSettings('{"mine":1}', 'a', later), cookieSettingsRead: 'a' }, Date.now())).toBe(true);

        expect(await sut.read(id, Date.now())).toMatchObject({ cookie: '{"mine":1}', cookieSettings: 'a', expiresAtMs: later });
        expect(await dataOf(id)).toEqual({ x: 1 });
      });

      it('keeps the cookie, its settings and the expiry another change wrote since, and writes the keys anyway', async () => {
        const id = newConnectId();
        const { generation } = connectSession({});
        await sut.replace(id, connectSession({}, { generation, cookieSettings: 'a' }));
        const theirs = Date.now() + 10 * HOUR;
        await sut.update(id, generation, { ...change({}), ...withSettings('{"theirs":1}', 'b', theirs) }, Date.now());

        expect(await sut.update(id, generation, { ...change({ x: 1 }), ...withSettings('{"mine":1}', 'a', Date.now() + HOUR), cookieSettingsRead: 'a' }, Date.now())).toBe(true);
        // Nothing else to write: nothing written.
        expect(await sut.update(id, generation, { ...change({}), ...withSettings('{"mine":1}', 'a', Date.now() + HOUR), cookieSettingsRead: 'a' }, Date.now())).toBe(false);

        expect(await sut.read(id, Date.now())).toMatchObject({ cookie: '{"theirs":1}', cookieSettings: 'b', expiresAtMs: theirs });
        expect(await dataOf(id)).toEqual({ x: 1 });
      });

      it('writes nothing, and answers false, where a change would be refused whatever its settings: another generation, an ended session', async () => {
        const [replaced, ended] = [newConnectId(), newConnectId()];
        const { generation } = connectSession({});
        await sut.replace(replaced, connectSession({ kept: 1 }, { generation, cookieSettings: 'a' }));
        await sut.update(replaced, generation, { ...change({}), ...withSettings('{"theirs":1}', 'b', Date.now() + HOUR) }, Date.now());
        await sut.replace(replaced, connectSession({ kept: 2 }, { cookieSettings: 'b' }));
        const soon = Date.now() + 60_000;
        await sut.replace(ended, connectSession({ kept: 3 }, { generation, cookieSettings: 'b', expiresAtMs: soon }));

        // Settings read no longer stored either: no second try writes the keys without the cookie.
        expect(await sut.update(replaced, generation, { ...change({ x: 1 }), ...withSettings('{"mine":1}', 'a', Date.now() + HOUR), cookieSettingsRead: 'a' }, Date.now())).toBe(false);
        expect(await sut.update(ended, generation, { ...change({ x: 1 }), ...withSettings('{"mine":1}', 'a', soon + HOUR), cookieSettingsRead: 'a' }, soon + 1)).toBe(false);

        expect(await dataOf(replaced)).toEqual({ kept: 2 });
        expect(await sut.read(ended, Date.now())).toMatchObject({ cookieSettings: 'b', expiresAtMs: soon });
        expect(await dataOf(ended)).toEqual({ kept: 3 });
      });

      it('writes nothing on a deleted session, whatever settings it read', async () => {
        const id = newConnectId();
        const { generation } = connectSession({});
        await sut.replace(id, connectSession({}, { generation, cookieSettings: 'a' }));
        await sut.delete(id, Date.now());

        expect(await sut.update(id, generation, { ...change({ x: 1 }), ...withSettings('{}', 'a', Date.now() + HOUR), cookieSettingsRead: 'b' }, Date.now())).toBe(false);

        expect(await sut.read(id, Date.now())).toBeUndefined();
      });
    });

    it('keeps a deleted session deleted: a replace still on its way (an SDK retry, a delayed write) writes nothing', async () => {
      const id = newConnectId();
      const login = connectSession({ user: 'ada' });
      await sut.replace(id, login);
      await sut.delete(id, Date.now());

      // The same write again, as when its first attempt lands after the logout; and any other whole write.
      await sut.replace(id, login);
      await sut.replace(id, connectSession({ user: 'mallory' }));

      expect(await sut.read(id, Date.now())).toBeUndefined();
      expect(await sut.update(id, login.generation, change({ cart: 1 }), Date.now())).toBe(false);
      expect(await sut.update(id, undefined, change({ cart: 1 }), Date.now())).toBe(false);
      expect(await sut.read(id, Date.now())).toBeUndefined();
    });

    it('keeps a session deleted before its first write landed deleted (the logout overtook the login)', async () => {
      const id = newConnectId();
      await sut.delete(id, Date.now());

      await sut.replace(id, connectSession({ user: 'ada' }));

      expect(await sut.read(id, Date.now())).toBeUndefined();
    });

    it('never lets a whole write delivered twice undo the changes made after it', async () => {
      const id = newConnectId();
      const written = connectSession({ user: 'ada' });
      await sut.replace(id, written);
      expect(await sut.update(id, written.generation, change({ cart: 3 }), Date.now())).toBe(true);

      await sut.replace(id, written);

      expect(await dataOf(id)).toEqual({ user: 'ada', cart: 3 });
    });

    describe('user indexes', () => {
      const newUser = () => randomBytes(32).toString('base64url');
      const sorted = (entries: readonly UserIndexEntry[]) => [...entries].sort((a, b) => a.addedAtMs - b.addedAtMs || a.id.localeCompare(b.id));

      it('keeps what was added to one index, each user apart, and counts it', async () => {
        const [ada, bob] = [newUser(), newUser()];
        const [first, second, other] = [{ id: newConnectId(), addedAtMs: 1_000 }, { id: newConnectId(), addedAtMs: 2_000 }, { id: newConnectId(), addedAtMs: 1_000 }];

        expect(await sut.addToUserIndex(ada, first, Date.now() + HOUR)).toBe(1);
        expect(await sut.addToUserIndex(ada, second, Date.now() + HOUR)).toBe(2);
        expect(await sut.addToUserIndex(bob, other, undefined)).toBe(1);

        expect(sorted(await sut.userIndex(ada))).toEqual([first, second]);
        expect(await sut.userIndex(bob)).toEqual([other]);
        expect(await sut.userIndex(newUser())).toEqual([]);
      });

      it('adds an entry once however often the addition is retried', async () => {
        const user = newUser();
        const entry = { id: newConnectId(), addedAtMs: Date.now() };

        await sut.addToUserIndex(user, entry, Date.now() + HOUR);
        expect(await sut.addToUserIndex(user, entry, Date.now() + HOUR)).toBe(1);

        expect(await sut.userIndex(user)).toEqual([entry]);
      });

      it('removes exactly the entries named: the same session added again at another time stays', async () => {
        const user = newUser();
        const id = newConnectId();
        const [old, again, other] = [{ id, addedAtMs: 1_000 }, { id, addedAtMs: 5_000 }, { id: newConnectId(), addedAtMs: 1_000 }];
        for (const entry of [old, again, other]) await sut.addToUserIndex(user, entry, undefined);

        await sut.removeFromUserIndex(user, [old, other]);
        await sut.removeFromUserIndex(user, [old, other]);

        expect(await sut.userIndex(user)).toEqual([again]);
      });

      it('removes entries that are not there, or from an index that is not there, without error and without making one', async () => {
        const user = newUser();

        await sut.removeFromUserIndex(user, [{ id: newConnectId(), addedAtMs: 1 }]);
        await sut.removeFromUserIndex(user, []);

        expect(await sut.userIndex(user)).toEqual([]);
        expect(await sut.addToUserIndex(user, { id: newConnectId(), addedAtMs: 2 }, Date.now() + HOUR)).toBe(1);
      });

      it('starts an index anew once every entry was removed', async () => {
        const user = newUser();
        const first = { id: newConnectId(), addedAtMs: 1 };
        await sut.addToUserIndex(user, first, Date.now() + HOUR);
        await sut.removeFromUserIndex(user, [first]);
        const next = { id: newConnectId(), addedAtMs: 2 };

        expect(await sut.addToUserIndex(user, next, undefined)).toBe(1);
        expect(await sut.userIndex(user)).toEqual([next]);
      });

      it('loses none of 50 concurrent additions to one index', async () => {
        const user = newUser();
        const entries = Array.from({ length: 50 }, (_, index) => ({ id: newConnectId(), addedAtMs: index }));

        await Promise.all(entries.map((entry, index) => sut.addToUserIndex(user, entry, index % 2 ? undefined : Date.now() + HOUR)));

        expect(sorted(await sut.userIndex(user))).toEqual(entries);
      });
    });

    it('tells a deleted session\'s mark from a session that is not there, where the user index\'s pruning asks (readOrMark)', async () => {
      const [live, deleted, deletedUnwritten, expired, never] = [newConnectId(), newConnectId(), newConnectId(), newConnectId(), newConnectId()];
      const written = connectSession({ user: 'ada' });
      await sut.replace(live, written);
      await sut.replace(deleted, connectSession({ user: 'ada' }));
      await sut.delete(deleted, Date.now());
      await sut.delete(deletedUnwritten, Date.now());
      await sut.replace(expired, connectSession({ user: 'ada' }, { expiresAtMs: Date.now() + 1000 }));
      const now = Date.now();

      expect(await sut.readOrMark!(live, now)).toEqual(await sut.read(live, now));
      expect(await sut.readOrMark!(deleted, now)).toBe('deleted');
      expect(await sut.readOrMark!(deletedUnwritten, now)).toBe('deleted');
      expect(await sut.readOrMark!(expired, now + 2000)).toBeUndefined();
      expect(await sut.readOrMark!(never, now)).toBeUndefined();
      expect(await sut.read(deleted, now)).toBeUndefined();
    });

    it('deletes a session, and deleting a missing one is no error', async () => {
      const id = newConnectId();
      await sut.replace(id, connectSession({ user: 'ada' }));

      await sut.delete(id, Date.now());
      await sut.delete(id, Date.now());

      expect(await sut.read(id, Date.now())).toBeUndefined();
    });
  });
}
