import { readFile } from 'node:fs/promises';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { parse } from 'yaml';
import { freshTables, kuraEnv, testEndpoint } from './support/engine.js';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy.js';
import { HttpClient, uniqueEmail } from './support/http-client.js';
import { startKuraInProcess } from './support/kura-app.js';

/**
 * The Lambda function's IAM role (serverless.yml) against what Kura really asks DynamoDB for: every route of the API
 * is called, cookie and bearer, with failed logins, a limit on sessions per user, a re-authentication, a password
 * change, revocations and an account's deletion, through a proxy that notes each operation and the table (or index)
 * it names. Every operation used must be allowed (or AWS refuses it: a 503 in production that no local engine shows),
 * and nothing allowed may go unused (least privilege: a stolen role can do no more than Kura does).
 */
const PASSWORD = 'correct horse battery';
let app: NestFastifyApplication;
let proxy: FaultProxy;
let baseUrl: string;
let tables: Awaited<ReturnType<typeof freshTables>>;

beforeAll(async () => {
  tables = await freshTables();
  proxy = await startFaultProxy(testEndpoint());
  // As the function runs (serverless.yml's environment), with the limit on sessions per user a deployment may add.
  ({ app, baseUrl } = await startKuraInProcess(kuraEnv(tables, proxy.endpoint, { KURA_DOCS_UI: 'false', KURA_MAX_SESSIONS_PER_USER: '3' })));
});
afterAll(async () => {
  await app?.close();
  await proxy?.close();
});

/** What the role allows, as `Action Resource` with the logical names serverless.yml uses (`GetItem SessionsTable`). */
async function allowed(): Promise<Set<string>> {
  // CloudFormation's tags (`!GetAtt SessionsTable.Arn`, `!Sub ${SessionsTable.Arn}/index/byUser`) are unknown to a
  // YAML parser, which keeps what follows them as plain text: all this needs.
  // The role's statements are chosen by store (`${self:custom.grants.${param:store}, null}`): DynamoDB's are these.
  const config = parse(await readFile(new URL('../serverless.yml', import.meta.url), 'utf8'), { logLevel: 'silent' }) as {
    provider: { iam: { role: { statements: string } } };
    custom: { grants: Record<string, { Effect: string; Action: string[]; Resource: string[] }[]> };
  };
  expect(config.provider.iam.role.statements).toBe('${self:custom.grants.${param:store}, null}'); // none for a store Kura does not know
  const resource = (entry: string) => entry.replace(/^\$\{(\w+)\.Arn\}/, '$1').replace(/^(\w+)\.Arn$/, '$1');
  return new Set(
    config.custom.grants.dynamodb!
      .filter((statement) => statement.Effect === 'Allow' && statement.Action.some((action) => action.startsWith('dynamodb:')))
      .flatMap((statement) => statement.Action.flatMap((action) => statement.Resource.map((entry) => `${action.replace(/^dynamodb:/, '')} ${resource(entry)}`))),
  );
}

/** Every route, as a user of the API would call them. */
async function journey(): Promise<void> {
  const email = uniqueEmail('iam');
  const browser = new HttpClient(baseUrl);
  const expectStatus = async (answer: Promise<{ status: number }>, status: number) => expect((await answer).status).toBe(status);

  await expectStatus(browser.get('/health/ready'), 200);
  await expectStatus(browser.get('/health/store'), 200);
  await expectStatus(browser.post('/auth/register', { email, password: PASSWORD, name: 'Ada' }), 201);
  await expectStatus(browser.post('/auth/register', { email, password: PASSWORD }), 409);
  await expectStatus(browser.post('/auth/login', { email, password: 'not the password' }), 401);
  await expectStatus(browser.post('/auth/login', { email: uniqueEmail('nobody'), password: PASSWORD }), 401);
  // Four sessions on other devices: past the limit of three, the least recently used ends.
  for (let device = 0; device < 4; device += 1) await expectStatus(new HttpClient(baseUrl).post('/auth/login', { email, password: PASSWORD }), 200);
  await expectStatus(browser.post('/auth/login', { email, password: PASSWORD }), 200);
  const bearer = new HttpClient(baseUrl);
  const bearerLogin = (await bearer.post('/auth/login', { email, password: PASSWORD, transport: 'bearer' })).body;
  const asBearer = { headers: { authorization: `Bearer ${bearerLogin.token as string}` }, cookies: false };
  await expectStatus(browser.get('/auth/me'), 200);
  await expectStatus(bearer.request('GET', '/auth/me', asBearer), 200);
  await expectStatus(browser.get('/auth/sessions'), 200);
  await expectStatus(browser.request('PATCH', '/session/data', { json: { theme: 'dark' }, headers: { 'content-type': 'application/merge-patch+json' } }), 200);
  await expectStatus(browser.request('PATCH', '/session/data', { json: { lang: 'ja' }, headers: { 'content-type': 'application/merge-patch+json', 'if-match': '"0"' } }), 412);
  await expectStatus(browser.get('/session/data'), 200);
  await expectStatus(browser.post('/auth/reauthenticate', { password: PASSWORD }), 200);
  // Another session of the user's, ended from this one (204 whether it was still live or the limit had ended it).
  await expectStatus(browser.request('DELETE', `/auth/sessions/${bearerLogin.session.id as string}`), 204);
  await expectStatus(browser.request('DELETE', `/auth/sessions/${'A'.repeat(43)}`), 404);
  await expectStatus(browser.post('/auth/password', { currentPassword: PASSWORD, newPassword: 'a phrase of her own' }), 200);
  await expectStatus(new HttpClient(baseUrl).post('/auth/login', { email, password: 'a phrase of her own' }), 200);
  await expectStatus(browser.post('/auth/logout-all'), 200);
  await expectStatus(browser.post('/auth/login', { email, password: 'a phrase of her own' }), 200);
  await expectStatus(browser.post('/auth/logout'), 204);
  await expectStatus(browser.post('/auth/login', { email, password: 'a phrase of her own' }), 200);
  await expectStatus(browser.request('DELETE', '/auth/account'), 204);
}

describe("the Lambda function's DynamoDB permissions (serverless.yml)", () => {
  it('allow every operation Kura makes, on the table it makes it on, and nothing it does not make', async () => {
    await journey();
    const logical = (resource: string) =>
      resource.replace(`${tables.sessions}/index/`, 'SessionsTable/index/').replace(tables.sessions, 'SessionsTable').replace(tables.users, 'UsersTable');
    const used = new Set([...proxy.accessed].map((entry) => entry.replace(/ (.+)$/, (_all, resource: string) => ` ${logical(resource)}`)));
    const granted = await allowed();

    expect([...used].filter((entry) => !granted.has(entry)).sort()).toEqual([]);
    expect([...granted].filter((entry) => !used.has(entry)).sort()).toEqual([]);
  });
});
