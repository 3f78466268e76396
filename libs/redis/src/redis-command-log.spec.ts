import { RedisCommandLog } from './redis-command-log.js';

describe('RedisCommandLog', () => {
  it('counts each command by name and outcome, tells its listeners, and passes the reply or the error on', async () => {
    const sut = new RedisCommandLog();
    const heard: { name: string; failed: boolean }[] = [];
    sut.onCommand(({ name, failed, seconds }) => {
      expect(seconds).toBeGreaterThanOrEqual(0);
      heard.push({ name, failed });
    });

    await expect(sut.time(['hgetall', 'k'], async () => 'reply')).resolves.toBe('reply');
    await expect(sut.time(['EVALSHA', 'sha', '1', 'k'], async () => Promise.reject(new Error('NOSCRIPT')))).rejects.toThrow('NOSCRIPT');
    await sut.time(['HGETALL', 'k'], async () => null);

    expect(heard).toEqual([{ name: 'HGETALL', failed: false }, { name: 'EVALSHA', failed: true }, { name: 'HGETALL', failed: false }]);
    expect(sut.snapshot()).toEqual({ HGETALL: { calls: 2, failures: 0 }, EVALSHA: { calls: 1, failures: 1 } });
    sut.reset();
    expect(sut.snapshot()).toEqual({});
  });

  it('counts a reply that came after the deadline as failed: the stores had given up on it and answered 503', async () => {
    const sut = new RedisCommandLog({ deadlineMs: 20 });
    const heard: boolean[] = [];
    sut.onCommand(({ failed }) => heard.push(failed));

    await expect(sut.time(['HGETALL', 'k'], () => new Promise((resolve) => setTimeout(resolve, 60, 'late')))).resolves.toBe('late');
    await sut.time(['HGETALL', 'k'], async () => 'in time');

    expect(heard).toEqual([true, false]);
  });

  it('never makes a metric label out of anything but a command name', async () => {
    const sut = new RedisCommandLog();
    sut.onCommand(() => undefined);
    await sut.time(['user@example.com secret'], async () => 'x');

    expect(Object.keys(sut.snapshot())).toEqual(['OTHER']);
  });

  it('counts nothing, and measures nothing, while nobody listens', async () => {
    const sut = new RedisCommandLog();

    await expect(sut.time(['GET', 'k'], async () => 'reply')).resolves.toBe('reply');

    expect(sut.snapshot()).toEqual({});
  });
});
