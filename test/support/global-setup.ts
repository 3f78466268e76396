import { startDynamoDbLocal } from './dynamodb-local.ts';

/** One DynamoDB Local for the whole run; each test file makes its own tables in it. */
export default async function globalSetup(): Promise<void> {
  const engine = await startDynamoDbLocal();
  process.env.KURA_TEST_DYNAMODB_ENDPOINT = engine.endpoint;
  (globalThis as { kuraTestEngine?: typeof engine }).kuraTestEngine = engine;
}
