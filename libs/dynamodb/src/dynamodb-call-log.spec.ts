import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { freshTables, LOCAL_CREDENTIALS, testEndpoint } from '../../../test/support/engine.js';
import { createDynamoDbClients } from './dynamodb-client.js';
import { DynamoDbCallLog } from './dynamodb-call-log.js';

describe('DynamoDbCallLog on DynamoDB Local', () => {
  it('counts each command once, with the capacity DynamoDB reports, through the document client', async () => {
    const { sessions } = await freshTables();
    const sut = new DynamoDbCallLog();
    const { client, documents } = createDynamoDbClients({ endpoint: testEndpoint(), region: 'us-east-1', credentials: LOCAL_CREDENTIALS, callLog: sut });

    await documents.send(new PutCommand({ TableName: sessions, Item: { id: 'a', n: 1 }, ReturnConsumedCapacity: 'TOTAL' }));
    await documents.send(new GetCommand({ TableName: sessions, Key: { id: 'a' }, ConsistentRead: true, ReturnConsumedCapacity: 'TOTAL' }));
    await documents.send(new GetCommand({ TableName: sessions, Key: { id: 'a' }, ConsistentRead: false, ReturnConsumedCapacity: 'TOTAL' }));
    await documents.send(new GetCommand({ TableName: 'missing-table', Key: { id: 'a' } })).catch(() => undefined);
    // A condition not met is DynamoDB's answer, not a failure: counted apart.
    const refused = await documents
      .send(new PutCommand({ TableName: sessions, Item: { id: 'a', n: 2 }, ConditionExpression: 'attribute_not_exists(id)' }))
      .catch((error: Error) => error.name);
    client.destroy();

    expect(refused).toBe('ConditionalCheckFailedException');
    expect(sut.snapshot()).toEqual({
      reads: 3,
      writes: 2,
      readCapacityUnits: 1.5,
      writeCapacityUnits: expect.any(Number),
      byOperation: {
        PutItem: { calls: 2, failures: 0, refusals: 1, capacityUnits: expect.any(Number) },
        GetItem: { calls: 3, failures: 1, refusals: 0, capacityUnits: 1.5 },
      },
    });
    expect(sut.snapshot().writeCapacityUnits).toBeGreaterThan(0);
  });
});
