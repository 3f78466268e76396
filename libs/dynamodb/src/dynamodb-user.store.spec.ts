import { EmailTakenError } from '@kura/accounts';
import { freshTables, testClients } from '../../../test/support/engine.js';
import { DynamoDbUserStore } from './dynamodb-user.store.js';

const { client, documents } = testClients();
let sut: DynamoDbUserStore;

beforeAll(async () => {
  sut = new DynamoDbUserStore(documents, (await freshTables()).users);
});
afterAll(() => client.destroy());

const user = (email: string) => ({ id: crypto.randomUUID(), email, name: null, passwordHash: '$scrypt$x', createdAt: Date.now() });

describe('DynamoDbUserStore on DynamoDB Local', () => {
  it('stores a user and finds it by email', async () => {
    const ada = user('ada@example.com');

    await sut.insert(ada);

    expect(await sut.findByEmail('ada@example.com')).toEqual(ada);
    expect(await sut.findByEmail('nobody@example.com')).toBeUndefined();
  });

  it('lets exactly one of many concurrent registrations of an email win', async () => {
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => sut.insert(user('race@example.com'))));

    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    for (const result of results.filter((r) => r.status === 'rejected')) {
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(EmailTakenError);
    }
  });
});
