import { SharedCheck } from './shared-check.js';

function sharedCheckWith(outcome: () => Promise<void>) {
  let now = 0;
  let calls = 0;
  const check = new SharedCheck(
    () => {
      calls += 1;
      return outcome();
    },
    1000,
    () => now,
  );
  return { check, calls: () => calls, advance: (ms: number) => (now += ms) };
}

describe('SharedCheck (GET /health/store)', () => {
  it('runs once for any number of callers that come while it runs, and gives each its outcome', async () => {
    let pass!: () => void;
    const { check, calls } = sharedCheckWith(() => new Promise<void>((resolve) => (pass = resolve)));

    const callers = Array.from({ length: 50 }, () => check.run());
    pass();

    await expect(Promise.all(callers)).resolves.toHaveLength(50);
    expect(calls()).toBe(1);
  });

  it('reuses a pass for the next second, then checks again', async () => {
    const { check, calls, advance } = sharedCheckWith(() => Promise.resolve());

    await check.run();
    advance(999);
    for (let request = 0; request < 100; request += 1) await check.run();
    expect(calls()).toBe(1);
    advance(1);
    await check.run();
    expect(calls()).toBe(2);
  });

  it('reuses no failure: every caller that comes after one checks again, and sees the store back at once', async () => {
    let up = false;
    const { check, calls } = sharedCheckWith(() => (up ? Promise.resolve() : Promise.reject(new Error('store unreachable'))));

    const failed = [check.run(), check.run()];
    await expect(failed[0]).rejects.toThrow('store unreachable');
    await expect(failed[1]).rejects.toThrow('store unreachable');
    expect(calls()).toBe(1);
    await expect(check.run()).rejects.toThrow('store unreachable');
    expect(calls()).toBe(2);
    up = true;
    await expect(check.run()).resolves.toBeUndefined();
    expect(calls()).toBe(3);
  });
});
