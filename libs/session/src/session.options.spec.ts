import { InMemorySessionStore } from './in-memory-session.store.js';
import { SessionOptionsError } from './session.errors.js';
import { resolveSessionSettings } from './session.options.js';

const store = new InMemorySessionStore();

describe('resolveSessionSettings', () => {
  it('applies secure defaults', () => {
    const settings = resolveSessionSettings({ store });

    expect(settings).toMatchObject({
      idleTimeoutMs: 1_800_000,
      absoluteTimeoutMs: 28_800_000,
      refreshIntervalMs: 180_000,
      cookie: { secure: true, name: '__Host-kura_session', sameSite: 'lax' },
    });
  });

  it('drops the __Host- prefix when secure cookies are turned off', () => {
    expect(resolveSessionSettings({ store, cookie: { secure: false } }).cookie.name).toBe('kura_session');
  });

  it('reports every problem in one error', () => {
    const attempt = () =>
      resolveSessionSettings({
        store,
        idleTimeoutSeconds: 600,
        absoluteTimeoutSeconds: 60,
        refreshIntervalSeconds: 600,
        cookie: { secure: false, name: '__Host-x' },
      });

    expect(attempt).toThrow(SessionOptionsError);
    try {
      attempt();
    } catch (error) {
      expect((error as SessionOptionsError).problems).toEqual([
        'absoluteTimeoutSeconds (60) must not be shorter than idleTimeoutSeconds (600)',
        'refreshIntervalSeconds (600) must be shorter than idleTimeoutSeconds (600)',
        'cookie.name with the __Host- prefix requires cookie.secure',
      ]);
    }
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects an idle timeout of %p', (idleTimeoutSeconds) => {
    expect(() => resolveSessionSettings({ store, idleTimeoutSeconds, refreshIntervalSeconds: 1 })).toThrow(
      /idleTimeoutSeconds must be a positive integer/,
    );
  });
});
