import { jest } from '@jest/globals';

/** scrypt as Node has it, counting the calls in flight at once. */
const inFlight = { now: 0, most: 0 };
const realCrypto = process.getBuiltinModule('node:crypto');
jest.unstable_mockModule('node:crypto', () => ({
  ...realCrypto,
  scrypt: (...args: unknown[]) => {
    const callback = args.pop() as (...result: unknown[]) => void;
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
