/**
 * `npm run mutation`: StrykerJS over the session core, with ONE DynamoDB Local for the whole run.
 *
 * The DynamoDB adapter specs need an engine; Jest's global setup would start a JVM (seconds) for every one of
 * Stryker's Jest runs, i.e. per mutant. Here the engine starts once, its endpoint goes into the environment
 * that Stryker's test-runner processes inherit (`KURA_TEST_DYNAMODB_ENDPOINT`, which the global setup reuses),
 * and it is stopped when Stryker ends, however it ends. Extra arguments go to `stryker run`
 * (e.g. `npm run mutation -- --mutate libs/session/src/merge-patch.ts`).
 */
import { spawn } from 'node:child_process';
import { startDynamoDbLocal } from '../test/support/dynamodb-local.ts';

const started = Date.now();
const engine = await startDynamoDbLocal();
process.once('exit', () => engine.process.kill('SIGKILL')); // never leave a JVM behind
console.log(`DynamoDB Local for the mutation run: ${engine.endpoint}`);

const stryker = spawn('stryker', ['run', ...process.argv.slice(2)], {
  stdio: 'inherit',
  // The interleaving spec explores fewer schedules per mutant (1000 in npm test): enough to kill, quick enough to run.
  env: { INTERLEAVING_RUNS: '40', ...process.env, KURA_TEST_DYNAMODB_ENDPOINT: engine.endpoint },
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => stryker.kill(signal));

const code = await new Promise((resolve) => stryker.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0))));
await engine.stop();
const seconds = Math.round((Date.now() - started) / 1000);
console.log(`Mutation run took ${Math.floor(seconds / 60)} min ${seconds % 60} s (engine start included).`);
process.exit(code);
