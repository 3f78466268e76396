// Makes the compile cache the Lambda entry ships with (.build/lambda/compile-cache): one cold start of the bundle
// in a fresh process that serves a few requests, so that V8 has compiled the functions a cold start runs, then
// writes their bytecode. The store is DynamoDB, answered by a stand-in on loopback that finds no item, so the
// SDK's whole request path (signing, HTTP, parsing) is compiled too. Run by scripts/bundle-lambda.mjs with the
// Node that is to run the function: the cache is keyed by Node's version and architecture (docs/lambda.md).
// Usage: node scripts/lambda-compile-cache.mjs .build/lambda/index.mjs
import { createServer } from 'node:http';
import { flushCompileCache, getCompileCacheDir } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const emptyDynamoDb = createServer((request, response) => {
  request.resume().on('end', () => response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}'));
});
await new Promise((done) => emptyDynamoDb.listen(0, '127.0.0.1', done));
Object.assign(process.env, {
  KURA_STORE: 'dynamodb',
  DYNAMODB_ENDPOINT: `http://127.0.0.1:${emptyDynamoDb.address().port}`,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'warm',
  AWS_SECRET_ACCESS_KEY: 'warm',
  KURA_SESSIONS_TABLE: 'warm-sessions',
  KURA_USERS_TABLE: 'warm-users',
  KURA_DOCS_UI: 'false',
  KURA_LOG_LEVEL: 'error',
  KURA_LOG_FORMAT: 'json',
});

const { handler } = await import(pathToFileURL(resolve(process.argv[2])).href);
const event = (path, headers = {}) => ({
  version: '2.0',
  routeKey: '$default',
  rawPath: path,
  rawQueryString: '',
  headers: { host: 'warm.local', ...headers },
  isBase64Encoded: false,
  requestContext: { http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'warm' }, requestId: 'warm', stage: '$default', timeEpoch: Date.now() },
});
const context = { awsRequestId: 'warm', getRemainingTimeInMillis: () => 10_000 };
const statuses = [];
for (const [path, headers] of [['/auth/me', { authorization: `Bearer ${'a'.repeat(43)}` }], ['/auth/me'], ['/health/ready']]) {
  statuses.push((await handler(event(path, headers), context)).statusCode);
}
if (statuses.join() !== '401,401,200') throw new Error(`unexpected statuses while warming: ${statuses.join()}`);
if (!getCompileCacheDir()) throw new Error('the Lambda entry did not enable the compile cache');
flushCompileCache();
emptyDynamoDb.close();
process.exit(0);
