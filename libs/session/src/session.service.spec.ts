import { jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { ManualClock, StoreUnavailableError } from '@kura/common';
import { InMemorySessionStore } from './in-memory-session.store.js';
import { ReauthenticationRequiredError, SessionNotFoundError, SessionRejectedError, StaleCredentialsError } from './session.errors.js';
import type { SessionEvent, SessionRecord } from './session.types.js';
import { resolveSessionSettings } from './session.options.js';
import { SessionService } from './session.service.js';
import { SessionDataService } from './session-data.service.js';
import { SessionCache } from './session-cache.js';
import { isWellFormedToken, sessionIdOf } from './session-token.js';

const user = { id: 'u-1', email: 'ada@example.com', name: 'Ada' };
const MINUTE = 60_000;

function setup(options: { idle?: number; absolute?: number; refresh?: number; events?: (event: SessionEvent) => void } = {}) {
  const clock = new ManualClock();
  const store = new InMemorySessionStore();
  const settings = resolveSessionSettings({
    store,
    clock,
    ...(options.events ? { events: options.events } : {}),
    idleTimeoutSeconds: options.idle ?? 1800,
    absoluteTimeoutSeconds: options.absolute ?? 28_800,
    ...(options.refresh ? { refreshIntervalSeconds: options.refresh } : {}),
  });
  const sut = new SessionService(settings, new SessionCache(settings));
  const calls = {
    find: jest.spyOn(store, 'find'),
    extend: jest.spyOn(store, 'extend'),
    insert: jest.spyOn(store, 'insert'),
  };
  return { sut, store, clock, calls };
}

async function rejection(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  if (!(error instanceof SessionRejectedError)) throw new Error(`expected a SessionRejectedError, got ${String(error)}`);
  return error.reason;
}

describe('SessionService', () => {
  it('issues a 256-bit URL-safe token and stores only its hash', async () => {
    const { sut, store } = setup();

    const { token, record } = await sut.create(user, { userAgent: 'jest', ip: '127.0.0.1' });

    expect(isWellFormedToken(token)).toBe(true);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(record.id).toBe(sessionIdOf(token));
    expect(JSON.stringify(await store.find(record.id, Date.UTC(2026, 0, 1)))).not.toContain(token);
  });

  it.each([
    ['203.0.113.9:5678', '203.0.113.9'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['not an address', undefined],
  ])('keeps the address %p forwarded by a proxy as %p (a port some proxies append, a zone, dropped)', async (forwarded, kept) => {
    const { sut } = setup();

    const { record } = await sut.create(user, { ip: forwarded });

    expect(record.ip).toBe(kept);
  });

  it('takes a user the app knows only by id: the record keeps no email and a null name', async () => {
    const { sut } = setup();

    const { token, record } = await sut.create({ id: 'app-user-7' });

    expect(record.user).toEqual({ id: 'app-user-7', name: null });
    expect((await sut.authenticate(token)).record.user).toEqual({ id: 'app-user-7', name: null });
  });

  // DynamoDB refuses a key over 2048 bytes, and answered that (a ValidationException) after the session item was
  // written: the app saw a store outage (503) and an item was left behind. An app keying users by login name
  // passes whatever was typed.
  it.each([
    ['an empty id', { id: '' }, 'id'],
    ['an id over 1024 bytes of UTF-8', { id: 'é'.repeat(513) }, 'id'],
    ['an email over 1024 bytes', { id: 'u', email: `${'a'.repeat(1020)}@x.io` }, 'email'],
    ['a name over 1024 bytes', { id: 'u', name: 'n'.repeat(1025) }, 'name'],
  ])('refuses %s before writing anything', async (_case, refused, field) => {
    const { sut, store } = setup();
    const insert = jest.spyOn(store, 'insert');

    await expect(sut.create(refused)).rejects.toMatchObject({ name: 'InvalidSessionUserError', field });
    expect(insert).not.toHaveBeenCalled();
    await expect(sut.create({ id: 'é'.repeat(512), email: 'e@x.io', name: 'n'.repeat(1024) })).resolves.toBeDefined();
  });

  it('issues a different session on every login', async () => {
    const { sut } = setup();

    const tokens = new Set(await Promise.all(Array.from({ length: 200 }, async () => (await sut.create(user)).token)));

    expect(tokens.size).toBe(200);
  });

  it('accepts its own token and returns the user captured at login', async () => {
    const { sut } = setup();
    const { token } = await sut.create(user);

    const session = await sut.authenticate(token);

    expect(session.record.user).toEqual(user);
    expect(session.extended).toBe(false);
  });

  it.each([
    ['missing', undefined],
    ['missing', ''],
    ['malformed', 'not-a-token'],
    ['malformed', `${'a'.repeat(43)}=`],
    ['malformed', 'a'.repeat(44)],
  ])('rejects a %s token without asking the store (%p)', async (reason, token) => {
    const { sut, calls } = setup();

    expect(await rejection(sut.authenticate(token))).toBe(reason);
    expect(calls.find).not.toHaveBeenCalled();
  });

  it('rejects a well-formed token it never issued', async () => {
    const { sut } = setup();

    expect(await rejection(sut.authenticate('A'.repeat(43)))).toBe('unknown');
  });

  it('ends a session after the idle timeout when it is not used', async () => {
    const { sut, clock } = setup({ idle: 600 });
    const { token } = await sut.create(user);

    clock.advance(10 * MINUTE);

    expect(await rejection(sut.authenticate(token))).toMatch(/unknown|expired/);
  });

  it('keeps an active session alive past the idle timeout, up to the absolute timeout', async () => {
    const { sut, clock } = setup({ idle: 600, absolute: 1800, refresh: 60 });
    const { token } = await sut.create(user);

    for (let minute = 5; minute < 30; minute += 5) {
      clock.advance(5 * MINUTE);
      await expect(sut.authenticate(token)).resolves.toMatchObject({ token });
    }
    clock.advance(5 * MINUTE);

    expect(await rejection(sut.authenticate(token))).toMatch(/unknown|expired/);
  });

  it('never extends the idle expiry past the absolute expiry', async () => {
    const { sut, clock } = setup({ idle: 600, absolute: 900, refresh: 60 });
    const { token, record } = await sut.create(user);

    clock.advance(10 * MINUTE - 1);
    const session = await sut.authenticate(token);

    expect(session.record.idleExpiresAt).toBe(record.absoluteExpiresAt);
  });

  it('writes at most once per refresh interval: steady reads do not write', async () => {
    const { sut, clock, calls } = setup({ idle: 1800, refresh: 180 });
    const { token } = await sut.create(user);

    for (let second = 0; second < 170; second += 10) {
      clock.advance(10_000);
      await sut.authenticate(token);
    }
    expect(calls.extend).not.toHaveBeenCalled();

    clock.advance(20_000);
    const session = await sut.authenticate(token);

    expect(session.extended).toBe(true);
    expect(calls.extend).toHaveBeenCalledTimes(1);
    expect(calls.find).toHaveBeenCalledTimes(18);
  });

  // A full Redis under noeviction refuses the extension's write: every request of a session due for one was a 503,
  // logout-all and revocations too (an outside review, 2026-12-07).
  it('goes on with the session as read when the store cannot take its idle extension, and extends it at the next request', async () => {
    const events: SessionEvent[] = [];
    const { sut, clock, calls } = setup({ idle: 1800, refresh: 60, events: (event) => events.push(event) });
    const { token, record } = await sut.create(user);
    clock.advance(2 * MINUTE);
    calls.extend.mockRejectedValueOnce(new StoreUnavailableError('session.extend', { reason: 'Redis is out of memory' }));

    const unextended = await sut.authenticate(token);

    expect(unextended).toMatchObject({ extended: false, record: { id: record.id, idleExpiresAt: record.idleExpiresAt, lastSeenAt: record.lastSeenAt } });
    expect(events).toEqual([{ type: 'created' }, { type: 'extension-failed', reason: 'Redis is out of memory' }, { type: 'authenticated', source: 'store' }]);
    const next = await sut.authenticate(token);
    expect(next.extended).toBe(true);
    expect(next.record.idleExpiresAt).toBeGreaterThan(record.idleExpiresAt);
  });

  it('lets any other failure of the extension through', async () => {
    const { sut, clock, calls } = setup({ refresh: 60 });
    const { token } = await sut.create(user);
    clock.advance(2 * MINUTE);
    calls.extend.mockRejectedValueOnce(new TypeError('a defect'));

    await expect(sut.authenticate(token)).rejects.toThrow(TypeError);
  });

  it('rejects a session revoked between the read and the extension, without re-creating it', async () => {
    const { sut, store, clock } = setup({ refresh: 60 });
    const { token, record } = await sut.create(user);
    clock.advance(2 * MINUTE);
    const find = store.find.bind(store);
    jest.spyOn(store, 'find').mockImplementationOnce(async (id, now) => {
      const found = await find(id, now);
      await store.end(record.id, clock.now()); // a logout on another replica lands right after our read
      return found;
    });

    expect(await rejection(sut.authenticate(token))).toBe('revoked');
    expect(store.size).toBe(0);
  });

  it('rejects a token after it was revoked', async () => {
    const { sut } = setup();
    const { token } = await sut.create(user);

    await sut.revoke(token);

    expect(await rejection(sut.authenticate(token))).toBe('unknown');
  });

  it('lets a store failure through instead of treating the session as absent or valid', async () => {
    const { sut, store } = setup();
    const { token } = await sut.create(user);
    jest.spyOn(store, 'find').mockRejectedValueOnce(new StoreUnavailableError('session.find'));

    await expect(sut.authenticate(token)).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});

describe('SessionService re-authentication window', () => {
  it('lets a session that proved the password within 5 minutes through, and refuses it after', async () => {
    const { sut, clock } = setup();
    const { record } = await sut.create(user);
    clock.advance(5 * MINUTE);
    expect(() => sut.requireRecentAuthentication(record)).not.toThrow();
    clock.advance(1);
    expect(() => sut.requireRecentAuthentication(record)).toThrow(ReauthenticationRequiredError);
  });

  it('replaces the session on re-authentication (ASVS 7.2.4): the old token ends, the new one opens the window', async () => {
    const { sut, store, clock } = setup();
    const { token, record } = await sut.create(user);
    clock.advance(20 * MINUTE);
    const session = await sut.authenticate(token);

    const renewed = await sut.reauthenticated(session);

    expect(renewed.token).not.toBe(token);
    expect(renewed.record.authenticatedAt).toBe(clock.now());
    expect(() => sut.requireRecentAuthentication(renewed.record)).not.toThrow();
    expect(await rejection(sut.authenticate(token))).toBe('unknown');
    expect((await sut.authenticate(renewed.token)).record.user).toEqual(user);
    expect(await store.registered(user.id)).toEqual([
      { id: renewed.record.id, absoluteExpiresAt: renewed.record.absoluteExpiresAt, credentialVersion: 0 },
    ]);
    expect(await store.find(record.id, clock.now())).toBeUndefined();
  });

  it('hands the session data over on re-authentication, so an update racing the renewal is not lost', async () => {
    const clock = new ManualClock();
    const store = new InMemorySessionStore();
    const settings = resolveSessionSettings({ store, dataStore: store, clock });
    const sut = new SessionService(settings, new SessionCache(settings));
    const data = new SessionDataService(settings);
    const { token, record } = await sut.create(user);
    await data.patch(record, { cart: ['tea'] });
    const inFlight = await sut.authenticate(token); // a patch that passed its session check before the renewal

    const renewed = await sut.reauthenticated(await sut.authenticate(token));
    await data.patch(inFlight.record, { wishlist: ['scones'] });

    expect(renewed.record.dataId).toBe(record.id);
    expect(await data.read(renewed.record)).toEqual({ data: { cart: ['tea'], wishlist: ['scones'] }, version: 2 });
  });

  // Session 44: a re-authentication ended the presented session first, so any failure after (issuing the new one,
  // handing the data over) answered 503 with the client's session already gone, and sending it again met a 401.
  describe('when a re-authentication fails part way (a 503)', () => {
    function withData() {
      const clock = new ManualClock();
      const store = new InMemorySessionStore();
      const events: SessionEvent[] = [];
      const settings = resolveSessionSettings({ store, dataStore: store, clock, events: (event) => events.push(event) });
      return { clock, store, events, sut: new SessionService(settings, new SessionCache(settings)), data: new SessionDataService(settings) };
    }
    const unavailable = (operation: string) => new StoreUnavailableError(operation);

    it.each([
      ['registering the new session', (store: InMemorySessionStore) => jest.spyOn(store, 'register').mockRejectedValueOnce(unavailable('session.register'))],
      ['handing the data over', (store: InMemorySessionStore) => jest.spyOn(store, 'retain').mockRejectedValueOnce(unavailable('sessionData.retain'))],
      ['ending the presented session', (store: InMemorySessionStore) => jest.spyOn(store, 'end').mockRejectedValueOnce(unavailable('session.end'))],
    ])('leaves the client its session when %s fails, and renews it when sent again, data and all', async (_, fail) => {
      const { clock, store, events, sut, data } = withData();
      const { token, record } = await sut.create(user);
      await data.patch(record, { cart: ['tea'] });
      fail(store);
      events.length = 0;

      const failed = await sut.reauthenticated(await sut.authenticate(token)).catch((caught: unknown) => caught);

      expect(failed).toBeInstanceOf(StoreUnavailableError);
      expect(events.map(({ type }) => type)).not.toContain('created');
      expect((await sut.authenticate(token)).record.id).toBe(record.id);
      expect((await store.listOfUser(user.id, clock.now(), 10)).map((listed) => listed.id)).toEqual([record.id]);
      const renewed = await sut.reauthenticated(await sut.authenticate(token));
      expect(await rejection(sut.authenticate(token))).toBe('unknown');
      expect((await store.listOfUser(user.id, clock.now(), 10)).map((listed) => listed.id)).toEqual([renewed.record.id]);
      expect(await data.read(renewed.record)).toEqual({ data: { cart: ['tea'] }, version: 1 });
    });

    it('issues nothing when a logout of the presented session lands while the new one is being issued (the logout wins)', async () => {
      const { clock, store, events, sut } = withData();
      const { token } = await sut.create(user);
      events.length = 0;
      const retain = store.retain.bind(store);
      // The logout lands after the new session is registered, before the presented one is ended.
      jest.spyOn(store, 'retain').mockImplementationOnce(async (...args) => {
        await sut.revoke(token);
        return retain(...args);
      });

      expect(await rejection(sut.reauthenticated(await sut.authenticate(token)))).toBe('revoked');
      expect(await store.listOfUser(user.id, clock.now(), 10)).toEqual([]);
      expect(store.size).toBe(0);
      expect(events.map(({ type }) => type)).not.toContain('created');
    });
  });

  describe('with the data (a @WithSessionData() route)', () => {
    function withData() {
      const clock = new ManualClock();
      const store = new InMemorySessionStore();
      const settings = resolveSessionSettings({ store, dataStore: store, clock, cache: { ttlSeconds: 15, keys: [{ kid: 'k1', secret: new Uint8Array(randomBytes(32)) }] } });
      const sut = new SessionService(settings, new SessionCache(settings));
      return { sut, store, clock, data: new SessionDataService(settings), findWithData: jest.spyOn(store, 'findWithData'), read: jest.spyOn(store, 'read') };
    }

    it('reads the session and its data together, and the data service starts from what was read', async () => {
      const { sut, data, findWithData, read } = withData();
      const { token, record } = await sut.create(user);
      await data.patch(record, { cart: ['tea'] });
      read.mockClear();

      const session = await sut.authenticate(token, undefined, { withData: true });

      expect(findWithData).toHaveBeenCalledTimes(1);
      expect(session.data).toEqual({ data: { cart: ['tea'] }, version: 1 });
      expect(await data.read(session.record, session.data)).toEqual({ data: { cart: ['tea'] }, version: 1 });
      expect(await data.patch(session.record, { tea: 'green' }, undefined, session.data)).toEqual({ data: { cart: ['tea'], tea: 'green' }, version: 2 });
      expect(read).not.toHaveBeenCalled();
    });

    it('never hands over a stale read as current: a write in between makes the first attempt fail and the next read again', async () => {
      const { sut, data, read } = withData();
      const { token, record } = await sut.create(user);
      const session = await sut.authenticate(token, undefined, { withData: true });
      await data.patch(record, { other: 'tab' }); // lands after the guard's read

      expect(await data.patch(session.record, { mine: 1 }, undefined, session.data)).toEqual({ data: { other: 'tab', mine: 1 }, version: 2 });
      expect(read).toHaveBeenCalled();
      await expect(data.patch(session.record, { strict: 1 }, 0, session.data)).rejects.toMatchObject({ currentVersion: 2 });
    });

    it("brings no data for a re-authenticated session, whose data lives under its first session's id: the service reads it there", async () => {
      const { sut, data } = withData();
      const { token, record } = await sut.create(user);
      await data.patch(record, { cart: ['tea'] });
      const renewed = await sut.reauthenticated(await sut.authenticate(token));

      const session = await sut.authenticate(renewed.token, undefined, { withData: true });

      expect(session.data).toBeUndefined();
      expect(await data.read(session.record, session.data)).toEqual({ data: { cart: ['tea'] }, version: 1 });
    });

    it('brings no data when the signed cache vouched for the session (no store read)', async () => {
      const { sut } = withData();
      const { token } = await sut.create(user);
      const first = await sut.authenticate(token, undefined, { issueCache: true });

      const cached = await sut.authenticate(token, first.cache!.jws, { withData: true });

      expect(cached.data).toBeUndefined();
    });
  });

  it('treats a record stored before the field existed as authenticated at its creation', async () => {
    const { sut, clock } = setup();
    const { record } = await sut.create(user);
    const { authenticatedAt: _dropped, ...older } = record;
    clock.advance(6 * MINUTE);
    expect(() => sut.requireRecentAuthentication(older)).toThrow(ReauthenticationRequiredError);
  });

  it('refuses to renew a session revoked meanwhile, and issues nothing', async () => {
    const { sut, store, clock } = setup();
    const { token } = await sut.create(user);
    const session = await sut.authenticate(token);
    await sut.revoke(token);
    clock.advance(MINUTE);
    expect(await rejection(sut.reauthenticated(session))).toBe('revoked');
    expect(store.size).toBe(0);
  });
});

describe('SessionService revocation and credential versions', () => {
  function withEvents() {
    const clock = new ManualClock();
    const store = new InMemorySessionStore();
    const events: SessionEvent[] = [];
    const settings = resolveSessionSettings({ store, clock, events: (event) => events.push(event) });
    return { sut: new SessionService(settings, new SessionCache(settings)), store, clock, events };
  }
  const entry = (record: SessionRecord, credentialVersion = 0) => ({ id: record.id, absoluteExpiresAt: record.absoluteExpiresAt, credentialVersion });

  it('says which session a revocation ended, and whether it was live; nothing for an unknown or malformed token', async () => {
    const { sut } = withEvents();
    const { token, record } = await sut.create(user);

    expect(await sut.revoke(token)).toEqual({ userId: user.id, sessionId: record.id, live: true });
    expect(await sut.revoke(token)).toEqual({ userId: user.id, sessionId: record.id, live: false });
    expect(await sut.revoke('x'.repeat(43))).toBeUndefined();
    expect(await sut.revoke('not a token')).toBeUndefined();
  });

  it('ends the session a login was presented with, once the new one exists', async () => {
    const { sut } = withEvents();
    const before = await sut.create(user);

    const after = await sut.create(user, {}, { replaces: before.token });

    expect(await rejection(sut.authenticate(before.token))).toBe('unknown');
    expect((await sut.authenticate(after.token)).record.id).toBe(after.record.id);
  });

  it('refuses a login on credentials older than the newest registered, ends its item, and says created only for real sessions', async () => {
    const { sut, store, events } = withEvents();
    await sut.create(user, {}, { credentialVersion: 2 });
    events.length = 0;

    const stale = await sut.create(user, {}, { credentialVersion: 1 }).catch((caught: unknown) => caught);

    expect(stale).toBeInstanceOf(StaleCredentialsError);
    expect(store.size).toBe(1);
    expect(await store.registered(user.id)).toHaveLength(1);
    expect(events).not.toContainEqual({ type: 'created' });
  });

  // Session 44's review: a login whose register step failed after its session was written answered 503 and left that
  // session live and registered, a session nobody held among the user's (listed, taking a place under a limit).
  it.each([
    ['the register write fails', (store: InMemorySessionStore) => jest.spyOn(store, 'register').mockRejectedValueOnce(new StoreUnavailableError('session.register'))],
    [
      'the register write lands and its answer is lost',
      (store: InMemorySessionStore) => {
        const register = store.register.bind(store);
        jest.spyOn(store, 'register').mockImplementationOnce(async (...args) => {
          await register(...args);
          throw new StoreUnavailableError('session.register');
        });
      },
    ],
    [
      'ending the sessions on older credentials fails',
      (store: InMemorySessionStore) => jest.spyOn(store, 'end').mockRejectedValueOnce(new StoreUnavailableError('session.end')),
    ],
  ])('ends the session a login wrote when the login fails after (%s): no session nobody holds is left', async (_, fail) => {
    const { sut, store, clock } = setup();
    const old = await sut.create(user);
    fail(store);

    const failed = await sut.create(user, {}, { credentialVersion: 1 }).catch((caught: unknown) => caught);

    expect(failed).toBeInstanceOf(StoreUnavailableError);
    expect((await store.listOfUser(user.id, clock.now(), 10)).map((record) => record.id)).toEqual([old.record.id]);
    // Sent again, as a 503 asks: one new session, and the sweep of the older ones finished.
    const retried = await sut.create(user, {}, { credentialVersion: 1 });
    expect((await store.listOfUser(user.id, clock.now(), 10)).map((record) => record.id)).toEqual([retried.record.id]);
  });

  // An outside review: a login in a DynamoDB outage answered its 503 after 6 s, the insert's bounded attempts and then
  // as many for ending what it might have written.
  it('answers a login whose session write failed without waiting to end what it may have written, and ends it', async () => {
    const { sut, store, clock } = setup();
    const insert = store.insert.bind(store);
    let written: string | undefined;
    jest.spyOn(store, 'insert').mockImplementationOnce(async (record) => {
      await insert(record); // it lands, and its answer is lost
      written = record.id;
      throw new StoreUnavailableError('session.insert');
    });
    let release!: () => void;
    const end = store.end.bind(store);
    const ending = jest.spyOn(store, 'end').mockImplementationOnce(async (...args) => {
      await new Promise<void>((resolve) => (release = resolve)); // a store that has not answered yet
      return end(...args);
    });

    await expect(sut.create(user)).rejects.toBeInstanceOf(StoreUnavailableError);

    expect(ending).toHaveBeenCalledTimes(1); // under way, not awaited
    expect(await store.find(written!, clock.now())).toBeDefined();
    release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(await store.find(written!, clock.now())).toBeUndefined();
  });

  it('ends every session on older credentials when the first session on newer ones is issued', async () => {
    const { sut, store, events } = withEvents();
    const old = [await sut.create(user), await sut.create(user)];

    const renewed = await sut.create(user, {}, { credentialVersion: 1 });

    for (const { token } of old) expect(await rejection(sut.authenticate(token))).toBe('unknown');
    expect(await store.registered(user.id)).toEqual([entry(renewed.record, 1)]);
    expect(events).toContainEqual({ type: 'revoked', count: 2 });
  });

  it("ends every session of the user but the one kept, and only that user's", async () => {
    const { sut, store } = withEvents();
    const kept = await sut.create(user);
    const others = [await sut.create(user), await sut.create(user)];
    const stranger = await sut.create({ id: 'u-2', email: 'bob@example.com', name: null });

    expect(await sut.revokeAllOfUser(user.id, kept.record.id)).toBe(2);

    expect((await sut.authenticate(kept.token)).record.id).toBe(kept.record.id);
    for (const { token } of others) expect(await rejection(sut.authenticate(token))).toBe('unknown');
    expect((await sut.authenticate(stranger.token)).record.user.id).toBe('u-2');
    expect(await store.registered(user.id)).toEqual([entry(kept.record)]);
  });

  it('counts as revoked only sessions that were still live', async () => {
    const { sut, clock } = withEvents();
    const idle = await sut.create(user);
    clock.advance(31 * MINUTE); // past the idle timeout
    await sut.create(user);
    const loggedOut = await sut.create(user);
    await sut.revoke(loggedOut.token);

    expect(await sut.revokeAllOfUser(user.id)).toBe(1);
    expect(await rejection(sut.authenticate(idle.token))).toBe('unknown');
  });

  it('says a logout ended one session only when it was live, and asks nothing of the store for a malformed token', async () => {
    const { sut, store, events } = withEvents();
    const { token, record } = await sut.create(user);
    const end = jest.spyOn(store, 'end');

    await sut.revoke(token);
    await sut.revoke(token);
    await sut.revoke('not-a-token');

    expect(events.filter((event) => event.type === 'revoked')).toEqual([{ type: 'revoked', count: 1 }]);
    expect(end).toHaveBeenCalledTimes(2);
    expect(await store.registered(user.id)).not.toContainEqual(entry(record));
  });

  it("ends one of the user's own sessions by id, and refuses anyone else's as not found", async () => {
    const { sut, store } = withEvents();
    const mine = await sut.create(user);
    const theirs = await sut.create({ id: 'u-2', email: 'bob@example.com', name: null });

    await expect(sut.revokeOwned(user.id, theirs.record.id)).rejects.toBeInstanceOf(SessionNotFoundError);
    await sut.revokeOwned(user.id, mine.record.id);

    expect((await sut.authenticate(theirs.token)).record.user.id).toBe('u-2');
    expect(await rejection(sut.authenticate(mine.token))).toBe('unknown');
    expect(await store.registered(user.id)).toEqual([]);
  });

  it('ends every session of every user for the operator, counting the live ones', async () => {
    const { sut } = withEvents();
    const sessions = [await sut.create(user), await sut.create({ id: 'u-2', email: 'bob@example.com', name: null })];

    expect(await sut.revokeAll()).toBe(2);

    for (const { token } of sessions) expect(await rejection(sut.authenticate(token))).toBe('unknown');
  });

  it('records where a login came from, keeping no more than 256 characters of user agent', async () => {
    const { sut } = withEvents();

    const { record } = await sut.create(user, { userAgent: 'x'.repeat(1000), ip: '203.0.113.9' });

    expect(record.userAgent).toHaveLength(256);
    expect(record.ip).toBe('203.0.113.9');
  });

  it.each([
    ['2001:db8::1', '2001:db8::1'],
    ['::ffff:203.0.113.9', '::ffff:203.0.113.9'],
    ['fe80::1%eth0', 'fe80::1'],
    ['fe80::1%' + 'z'.repeat(500), 'fe80::1'],
    ['not an address', undefined],
    ['203.0.113.9, 10.0.0.1', undefined],
  ])('records the address %p as %p: an IP address (its zone dropped) or nothing', async (ip, kept) => {
    const { sut } = withEvents();

    const { record } = await sut.create(user, { ip });

    expect(record.ip).toBe(kept);
  });

  it('keeps the device of the session it renews on re-authentication', async () => {
    const { sut } = withEvents();
    const { token } = await sut.create(user, { userAgent: 'phone', ip: '203.0.113.9' });

    const renewed = await sut.reauthenticated(await sut.authenticate(token));

    expect(renewed.record).toMatchObject({ userAgent: 'phone', ip: '203.0.113.9', user });
  });

  it('tells of each event: created, authenticated by the store, rejected with its reason', async () => {
    const { sut, events } = withEvents();
    const { token } = await sut.create(user);
    await sut.authenticate(token);
    await sut.authenticate('a'.repeat(43)).catch(() => undefined);

    expect(events).toEqual([
      { type: 'created' },
      { type: 'authenticated', source: 'store' },
      { type: 'rejected', reason: 'unknown' },
    ]);
  });
});

describe('SessionService checks of its own', () => {
  it('refuses a record the store hands back past its expiry, at the very millisecond it ends', async () => {
    const { sut, store, clock } = setup();
    const { token, record } = await sut.create(user);
    clock.advance(record.idleExpiresAt - clock.now());
    // A store that does not filter expired records (the contract says it must; the service does not trust it).
    jest.spyOn(store, 'find').mockResolvedValueOnce(record);

    expect(await rejection(sut.authenticate(token))).toBe('expired');
  });

  it('lets the signed cache stand in for the store read, and issues a new cache only after a store read', async () => {
    const clock = new ManualClock();
    const store = new InMemorySessionStore();
    const settings = resolveSessionSettings({ store, clock, cache: { ttlSeconds: 30, keys: [{ kid: 'k1', secret: new Uint8Array(randomBytes(32)) }] } });
    const sut = new SessionService(settings, new SessionCache(settings));
    const { token } = await sut.create(user);
    const find = jest.spyOn(store, 'find');

    const fromStore = await sut.authenticate(token, undefined, { issueCache: true });
    const fromCache = await sut.authenticate(token, fromStore.cache!.jws, { issueCache: true });

    expect(find).toHaveBeenCalledTimes(1);
    expect(fromStore.cache).toBeDefined();
    expect(fromCache).toMatchObject({ extended: false, record: { id: fromStore.record.id, user } });
    expect(fromCache.cache).toBeUndefined();
  });

  it('issues no cache token unless asked: a route that ends the session must not hand out one vouching for it', async () => {
    const settings = resolveSessionSettings({ store: new InMemorySessionStore(), clock: new ManualClock(), cache: { ttlSeconds: 30, keys: [{ kid: 'k1', secret: new Uint8Array(randomBytes(32)) }] } });
    const sut = new SessionService(settings, new SessionCache(settings));
    const { token } = await sut.create(user);

    expect((await sut.authenticate(token)).cache).toBeUndefined();
    expect((await sut.authenticate(token, undefined, { withData: true })).cache).toBeUndefined();
    expect((await sut.authenticate(token, undefined, { issueCache: true })).cache).toBeDefined();
  });

  it("vouches at once (no promise, no store read) only for a cache token of the presented token's own live session", async () => {
    const clock = new ManualClock();
    const store = new InMemorySessionStore();
    const settings = resolveSessionSettings({ store, clock, cache: { ttlSeconds: 30, keys: [{ kid: 'k1', secret: new Uint8Array(randomBytes(32)) }] } });
    const sut = new SessionService(settings, new SessionCache(settings));
    const [mine, other] = [await sut.create(user), await sut.create(user)];
    const { cache } = await sut.authenticate(mine.token, undefined, { issueCache: true });
    const find = jest.spyOn(store, 'find');

    expect(sut.vouchedByCache(mine.token, cache!.jws)).toMatchObject({ token: mine.token, extended: false, record: { id: mine.record.id } });
    expect(sut.vouchedByCache(other.token, cache!.jws)).toBeUndefined();
    expect(sut.vouchedByCache(undefined, cache!.jws)).toBeUndefined();
    expect(sut.vouchedByCache('not a token', cache!.jws)).toBeUndefined();
    expect(sut.vouchedByCache(mine.token, undefined)).toBeUndefined();
    expect(sut.vouchedByCache(mine.token, `${cache!.jws}x`)).toBeUndefined();
    clock.advance(30_000);
    expect(sut.vouchedByCache(mine.token, cache!.jws)).toBeUndefined();
    expect(find).not.toHaveBeenCalled();
  });

  it('never vouches without the cache configured, whatever is presented', async () => {
    const { sut } = setup();
    const { token } = await sut.create(user);

    expect(sut.vouchedByCache(token, 'a.b.c')).toBeUndefined();
  });
});

describe('SessionService events', () => {
  function withCacheAndEvents() {
    const clock = new ManualClock();
    const events: SessionEvent[] = [];
    const settings = resolveSessionSettings({
      store: new InMemorySessionStore(),
      clock,
      refreshIntervalSeconds: 60,
      events: (event) => events.push(event),
      cache: { ttlSeconds: 30, keys: [{ kid: 'k1', secret: new Uint8Array(randomBytes(32)) }] },
    });
    return { sut: new SessionService(settings, new SessionCache(settings)), clock, events };
  }

  it('tells of a revocation of one of your own sessions once, when it was live', async () => {
    const { sut, events } = withCacheAndEvents();
    await sut.create(user);
    const other = await sut.create(user);
    events.length = 0;

    await sut.revokeOwned(user.id, other.record.id);
    await sut.revokeOwned(user.id, other.record.id); // again: already ended, nothing more to tell

    expect(events).toEqual([{ type: 'revoked', count: 1 }]);
  });

  it('says which source vouched and when a session was extended', async () => {
    const { sut, clock, events } = withCacheAndEvents();
    const { token } = await sut.create(user);
    const fromStore = await sut.authenticate(token, undefined, { issueCache: true });
    await sut.authenticate(token, fromStore.cache!.jws);
    clock.advance(2 * MINUTE);
    await sut.authenticate(token);

    expect(events).toEqual([
      { type: 'created' },
      { type: 'authenticated', source: 'store' },
      { type: 'authenticated', source: 'cache' },
      { type: 'authenticated', source: 'store' },
      { type: 'extended' },
    ]);
  });
});

describe('SessionService with a limit on sessions per user (maxSessionsPerUser)', () => {
  function limited(max: number, store: InMemorySessionStore = new InMemorySessionStore()) {
    const clock = new ManualClock();
    const events: SessionEvent[] = [];
    const settings = resolveSessionSettings({ store, clock, maxSessionsPerUser: max, refreshIntervalSeconds: 60, events: (event) => events.push(event) });
    return { sut: new SessionService(settings, new SessionCache(settings)), store, clock, events };
  }
  const live = async (sut: SessionService, tokens: string[]) =>
    Promise.all(tokens.map((token) => sut.authenticate(token).then(() => true, () => false)));

  it('ends the least recently used session when a login would pass the limit, and never refuses the login', async () => {
    const { sut, clock, events } = limited(2);
    const phone = await sut.create(user);
    clock.advance(MINUTE);
    const laptop = await sut.create(user);
    clock.advance(2 * MINUTE);
    await sut.authenticate(phone.token); // used again after the refresh interval: now the laptop is the least recent
    events.length = 0;

    const tablet = await sut.create(user);

    expect(await live(sut, [phone.token, laptop.token, tablet.token])).toEqual([true, false, true]);
    expect(tablet.evicted).toEqual([laptop.record.id]);
    expect(laptop.evicted).toBeUndefined();
    expect(events).toContainEqual({ type: 'evicted', count: 1 });
    expect(await sut.listOfUser(user.id, 10)).toHaveLength(2);
  });

  it('ends the oldest login where none was used since (lastSeenAt ties broken by when they began)', async () => {
    const { sut, clock } = limited(3);
    const sessions = [];
    for (let i = 0; i < 5; i += 1) {
      sessions.push(await sut.create(user));
      clock.advance(1000);
    }
    expect(await live(sut, sessions.map((s) => s.token))).toEqual([false, false, true, true, true]);
  });

  it('keeps other users out of it, and a limit of 1 leaves only the newest login', async () => {
    const { sut } = limited(1);
    const other = await sut.create({ id: 'u-2' });
    const first = await sut.create(user);
    const second = await sut.create(user);
    expect(await live(sut, [other.token, first.token, second.token])).toEqual([true, false, true]);
  });

  it('does not count the session a login replaces, nor ended or expired ones still in the register', async () => {
    const { sut, store, clock } = limited(2);
    const b = await sut.create(user);
    clock.advance(MINUTE);
    const a = await sut.create(user); // the most recently used: were it counted, `b` would be ended for `c`
    // Logging in again from the browser that holds `a`: `a` ends anyway, so `b` stays.
    const c = await sut.create(user, {}, { replaces: a.token });
    expect(await live(sut, [a.token, b.token, c.token])).toEqual([false, true, true]);

    // An ended session whose register entry a crash left behind takes no room, is not reported as evicted, and
    // its entry goes.
    await store.end(b.record.id, clock.now());
    const d = await sut.create(user);
    expect(await live(sut, [c.token, d.token])).toEqual([true, true]);
    expect(d.evicted).toBeUndefined();
    expect((await store.registered(user.id)).map((entry) => entry.id).sort()).toEqual([c.record.id, d.record.id].sort());
  });

  it('leaves a re-authentication and a password change within the limit without ending another session', async () => {
    const { sut } = limited(2);
    const a = await sut.create(user);
    const b = await sut.create(user);

    const renewed = await sut.reauthenticated(await sut.authenticate(b.token));
    expect(await live(sut, [a.token, renewed.token])).toEqual([true, true]);

    const changed = await sut.create(user, {}, { credentialVersion: 1, replaces: renewed.token });
    expect(await live(sut, [a.token, renewed.token, changed.token])).toEqual([false, false, true]);
  });

  it('refuses a login, naming why, on a store whose register answers no `current` (an adapter written before the limit)', async () => {
    // Reading the register after registering would also show logins registered later, which this one must not end.
    const store = new InMemorySessionStore();
    const register = store.register.bind(store);
    jest.spyOn(store, 'register').mockImplementation(async (...args) => {
      const { current: _current, ...outcome } = (await register(...args)) as { outcome: 'registered'; older: []; current: [] };
      return outcome as never;
    });
    const { sut } = limited(2, store);
    await expect(sut.create(user)).rejects.toThrow(/register\(\) answers `current`/);
  });

  // Found in review: a login that read a session just past its idle expiry left it in no register while a use
  // already in flight extended it (usable, unregistered, over the limit; logout-all and a password change missed it).
  it('ends for good a session it reads past its idle expiry, so a use already in flight cannot bring it back out of sight', async () => {
    const store = new InMemorySessionStore();
    const { sut, clock } = limited(2, store);
    const s1 = await sut.create(user);
    clock.advance(1000);
    const s2 = await sut.create(user);
    clock.advance(1800 * 1000 - 1000 - 1); // a moment before s1's idle expiry
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const extend = store.extend.bind(store);
    jest.spyOn(store, 'extend').mockImplementation(async (...args) => {
      await gate; // the extension's write is on its way
      return extend(...args);
    });
    const use = sut.authenticate(s1.token).then(() => true, () => false);
    await new Promise((resolve) => setImmediate(resolve));
    clock.advance(1); // the login reads s1 a millisecond after its idle expiry
    const login = await sut.create(user);
    release();
    await use;

    const registered = new Set((await store.registered(user.id)).map((entry) => entry.id));
    const sessions = [s1, s2, login];
    const usable = await live(sut, sessions.map((s) => s.token));
    for (const [index, session] of sessions.entries()) if (usable[index]) expect(registered.has(session.record.id)).toBe(true); // G3
    expect(usable.filter(Boolean).length).toBeLessThanOrEqual(2); // G7
    await sut.revokeAllOfUser(user.id);
    expect(await live(sut, sessions.map((s) => s.token))).toEqual([false, false, false]);
    expect(login.evicted).toBeUndefined(); // s1 was no longer live when it was ended
  });

  it('names as evicted only the sessions this login ended while they were live (racing logins end one once)', async () => {
    const { sut } = limited(1);
    const old = await sut.create(user);
    const [a, b] = await Promise.all([sut.create(user), sut.create(user)]);
    expect([...(a.evicted ?? []), ...(b.evicted ?? [])].filter((id) => id === old.record.id)).toHaveLength(1);
  });

  it('says which live session a login replaced, and whose (another user may have been logged in on that device)', async () => {
    const { sut } = limited(5);
    const theirs = await sut.create({ id: 'u-2' });
    const mine = await sut.create(user, {}, { replaces: theirs.token });
    expect(mine.replaced).toEqual({ userId: 'u-2', sessionId: theirs.record.id });
    expect((await sut.create(user, {}, { replaces: theirs.token })).replaced).toBeUndefined(); // already ended
  });

  it('reads nothing more while the user is under the limit', async () => {
    const { sut, store } = limited(3);
    await sut.create(user);
    const find = jest.spyOn(store, 'find');
    const registered = jest.spyOn(store, 'registered');
    await sut.create(user);
    await sut.create(user);
    expect([find.mock.calls.length, registered.mock.calls.length]).toEqual([0, 0]);
    await sut.create(user); // at the limit: the three others are read once each
    expect([find.mock.calls.length, registered.mock.calls.length]).toEqual([3, 0]);
  });
});
