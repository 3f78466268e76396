import { ManualClock, StoreUnavailableError } from '@kura/common';
import { TooManyLoginAttemptsError, TooManyRegistrationsError } from './account.errors.js';
import { InMemoryLoginAttemptStore } from './login-attempt-store.port.js';
import { LoginThrottle } from './login-throttle.js';

const MINUTE = 60_000;
const WINDOW_START = Date.UTC(2026, 0, 1, 12, 0, 0);

function setup(account = 3, client = 5, accountTotal = 30, registrations = 4) {
  const clock = new ManualClock(WINDOW_START);
  const store = new InMemoryLoginAttemptStore();
  const options = { maxFailuresPerAccount: account, maxFailuresPerAccountTotal: accountTotal, maxFailuresPerClient: client, maxRegistrationsPerClient: registrations, windowSeconds: 600 };
  const sut = new LoginThrottle(store, options, clock);
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
  it('refuses an account to the client that reached its limit of failures on it, and to no other client', async () => {
    const { sut } = setup();
    await fail(sut, 'ada@example.com', '10.0.0.1', 3);

    await refusal(sut.begin('ada@example.com', '10.0.0.1'));
    // The owner, elsewhere, is not locked out by someone else's wrong passwords.
    await expect(sut.begin('ada@example.com', '10.0.0.2')).resolves.toBeDefined();
    await expect(sut.begin('ada@example.com', undefined)).resolves.toBeDefined();
  });

  it('refuses an account to everyone once failures from all clients reach its ceiling', async () => {
    const { sut } = setup(3, 100, 7);
    for (let i = 0; i < 7; i += 1) await sut.begin('ada@example.com', `10.0.1.${i}`);

    const { retryAfterSeconds } = await refusal(sut.begin('ada@example.com', '10.0.2.1'));
    expect(retryAfterSeconds).toBeGreaterThan(0);
    await refusal(sut.begin('ada@example.com', undefined));
    await expect(sut.begin('other@example.com', '10.0.2.1')).resolves.toBeDefined();
  });

  it('is locked for everyone by as few addresses as the ceiling divided by the per-address limit (10 at the defaults)', async () => {
    const { sut } = setup(10, 1000, 100);
    for (let address = 0; address < 10; address += 1) await fail(sut, 'ada@example.com', `10.0.3.${address}`, 10);

    await refusal(sut.begin('ada@example.com', '192.0.2.1')); // the owner, at home
  });

  it('counts one IPv6 /64 as one client, in any spelling', async () => {
    const { sut } = setup(100, 3);
    for (const address of ['2001:db8:1:2::1', '2001:db8:1:2:ffff::2', '2001:0DB8:0001:0002:0:0:0:3']) await sut.begin(`${address}@example.com`, address);

    await refusal(sut.begin('fresh@example.com', '2001:db8:1:2:abcd:ef01:2345:6789'));
    await expect(sut.begin('fresh@example.com', '2001:db8:1:3::1')).resolves.toBeDefined(); // the next /64
  });

  // The security review of 2026-12-05: a proxy that appends the port to each X-Forwarded-For entry (Azure's
  // Application Gateway) made each connection of one client another client, with its own failures to spend.
  it('counts an address with the port a proxy appended as the address, whichever port', async () => {
    const { sut } = setup(100, 3);
    for (const address of ['192.0.2.7:50001', '192.0.2.7:50002', '192.0.2.7:50003', '[2001:db8:1:2::1]:443', '[2001:db8:1:2::9]:444', '[2001:db8:1:2::1]']) {
      await sut.begin(`${address}@example.com`, address);
    }

    await refusal(sut.begin('e@example.com', '192.0.2.7:50004'));
    await refusal(sut.begin('e@example.com', '192.0.2.7'));
    await refusal(sut.begin('e@example.com', '2001:db8:1:2::5'));
    await expect(sut.begin('e@example.com', '192.0.2.8:50001')).resolves.toBeDefined();
  });

  it('counts an IPv4-mapped IPv6 address as the IPv4 address it is', async () => {
    const { sut } = setup(100, 3);
    await fail(sut, 'a@example.com', '192.0.2.1', 2);
    await sut.begin('b@example.com', '::ffff:192.0.2.1');

    await refusal(sut.begin('c@example.com', '192.0.2.1'));
    await refusal(sut.begin('c@example.com', '::ffff:c000:201'));
    await expect(sut.begin('c@example.com', '192.0.2.2')).resolves.toBeDefined();
  });

  it("keeps one account's failures from one /64 as one pair, whichever address in it", async () => {
    const { sut } = setup(3, 100);
    for (let i = 1; i <= 3; i += 1) await sut.begin('ada@example.com', `2001:db8:5:6::${i}`);

    await refusal(sut.begin('ada@example.com', '2001:db8:5:6::99'));
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
    const { sut } = setup(3, 100, 3);
    await fail(sut, 'ada@example.com', '10.0.0.1', 3);

    await refusal(sut.begin('ada@example.com', '10.0.0.7')); // the account's ceiling refuses it; the pair would not

    // The client that was refused for the account's sake still has its whole allowance.
    for (let i = 0; i < 100; i += 1) await sut.begin(`other${i}@example.com`, '10.0.0.7');
    await refusal(sut.begin('another@example.com', '10.0.0.7'));
  });

  it('lets the limit decay: the previous window counts less the further the current one goes', async () => {
    const { sut, clock } = setup();
    await fail(sut, 'ada@example.com', undefined, 3);

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

  it("clears the account's failures from this client on success, and withdraws only its own reservation from the client", async () => {
    const { sut } = setup();
    await fail(sut, 'ada@example.com', '10.0.0.1', 2);
    for (let i = 0; i < 2; i += 1) await sut.begin(`other${i}@example.com`, '10.0.0.1');

    await (await sut.begin('ada@example.com', '10.0.0.1')).succeeded();

    // The account starts again from zero for this client (the fourth failure is refused by the client's limit).
    await fail(sut, 'ada@example.com', '10.0.0.1', 1);
    await refusal(sut.begin('someone@example.com', '10.0.0.1')); // 5 of 5 for the client
  });

  it("forgives on success only this client's failures: the account's ceiling keeps the others'", async () => {
    const { sut } = setup(3, 100, 6);
    for (let i = 0; i < 5; i += 1) await sut.begin('ada@example.com', `10.0.1.${i}`);

    await (await sut.begin('ada@example.com', '10.0.0.1')).succeeded();

    await fail(sut, 'ada@example.com', '10.0.2.1', 1); // the sixth failure from all clients
    await refusal(sut.begin('ada@example.com', '10.0.0.1'));
  });

  it('withdraws an abandoned attempt (the store failed before the password could be checked)', async () => {
    const { sut } = setup(1, 1);

    await (await sut.begin('ada@example.com', '10.0.0.1')).abandoned();

    await expect(sut.begin('ada@example.com', '10.0.0.1')).resolves.toBeDefined();
  });

  it('gives back what one counter took when the other could not be reached: a store failure is no failed login', async () => {
    const { sut, store } = setup(2, 5);
    const reserve = store.reserve.bind(store);
    // The client's counter fails every time; the account's two take the attempt.
    store.reserve = async (key, ...rest) => {
      if (key.startsWith('client:')) throw new StoreUnavailableError('attempts.reserve', { reason: 'throttled' });
      return reserve(key, ...rest);
    };
    for (let i = 0; i < 3; i += 1) await expect(sut.begin('ada@example.com', '10.0.0.1')).rejects.toBeInstanceOf(StoreUnavailableError);
    store.reserve = reserve;

    await fail(sut, 'ada@example.com', '10.0.0.1', 2); // the account's limit is all still there
    await refusal(sut.begin('ada@example.com', '10.0.0.1'));
  });

  it('gives back a reservation that landed with its answer lost: a login answered 503 is no failed login', async () => {
    const { sut, store } = setup(2, 5);
    const reserve = store.reserve.bind(store);
    // Every counter takes the attempt, and the client's answer is lost on the way back (a timeout, a reset).
    store.reserve = async (key, ...rest) => {
      const taken = await reserve(key, ...rest);
      if (key.startsWith('client:')) throw new StoreUnavailableError('attempts.reserve', { reason: 'the answer was lost' });
      return taken;
    };
    for (let i = 0; i < 3; i += 1) await expect(sut.begin('ada@example.com', '10.0.0.1')).rejects.toBeInstanceOf(StoreUnavailableError);
    store.reserve = reserve;

    expect(await store.counts([...store['counters'].keys()])).toEqual([0, 0, 0]);
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

    await sut.beginRegistration('10.0.0.1');

    expect(keys).toHaveLength(4);
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

    expect(expiries).toEqual(Array(3).fill(WINDOW_START + 20 * MINUTE));
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

describe('LoginThrottle registrations', () => {
  it('admits a limit of registrations per client, then refuses with a Retry-After, and no other client', async () => {
    const { sut } = setup();
    for (let i = 0; i < 4; i += 1) await sut.beginRegistration('10.0.0.1');

    const { retryAfterSeconds } = await registrationRefusal(sut.beginRegistration('10.0.0.1'));
    expect(retryAfterSeconds).toBeGreaterThan(0);
    await expect(sut.beginRegistration('10.0.0.2')).resolves.toBeDefined();
  });

  it('admits at most the limit of concurrent registrations from one client', async () => {
    const { sut } = setup();

    const outcomes = await Promise.allSettled(Array.from({ length: 40 }, () => sut.beginRegistration('2001:db8::1')));

    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(4);
  });

  it('counts registrations and failed logins apart: one does not use up the other', async () => {
    const { sut } = setup();
    for (let i = 0; i < 4; i += 1) await sut.beginRegistration('10.0.0.1');

    await expect(sut.begin('ada@example.com', '10.0.0.1')).resolves.toBeDefined();
  });

  it('withdraws an abandoned registration', async () => {
    const { sut } = setup();
    for (let i = 0; i < 4; i += 1) await (await sut.beginRegistration('10.0.0.1')).abandoned();

    await expect(sut.beginRegistration('10.0.0.1')).resolves.toBeDefined();
  });
});

async function registrationRefusal(promise: Promise<unknown>): Promise<TooManyRegistrationsError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  if (!(error instanceof TooManyRegistrationsError)) throw new Error(`expected a refusal, got ${String(error)}`);
  return error;
}
