import { jest } from '@jest/globals';

/** scrypt as Node has it, counting the calls in flight at once and noting the cost (N) of each. */
const inFlight = { now: 0, most: 0 };
const costs: number[] = [];
const realCrypto = process.getBuiltinModule('node:crypto');
jest.unstable_mockModule('node:crypto', () => ({
  ...realCrypto,
  scrypt: (...args: unknown[]) => {
    const callback = args.pop() as (...result: unknown[]) => void;
    costs.push((args[3] as { N: number }).N);
    inFlight.now += 1;
    inFlight.most = Math.max(inFlight.most, inFlight.now);
    (realCrypto.scrypt as (...all: unknown[]) => void)(...args, (...result: unknown[]) => {
      inFlight.now -= 1;
      callback(...result);
    });
  },
}));
const { PasswordHasher } = await import('./password-hasher.js');

describe('PasswordHasher', () => {
  const sut = new PasswordHasher({ log2Cost: 10 });

  it('verifies what it hashed and nothing else', async () => {
    const hash = await sut.hash('correct horse battery staple');

    await expect(sut.verify('correct horse battery staple', hash)).resolves.toBe(true);
    await expect(sut.verify('correct horse battery stapl', hash)).resolves.toBe(false);
  });

  it('salts every hash', async () => {
    expect(await sut.hash('same password')).not.toBe(await sut.hash('same password'));
  });

  it('uses OWASP cost (N=2^17, r=8, p=1) by default', async () => {
    const hash = await new PasswordHasher().hash('x'.repeat(8));

    expect(hash).toMatch(/^\$scrypt\$ln=17,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  });

  it('verifies hashes made at another cost, so the cost can be raised later', async () => {
    const old = await new PasswordHasher({ log2Cost: 11 }).hash('long-lived password');

    await expect(sut.verify('long-lived password', old)).resolves.toBe(true);
  });

  it.each([
    ['a hash made at a lower cost', '$scrypt$ln=10,r=8,p=1$c2FsdA$aGFzaA', true],
    ['a hash made at this cost with another block size', '$scrypt$ln=12,r=16,p=1$c2FsdA$aGFzaA', true],
    ['a hash made at this cost', '$scrypt$ln=12,r=8,p=1$c2FsdA$aGFzaA', false],
    ['a hash made at a higher cost (never weakened)', '$scrypt$ln=14,r=8,p=1$c2FsdA$aGFzaA', false],
    ["a closed account's mark", '$deleted$2b1c', false],
  ])('says whether to rehash %s once its password is verified', (_case, stored, expected) => {
    expect(new PasswordHasher({ log2Cost: 12 }).needsRehash(stored)).toBe(expected);
  });

  it.each(['', 'plain', '$scrypt$ln=10,r=8,p=1$c2FsdA$', '$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA'])(
    'never verifies a malformed stored hash %p',
    async (stored) => {
      await expect(sut.verify('anything', stored)).resolves.toBe(false);
    },
  );

  it('spends a full verification on a decoy when the user is unknown', async () => {
    const verify = jest.spyOn(sut, 'verify');

    await expect(sut.verifyDecoy('guess')).resolves.toBe(false);

    expect(verify).toHaveBeenCalledWith('guess', expect.stringMatching(/^\$scrypt\$ln=10,/));
  });

  describe('work per check, which must not tell an unknown email from an account', () => {
    // Configured at 2^12; accounts hashed before at 2^10 (the cost was raised), at 2^12, and at 2^13 (lowered).
    const hasher = new PasswordHasher({ log2Cost: 12 });
    const hashedAt = (log2Cost: number) => new PasswordHasher({ log2Cost }).hash('right password');
    /** The N of every scrypt computation that `check` made. */
    const work = async (check: () => Promise<boolean>) => {
      costs.length = 0;
      await check();
      return [...costs];
    };
    const total = (ns: number[]) => ns.reduce((sum, n) => sum + n, 0);

    it('costs one hash at the configured cost for an unknown email, the first after start-up too', async () => {
      const started = new PasswordHasher({ log2Cost: 12 });

      expect(await work(() => started.verifyDecoy('first guess'))).toEqual([2 ** 12]);
      expect(await work(() => started.verifyDecoy('second guess'))).toEqual([2 ** 12]);
    });

    it.each(['right password', 'wrong password'])(
      'checks %p against a hash made at a lower cost at its own cost, then pads with scrypt up to the configured cost',
      async (password) => {
        const stored = await hashedAt(10);

        const ns = await work(() => hasher.verify(password, stored));

        // 2^10 + 2^10 + 2^11 = 2^12: the same work, and the same kind of work, as the decoy's one hash.
        expect(ns).toEqual([2 ** 10, 2 ** 10, 2 ** 11]);
        expect(total(ns)).toBe(2 ** 12);
      },
    );

    it('pads in the place the check took in the queue, so that under load it waits no longer than the decoy', async () => {
      const queued = new PasswordHasher({ log2Cost: 12, maxConcurrent: 1 });
      const stored = await hashedAt(10);
      costs.length = 0;

      await Promise.all([queued.verify('wrong password', stored), queued.hash('asked for while the check runs')]);

      expect(costs).toEqual([2 ** 10, 2 ** 10, 2 ** 11, 2 ** 12]);
    });

    it('still verifies the right password against a padded hash, and only it', async () => {
      const stored = await hashedAt(10);

      await expect(hasher.verify('right password', stored)).resolves.toBe(true);
      await expect(hasher.verify('wrong password', stored)).resolves.toBe(false);
    });

    it('checks a hash made at the configured cost once, unpadded', async () => {
      const stored = await hashedAt(12);

      expect(await work(() => hasher.verify('wrong password', stored))).toEqual([2 ** 12]);
    });

    it('checks a hash made at a higher cost at its own cost, which no padding can shorten', async () => {
      const stored = await hashedAt(13);

      expect(await work(() => hasher.verify('wrong password', stored))).toEqual([2 ** 13]);
    });

    it("spends one hash at the configured cost on a malformed stored hash, such as a closed account's mark", async () => {
      expect(await work(() => hasher.verify('anything', `$deleted$${'0'.repeat(36)}`))).toEqual([2 ** 12]);
    });
  });

  it.each([9, 21, 12.5])('refuses a cost of 2^%p', (log2Cost) => {
    expect(() => new PasswordHasher({ log2Cost })).toThrow(RangeError);
  });

  describe('concurrency', () => {
    beforeEach(() => {
      inFlight.most = 0;
    });

    it.each([1, 3])('runs at most %p scrypt computations at once, however many are asked for, and completes every one', async (maxConcurrent) => {
      const hasher = new PasswordHasher({ log2Cost: 10, maxConcurrent });
      const stored = await hasher.hash('already stored');
      inFlight.most = 0;

      const results = await Promise.all([
        ...Array.from({ length: 6 }, (_, i) => hasher.hash(`password ${i}`)),
        ...Array.from({ length: 6 }, () => hasher.verify('already stored', stored)),
        ...Array.from({ length: 3 }, () => hasher.verifyDecoy('guess')),
      ]);

      expect(inFlight.most).toBe(maxConcurrent);
      expect(results.slice(6, 12)).toEqual(Array(6).fill(true));
      expect(results.slice(12)).toEqual(Array(3).fill(false));
    });

    it("leaves two of libuv's default four threads to other work by default", async () => {
      const hasher = new PasswordHasher({ log2Cost: 10 });

      await Promise.all(Array.from({ length: 8 }, (_, i) => hasher.hash(`password ${i}`)));

      expect(inFlight.most).toBe(2);
    });

    it.each([0, -1, 1.5])('refuses a bound of %p', (maxConcurrent) => {
      expect(() => new PasswordHasher({ maxConcurrent })).toThrow(RangeError);
    });
  });
});
