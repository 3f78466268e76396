import { AccountService } from './account.service.js';
import { EmailTakenError, InvalidCredentialsError } from './account.errors.js';
import { InMemoryUserStore } from './in-memory-user.store.js';
import { PasswordHasher } from './password-hasher.js';

function setup() {
  const store = new InMemoryUserStore();
  const sut = new AccountService(store, new PasswordHasher({ log2Cost: 10 }));
  return { sut, store };
}

describe('AccountService', () => {
  it('registers a user with a normalised email and never keeps the password', async () => {
    const { sut, store } = setup();

    const user = await sut.register({ email: '  Ada@Example.COM ', password: 'analytical engine', name: ' Ada ' });

    expect(user).toMatchObject({ email: 'ada@example.com', name: 'Ada' });
    const stored = await store.findByEmail('ada@example.com');
    expect(JSON.stringify(stored)).not.toContain('analytical engine');
    expect(stored?.passwordHash).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$/);
  });

  it('refuses a second account for the same email, whatever its case', async () => {
    const { sut } = setup();
    await sut.register({ email: 'ada@example.com', password: 'analytical engine' });

    await expect(sut.register({ email: 'ADA@example.com', password: 'another one' })).rejects.toBeInstanceOf(EmailTakenError);
  });

  it('verifies the right password', async () => {
    const { sut } = setup();
    const registered = await sut.register({ email: 'ada@example.com', password: 'analytical engine' });

    await expect(sut.verifyCredentials('Ada@example.com', 'analytical engine')).resolves.toEqual({ ...registered, credentialVersion: 0 });
  });

  it.each([
    ['a wrong password', 'ada@example.com', 'difference engine'],
    ['an unknown email', 'charles@example.com', 'analytical engine'],
  ])('answers %s with the same error', async (_case, email, password) => {
    const { sut } = setup();
    await sut.register({ email: 'ada@example.com', password: 'analytical engine' });

    const error = await sut.verifyCredentials(email, password).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(InvalidCredentialsError);
    expect((error as Error).message).toBe('Invalid email or password');
  });
});
