// `npm run offline`: the Lambda bundle under serverless-offline, every request a cold start (--reloadHandler).
// With DYNAMODB_ENDPOINT set it uses that engine; otherwise it starts the embedded one (npm run db:serve) first.
import { spawn } from 'node:child_process';

const children = [];
const stopAll = () => children.forEach((child) => child.kill('SIGTERM'));
process.once('SIGINT', stopAll);
process.once('SIGTERM', stopAll);

let endpoint = process.env.DYNAMODB_ENDPOINT;
if (!endpoint) {
  const port = process.env.KURA_DB_PORT ?? '8000';
  endpoint = `http://127.0.0.1:${port}`;
  const engine = spawn(process.execPath, ['dist/apps/api/src/db-serve.js'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, KURA_DB_PORT: port } });
  children.push(engine);
  await new Promise((resolve, reject) => {
    engine.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      if (String(chunk).includes('ready at')) resolve();
    });
    engine.once('exit', (code) => reject(new Error(`db:serve exited with ${code}`)));
  });
}
const offline = spawn(
  process.execPath,
  [
    'node_modules/serverless/bin/serverless.js',
    'offline',
    '--reloadHandler',
    '--param',
    `dynamodbEndpoint=${endpoint}`,
    // The same table names as `npm start` and `npm run db:init` use locally.
    '--param',
    `sessionsTable=${process.env.KURA_SESSIONS_TABLE ?? 'kura-sessions'}`,
    '--param',
    `usersTable=${process.env.KURA_USERS_TABLE ?? 'kura-users'}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
);
children.push(offline);
offline.once('exit', (code) => {
  stopAll();
  process.exitCode = code ?? 0;
});
