import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as dynamodb from '@kura/dynamodb';
import type { DynamoDbCallTotals, DynamoDbClient, DynamoDbConnectionOptions, TableBootstrapStep } from './dynamodb.types.js';
import { resolveKuraStoreOptions } from './kura-store.options.js';

// Compile-time checks, failing `npm run typecheck` (and so `npm test`) when the shapes drift from the real types.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Accepts<Shape, Real> = [Real] extends [Shape] ? true : false;
type Omitted<T> = Omit<T, 'callLog'>;

const shapes: {
  totals: Same<DynamoDbCallTotals, dynamodb.DynamoDbCallTotals>;
  bootstrap: Same<TableBootstrapStep, dynamodb.TableBootstrapStep>;
  connectionFields: Same<Omitted<DynamoDbConnectionOptions>, Omitted<dynamodb.DynamoDbConnectionOptions>>;
  connection: Accepts<DynamoDbConnectionOptions, dynamodb.DynamoDbConnectionOptions>;
  callLog: Accepts<NonNullable<DynamoDbConnectionOptions['callLog']>, dynamodb.DynamoDbCallLog>;
  client: Accepts<DynamoDbClient, DynamoDBClient>;
  notAnyClient: Accepts<DynamoDbClient, { send: string }> extends false ? true : false;
} = { totals: true, bootstrap: true, connectionFields: true, connection: true, callLog: true, client: true, notAnyClient: true };

describe("@kura/connect's DynamoDB types, declared by shape", () => {
  it("are @kura/dynamodb's and the AWS SDK's own, to the compiler", () => {
    expect(Object.values(shapes).every((same) => same)).toBe(true);
  });

  it("take @kura/dynamodb's connection options and the AWS SDK's client as they are", () => {
    const callLog = new dynamodb.DynamoDbCallLog();
    const connection: dynamodb.DynamoDbConnectionOptions = { region: 'eu-west-1', timeoutMs: 500, callLog };
    const client = new DynamoDBClient({ region: 'eu-west-1' });

    expect(resolveKuraStoreOptions({ connection }).connection).toBe(connection);
    expect(resolveKuraStoreOptions({ client }).client).toBe(client);
    client.destroy();
  });
});
