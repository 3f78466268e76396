// `npm run offline`: the Lambda bundle under serverless-offline, every request a cold start (--reloadHandler).
// On DynamoDB (the default store) it uses DYNAMODB_ENDPOINT when set; otherwise it starts the embedded engine
// (npm run db:serve) first. With `--param store=redis` (or memory) it starts no engine: one started there took
// KURA_DB_PORT (8000), wrote .data/dynalite and, with that port busy, stopped a run that never needed it.
import { spawn } from 'node:child_process';

const children = [];
const stopAll = () => children.forEach((child) => child.kill('SIGTERM'));
process.once('SIGINT', stopAll);
process.once('SIGTERM', stopAll);

const options = process.argv.slice(2);
/** A --param given after `--`, as serverless reads it (`--param name=value` or `--param=name=value`); the last one wins. */
const param = (name) =>
  options
    .map((option, index) => (option === '--param' ? options[index + 1] : option.startsWith('--param=') ? option.slice('--param='.length) : undefined))
    .filter((value) => value?.startsWith(`${name}=`))
    .at(-1)
    ?.slice(name.length + 1);
const onDynamoDB = (param('store') ?? 'dynamodb') === 'dynamodb';

let endpoint = process.env.DYNAMODB_ENDPOINT;
if (onDynamoDB && !endpoint) {
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
    ...(onDynamoDB
      ? [
          '--param',
          `dynamodbEndpoint=${endpoint}`,
          // The same table names as `npm start` and `npm run db:init` use locally.
          '--param',
          `sessionsTable=${process.env.KURA_SESSIONS_TABLE ?? 'kura-sessions'}`,
          '--param',
          `usersTable=${process.env.KURA_USERS_TABLE ?? 'kura-users'}`,
        ]
      : []),
    ...options,
  ],
  { stdio: 'inherit' },
);
children.push(offline);
offline.once('exit', (code) => {
  stopAll();
  process.exitCode = code ?? 0;
});
