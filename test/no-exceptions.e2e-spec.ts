import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { freshTables, kuraEnv, testEndpoint } from './support/engine.js';

const run = promisify(execFile);
const fixture = new URL('./support/fixtures/count-exceptions.mjs', import.meta.url).pathname;
const bundle = new URL('../.build/lambda/app.mjs', import.meta.url).pathname;

/**
 * A steady request throws nothing, not even an error caught inside a dependency: a thrown error captures a stack
 * trace, and in deep stacks that costs tens of microseconds. Found so: Node 24's `createHmac` keyed by bytes threw
 * and caught two errors per AWS request signature, 30-50 µs of CPU per DynamoDB call (`RequestSigningSha256`).
 * Counted with the inspector, which pauses on every exception, over the shipped Lambda bundle on DynamoDB Local.
 */
describe('steady requests throw no exception, caught or not', () => {
  it.each([
    ['strict (a store read per request)', {}],
    ['with the signed session cache', { KURA_SESSION_CACHE_SECONDS: '60', KURA_SESSION_CACHE_KEYS: `k1:${randomBytes(32).toString('base64url')}` }],
  ])('%s', async (_, extra) => {
    const env = { PATH: process.env.PATH ?? '', ...kuraEnv(await freshTables(), testEndpoint(), { KURA_STORE: 'dynamodb', KURA_DOCS_UI: 'false', AWS_ACCESS_KEY_ID: 'kuralocal', AWS_SECRET_ACCESS_KEY: 'kuralocal', ...extra }) };
    const { stdout } = await run(process.execPath, [fixture, bundle], { env, timeout: 60_000 });
    const { cache, thrown } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { cache: boolean; thrown: Record<string, Record<string, number>> };
    expect(cache).toBe('KURA_SESSION_CACHE_SECONDS' in extra);
    expect(thrown).toEqual({ 'GET /auth/me': {}, 'PATCH /session/data': {} });
  }, 90_000);
});
