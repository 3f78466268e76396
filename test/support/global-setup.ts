import { startDynamoDbLocal } from './dynamodb-local.ts';

/**
 * One DynamoDB Local for the whole run; each test file makes its own tables in it. When the environment already
 * names an engine (`npm run mutation` starts one for all its Jest runs), that one is used and nothing is started.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.KURA_TEST_DYNAMODB_ENDPOINT) return;
  const engine = await startDynamoDbLocal();
  process.env.KURA_TEST_DYNAMODB_ENDPOINT = engine.endpoint;
  (globalThis as { kuraTestEngine?: typeof engine }).kuraTestEngine = engine;
  // The teardown does not run when the run is interrupted: never leave a JVM behind.
  const stop = () => engine.process.kill('SIGKILL');
  process.once('exit', stop);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      stop();
      process.exit(130);
    });
  }
}
