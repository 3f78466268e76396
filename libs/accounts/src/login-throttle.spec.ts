import { ManualClock } from '@kura/common';
import { TooManyLoginAttemptsError } from './account.errors.js';
import { InMemoryLoginAttemptStore } from './login-attempt-store.port.js';
import { LoginThrottle } from './login-throttle.js';

const MINUTE = 60_000;

function setup() {
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12, 0, 0));
  const sut = new LoginThrottle(new InMemoryLoginAttemptStore(), { maxFailuresPerAccount: 3, maxFailuresPerClient: 5, windowSeconds: 600 }, clock);
  return { sut, clock };
}

async function fail(sut: LoginThrottle, email: string, client: string, times: number) {
  for (let i = 0; i < times; i += 1) await sut.recordFailure(email, client);
}

describe('LoginThrottle', () => {
  it('refuses an account after its limit of failures, with a Retry-After inside the window', async () => {
    const { sut } = setup();
    await fail(sut, 'ada@example.com', '10.0.0.1', 3);

    const error = await sut.check('ada@example.com', '10.0.0.2').catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(TooManyLoginAttemptsError);
    expect((error as TooManyLoginAttemptsError).retryAfterSeconds).toBeGreaterThan(0);
    expect((error as TooManyLoginAttemptsError).retryAfterSeconds).toBeLessThanOrEqual(600);
  });

  it('refuses a client after its limit of failures across accounts', async () => {
    const { sut } = setup();
    for (let i = 0; i < 5; i += 1) await sut.recordFailure(`user${i}@example.com`, '10.0.0.1');

    await expect(sut.check('fresh@example.com', '10.0.0.1')).rejects.toBeInstanceOf(TooManyLoginAttemptsError);
    await expect(sut.check('fresh@example.com', '10.0.0.9')).resolves.toEqual({ accountHasFailures: false });
  });

  it('lets the limit decay: the previous window counts less the further the current one goes', async () => {
    const { sut, clock } = setup();
    await fail(sut, 'ada@example.com', '10.0.0.1', 3);

    clock.advance(10 * MINUTE); // next window starts: the old failures still weigh fully
    await expect(sut.check('ada@example.com', undefined)).rejects.toBeInstanceOf(TooManyLoginAttemptsError);

    clock.advance(4 * MINUTE); // 40% into the new window: 3 × 0.6 = 1.8 < 3
    await expect(sut.check('ada@example.com', undefined)).resolves.toEqual({ accountHasFailures: true });
  });

  it('clears the account on success, but not the client', async () => {
    const { sut } = setup();
    await fail(sut, 'ada@example.com', '10.0.0.1', 2);
    for (let i = 0; i < 3; i += 1) await sut.recordFailure(`other${i}@example.com`, '10.0.0.1');

    await sut.recordSuccess('ada@example.com');

    await expect(sut.check('ada@example.com', undefined)).resolves.toEqual({ accountHasFailures: false });
    await expect(sut.check('ada@example.com', '10.0.0.1')).rejects.toBeInstanceOf(TooManyLoginAttemptsError);
  });
});
