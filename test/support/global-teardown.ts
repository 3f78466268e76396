import type { DynamoDbLocal } from './dynamodb-local.ts';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { kuraTestEngine?: DynamoDbLocal }).kuraTestEngine?.stop();
}
