import { jest } from '@jest/globals';
import { PasswordHasher } from './password-hasher.js';

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
});
