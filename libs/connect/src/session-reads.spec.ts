import { READ_MARKER_KEY, type SessionRead, SessionReads } from './session-reads.js';

const read = (sessionId = 'key-1'): SessionRead => ({ sessionId, id: `sha-256 of ${sessionId}`, generation: 'g1', data: new Map([['user', '"ada"']]), cookie: undefined, expiresAtMs: 1, absoluteExpiresAtMs: undefined });

describe('SessionReads', () => {
  it('leads from a copy of what get returned (as @fastify/session makes) back to the read', () => {
    const sut = new SessionReads();
    const loaded: Record<string, unknown> = { user: 'ada' };
    sut.mark(loaded, read(), false);

    const copy = Object.fromEntries(Object.entries(loaded));

    expect(sut.of(copy, 'key-1')).toEqual(read());
  });

  it('hides the marker from JSON, so it is never saved and never changes a session hash', () => {
    const sut = new SessionReads();
    const loaded: Record<string, unknown> = { user: 'ada' };
    sut.mark(loaded, read(), false);

    expect(JSON.stringify(loaded)).toBe('{"user":"ada"}');
  });

  it('marks for express-session out of sight: its Session copies nothing of it, createSession takes the read back', () => {
    const sut = new SessionReads();
    const loaded: Record<string, unknown> = { user: 'ada' };
    sut.mark(loaded, read(), true);

    // express-session's Session copies what get returned with for...in, which sees string keys only.
    const copied: Record<string, unknown> = {};
    for (const key in loaded) copied[key] = loaded[key];

    expect(copied).toEqual({ user: 'ada' });
    expect(Object.keys(loaded)).toEqual(['user']);
    expect(JSON.stringify(loaded)).toBe('{"user":"ada"}');
    expect(sut.take(loaded)).toEqual(read());
    expect(sut.of(copied, 'key-1')).toBeUndefined();
  });

  it('takes a marker made for @fastify/session off for express-session, whose Session then carries the read', () => {
    const sut = new SessionReads();
    const loaded: Record<string, unknown> = { user: 'ada' };
    sut.mark(loaded, read(), false);

    const taken = sut.take(loaded);
    const session = { ...loaded };
    sut.remember(session, taken!);

    expect(READ_MARKER_KEY in loaded).toBe(false);
    expect(sut.of(session, 'key-1')).toEqual(read());
  });

  it('never serves the read of one session as the base of another', () => {
    const sut = new SessionReads();
    const session = {};
    sut.remember(session, read('key-1'));

    expect(sut.of(session, 'key-2')).toBeUndefined();
  });

  it('knows nothing of a session it never read, and refuses one whose marker the app replaced with a look-alike', () => {
    const sut = new SessionReads();

    expect(sut.of({}, 'key-1')).toBeUndefined();
    // Saved whole, it would start its absolute lifetime again (an outside review, 2026-12-07).
    expect(() => sut.of({ [READ_MARKER_KEY]: { toJSON: () => undefined } }, 'key-1')).toThrow(/the session's key __kura holds a value of the app's/);
    expect(sut.take({ [READ_MARKER_KEY]: 'forged' })).toBeUndefined();
  });

  it('prefers what the session object last wrote over what it first read', () => {
    const sut = new SessionReads();
    const loaded: Record<string, unknown> = {};
    sut.mark(loaded, read(), false);
    const session = { ...loaded };
    const written = { ...read(), data: new Map([['user', '"grace"']]) };

    sut.remember(session, written);

    expect(sut.of(session, 'key-1')).toBe(written);
  });

  it('keeps the base out of sight: JSON, for...in and Object.keys see only the session', () => {
    const sut = new SessionReads();
    const session = { user: 'ada' };
    sut.remember(session, read());

    expect(JSON.stringify(session)).toBe('{"user":"ada"}');
    expect(Object.keys(session)).toEqual(['user']);
    expect(Object.entries(session)).toEqual([['user', 'ada']]);
  });

  it('remembers the base of a session object that cannot take a property, too', () => {
    const sut = new SessionReads();
    const session = Object.freeze({ user: 'ada' });
    sut.remember(session, read());

    expect(sut.of(session, 'key-1')).toEqual(read());
  });

  it("keeps each store's bases apart", () => {
    const [one, other] = [new SessionReads(), new SessionReads()];
    const session = {};
    one.remember(session, read());

    expect(other.of(session, 'key-1')).toBeUndefined();
  });
});
