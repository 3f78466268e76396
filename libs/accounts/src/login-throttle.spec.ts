import { ManualClock, StoreUnavailableError } from '@kura/common';
import { TooManyLoginAttemptsError } from './account.errors.js';
import { InMemoryLoginAttemptStore } from './login-attempt-store.port.js';
import { LoginThrottle } from './login-throttle.js';

const MINUTE = 60_000;
const WINDOW_START = Date.UTC(2026, 0, 1, 12, 0, 0);

function setup(account = 3, client = 5) {
  const clock = new ManualClock(WINDOW_START);
  const store = new InMemoryLoginAttemptStore();
  const sut = new LoginThrottle(store, { maxFailuresPerAccount: account, maxFailuresPerClient: client, windowSeconds: 600 }, clock);
  return { sut, clock, store };
}

/** `times` password checks that failed: each keeps its reservation. */
async function fail(sut: LoginThrottle, email: string, client: string | undefined, times: number) {
  for (let i = 0; i < times; i += 1) await sut.begin(email, client);
}

async function refusal(promise: Promise<unknown>): Promise<TooManyLoginAttemptsError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  if (!(error instanceof TooManyLoginAttemptsError)) throw new Error(`expected a refusal, got ${String(error)}`);
  return error;
}

describe('LoginThrottle', () => {
  it('refuses an account after its limit of failures, whichever client tries', async () => {
    const { sut } = setup();
    await fail(sut, 'ada@example.com', '10.0.0.1', 3);

    await refusal(sut.begin('ada@example.com', '10.0.0.2'));
    await refusal(sut.begin('ada@example.com', undefined));
  });

  it('refuses a client after its limit of failures across accounts, and no other client', async () => {
    const { sut } = setup();
    for (let i = 0; i < 5; i += 1) await sut.begin(`user${i}@example.com`, '10.0.0.1');

    await refusal(sut.begin('fresh@example.com', '10.0.0.1'));
    await expect(sut.begin('fresh@example.com', '10.0.0.9')).resolves.toBeDefined();
  });

  it('admits at most the limit of concurrent guesses: the check and the count are one atomic step', async () => {
    const { sut } = setup(10, 1000);

    const outcomes = await Promise.allSettled(Array.from({ length: 60 }, () => sut.begin('ada@example.com', '10.0.0.1')));

    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(10);
    for (const outcome of outcomes.filter((outcome) => outcome.status === 'rejected')) {
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(TooManyLoginAttemptsError);
    }
  });

  it('does not count a refused attempt, nor leave a reservation in the scope that admitted it', async () => {
    const { sut } = setup(3, 100);
    await fail(sut, 'ada@example.com', '10.0.0.1', 3);

    await refusal(sut.begin('ada@example.com', '10.0.0.7'));

    // The client that was refused for the account's sake still has its whole allowance.
    for (let i = 0; i < 100; i += 1) await sut.begin(`other${i}@example.com`, '10.0.0.7');
    await refusal(sut.begin('another@example.com', '10.0.0.7'));
  });

  it('lets the limit decay: the previous window counts less the further the current one goes', async () => {
    const { sut, clock } = setup();
    await fail(sut, 'ada@example.com', '10.0.0.1', 3);

    clock.advance(10 * MINUTE); // next window starts: the old failures still weigh fully
    await refusal(sut.begin('ada@example.com', undefined));

    clock.advance(4 * MINUTE); // 40% into the new window: the old three weigh 3 × 0.6 = 1.8
    await expect(sut.begin('ada@example.com', undefined)).resolves.toBeDefined(); // 0 + 1.8 < 3
    await expect(sut.begin('ada@example.com', undefined)).resolves.toBeDefined(); // 1 + 1.8 < 3
    await refusal(sut.begin('ada@example.com', undefined)); // 2 + 1.8 ≥ 3
  });

  it.each([
    // [minutes into the window of the failures, failures, minutes later that the Retry-After must admit]
    ['at the start of a window', 0],
    ['in the middle of a window', 5],
    ['at the end of a window', 9.9],
  ])('answers a Retry-After after which an attempt is admitted, and before which it is not (%s)', async (_case, offset) => {
    const { sut, clock } = setup();
    clock.advance(offset * MINUTE);
    await fail(sut, 'ada@example.com', undefined, 3);
    const { retryAfterSeconds } = await refusal(sut.begin('ada@example.com', undefined));

    clock.advance(retryAfterSeconds * 1000 - 2000);
    await refusal(sut.begin('ada@example.com', undefined));
    clock.advance(2000);
    await expect(sut.begin('ada@example.com', undefined)).resolves.toBeDefined();
  });

  it('never answers a Retry-After that understates the wait across the window boundary', async () => {
    const { sut, clock } = setup();
    clock.advance(9 * MINUTE);
    await fail(sut, 'ada@example.com', undefined, 3);

    const { retryAfterSeconds } = await refusal(sut.begin('ada@example.com', undefined));

    // The window ends in 60 s, but the failures still weigh 3 × (1 - f) in the next: 3(1 - f) < 3 needs f > 0.
    expect(retryAfterSeconds).toBeGreaterThan(60);
  });

  it('clears the account on success, and withdraws only its own reservation from the client', async () => {
    const { sut } = setup();
    await fail(sut, 'ada@example.com', '10.0.0.1', 2);
    for (let i = 0; i < 2; i += 1) await sut.begin(`other${i}@example.com`, '10.0.0.1');

    await (await sut.begin('ada@example.com', '10.0.0.1')).succeeded();

    await fail(sut, 'ada@example.com', undefined, 3); // the account starts again from zero
    await expect(sut.begin('someone@example.com', '10.0.0.1')).resolves.toBeDefined(); // 4 of 5 for the client
    await refusal(sut.begin('someone@example.com', '10.0.0.1'));
  });

  it('withdraws an abandoned attempt (the store failed before the password could be checked)', async () => {
    const { sut } = setup(1, 1);

    await (await sut.begin('ada@example.com', '10.0.0.1')).abandoned();

    await expect(sut.begin('ada@example.com', '10.0.0.1')).resolves.toBeDefined();
  });

  it('gives back what one counter took when the other could not be reached: a store failure is no failed login', async () => {
    const { sut, store } = setup(2, 5);
    const reserve = store.reserve.bind(store);
    let calls = 0;
    // The account's counter is reserved first, then the client's: the client's fails every time.
    store.reserve = async (key, ...rest) => {
      calls += 1;
      if (calls % 2 === 0) throw new StoreUnavailableError('attempts.reserve', { reason: 'throttled' });
      return reserve(key, ...rest);
    };
    for (let i = 0; i < 3; i += 1) await expect(sut.begin('ada@example.com', '10.0.0.1')).rejects.toBeInstanceOf(StoreUnavailableError);
    store.reserve = reserve;

    await fail(sut, 'ada@example.com', '10.0.0.1', 2); // the account's limit is all still there
    await refusal(sut.begin('ada@example.com', '10.0.0.1'));
  });

  it('keeps no email or address in its counter keys', async () => {
    const { sut, store } = setup();
    const keys: string[] = [];
    const reserve = store.reserve.bind(store);
    store.reserve = async (key, ...rest) => {
      keys.push(key);
      return reserve(key, ...rest);
    };

    await sut.begin('ada@example.com', '10.0.0.1');

    expect(keys).toHaveLength(2);
    expect(keys.join()).not.toMatch(/ada|example|10\.0\.0\.1/);
  });
});

