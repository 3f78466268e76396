// `npm run offline`: the Lambda bundle under serverless-offline, every request a cold start (--reloadHandler).
// With DYNAMODB_ENDPOINT set it uses that engine; otherwise it starts the embedded one (npm run db:serve) first.
import { spawn } from 'node:child_process';

const children = [];
const stopAll = () => children.forEach((child) => child.kill('SIGTERM'));
process.once('SIGINT', stopAll);
process.once('SIGTERM', stopAll);

let endpoint = process.env.DYNAMODB_ENDPOINT;
if (!endpoint) {
  const engine = spawn(process.execPath, ['dist/apps/api/src/db-serve.js'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(engine);
  endpoint = await new Promise((resolve) => {
    let output = '';
    const ready = () => /ready at (http:\/\/[\d.:]+)/.exec(output)?.[1];
    engine.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      output += chunk;
      if (ready()) resolve(ready());
    });
    // Before it is ready, db:serve has said why on stderr (KURA_DB_PORT busy, the data folder in use, configuration).
    engine.once('exit', (code) => ready() || process.exit(code || 1));
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
