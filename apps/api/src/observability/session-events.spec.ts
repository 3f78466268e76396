import { describe, expect, it, jest } from '@jest/globals';
import type { LoggerService } from '@nestjs/common';
import type { SessionEvent } from '@kura/session';
import { sessionEventsOf } from './session-events.js';

describe('the session events the service hears', () => {
  const setup = () => {
    const warn = jest.fn();
    const logger = { log: jest.fn(), error: jest.fn(), warn } as unknown as LoggerService;
    const counted: SessionEvent[] = [];
    let clock = 0;
    const sut = sessionEventsOf(logger, (event) => counted.push(event), () => clock);
    return { sut, warn, counted, advance: (ms: number) => (clock += ms) };
  };
  const failed = (reason = 'Redis is out of memory'): SessionEvent => ({ type: 'extension-failed', reason });

  it('counts every event, and says nothing of those a metric tells well enough', () => {
    const { sut, warn, counted } = setup();
    sut({ type: 'authenticated', source: 'store' });
    sut({ type: 'extended' });
    expect(counted).toEqual([{ type: 'authenticated', source: 'store' }, { type: 'extended' }]);
    expect(warn).not.toHaveBeenCalled();
  });

  // A review: a Redis ACL without HSET ended every session at its idle timeout with no log line, the metric alone.
  it('says the first idle extension the store refused at once, with its reason, then at most one line per 10 s with how many', () => {
    const { sut, warn, counted, advance } = setup();
    sut(failed());
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenLastCalledWith(expect.objectContaining({ event: 'extension-failed', reason: 'Redis is out of memory', failed: 1 }), 'Session');
    for (let i = 0; i < 5; i += 1) {
      advance(1000);
      sut(failed());
    }
    expect(warn).toHaveBeenCalledTimes(1);
    advance(5000);
    sut(failed('the role lacks dynamodb:UpdateItem'));
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn).toHaveBeenLastCalledWith(expect.objectContaining({ reason: 'the role lacks dynamodb:UpdateItem', failed: 6 }), 'Session');
    expect(counted).toHaveLength(7);
  });

  it('counts nothing without metrics, and still says the failures', () => {
    const warn = jest.fn();
    const sut = sessionEventsOf({ log: jest.fn(), error: jest.fn(), warn } as unknown as LoggerService);
    sut(failed());
    expect(warn).toHaveBeenCalledTimes(1);
  });
});