describe('LoginThrottle windows', () => {
  it('keeps each counter at least until its failures stop weighing: the end of the next window', async () => {
    const { sut, store, clock } = setup();
    clock.advance(3 * MINUTE);
    const expiries: number[] = [];
    const reserve = store.reserve.bind(store);
    store.reserve = async (key: string, attempt: string, below: number, expiresAt?: number) => {
      if (expiresAt === undefined) throw new Error('the throttle must say how long to keep a counter');
      expiries.push(expiresAt);
      return reserve(key, attempt, below, expiresAt);
    };

    await sut.begin('ada@example.com', '10.0.0.1');

    expect(expiries).toEqual([WINDOW_START + 20 * MINUTE, WINDOW_START + 20 * MINUTE]);
  });

  it.each([0, 3.5, 9])('lets previous-window failures fade as the window goes on (%p minutes into the next)', async (minutes) => {
    const { sut, clock } = setup();
    await fail(sut, 'ada@example.com', undefined, 3);
    clock.advance(10 * MINUTE + minutes * MINUTE);
    const weight = 3 * (1 - minutes / 10);

    let admitted = 0;
    while (admitted < 5) {
      const outcome = await sut.begin('ada@example.com', undefined).then(() => true, () => false);
      if (!outcome) break;
      admitted += 1;
    }

    // Admitted while admitted-so-far + weight < 3.
    expect(admitted).toBe(Math.max(0, Math.ceil(3 - weight)));
  });

  it('forgets the previous window too when the password proves right', async () => {
    const { sut, clock } = setup();
    await fail(sut, 'ada@example.com', undefined, 2);
    clock.advance(10 * MINUTE); // the two now weigh from the previous window

    await (await sut.begin('ada@example.com', undefined)).succeeded();

    await fail(sut, 'ada@example.com', undefined, 3); // a full allowance again
    await refusal(sut.begin('ada@example.com', undefined));
  });
});

describe('LoginThrottle across both windows and both scopes', () => {
  it('answers a Retry-After for the moment the previous window has faded enough, when the current one is not full', async () => {
    const { sut, clock } = setup();
    await fail(sut, 'ada@example.com', undefined, 3);
    clock.advance(15 * MINUTE); // halfway into the next window: the three weigh 1.5
    await fail(sut, 'ada@example.com', undefined, 1); // 0 + 1.5 < 3
    await fail(sut, 'ada@example.com', undefined, 1); // 1 + 1.5 < 3

    const { retryAfterSeconds } = await refusal(sut.begin('ada@example.com', undefined)); // 2 + 1.5 ≥ 3

    // Admitted once 2 + 3 × (1 - f) < 3, i.e. f > 2/3: 100 s after the middle of the window.
    expect(retryAfterSeconds).toBe(101);
    clock.advance(99_000);
    await refusal(sut.begin('ada@example.com', undefined));
    clock.advance(2000);
    await expect(sut.begin('ada@example.com', undefined)).resolves.toBeDefined();
  });

  it("weighs the client's previous window like the account's", async () => {
    const { sut, clock } = setup(100, 5);
    for (let i = 0; i < 5; i += 1) await sut.begin(`user${i}@example.com`, '10.0.0.1');
    clock.advance(10 * MINUTE + MINUTE); // 10% into the next window: the five weigh 4.5

    await expect(sut.begin('fresh@example.com', '10.0.0.1')).resolves.toBeDefined(); // 0 + 4.5 < 5
    await refusal(sut.begin('other@example.com', '10.0.0.1')); // 1 + 4.5 ≥ 5
  });
});
