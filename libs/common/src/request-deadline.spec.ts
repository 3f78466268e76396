import { describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { RequestDeadlineError, requestDeadline, withRequestDeadline } from './request-deadline.js';

describe('withRequestDeadline', () => {
  it('gives the work, and what it awaits, a signal that aborts when the deadline passes, with why', async () => {
    expect(requestDeadline()).toBeUndefined();
    await withRequestDeadline(30, async () => {
      const signal = requestDeadline()!;
      expect(signal.aborted).toBe(false);
      await sleep(60);
      expect(requestDeadline()).toBe(signal);
      expect(signal.aborted).toBe(true);
      expect(signal.reason).toBeInstanceOf(RequestDeadlineError);
      expect(signal.reason.message).toBe("the request's deadline (30 ms) passed before the store answered");
    });
    expect(requestDeadline()).toBeUndefined();
  });

  it('says the deadline in whole milliseconds', async () => {
    const reason = await withRequestDeadline(7.4, async () => (await sleep(30), requestDeadline()!.reason as RequestDeadlineError));
    expect(reason.message).toBe("the request's deadline (7 ms) passed before the store answered");
  });

  it('ends with the work: a signal kept after it never aborts', async () => {
    const kept = await withRequestDeadline(30, async () => requestDeadline()!);
    await sleep(60);
    expect(kept.aborted).toBe(false);
  });

  it('keeps concurrent works apart, and a deadline already past aborts at once', async () => {
    const [short, long] = await Promise.all([
      withRequestDeadline(0, async () => (await sleep(20), requestDeadline()!.aborted)),
      withRequestDeadline(5000, async () => (await sleep(20), requestDeadline()!.aborted)),
    ]);
    expect([short, long]).toEqual([true, false]);
  });
});
