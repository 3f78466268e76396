import { execFile } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import AdmZip from 'adm-zip';
import { kuraTableDefinitions, tableDifferences } from '@kura/dynamodb';
import { coldStartFiles, compileCacheFiles } from '../scripts/lambda-bundle-files.mjs';
import { HttpClient } from './support/http-client.js';
import { startKuraInProcess } from './support/kura-app.js';

/**
 * `serverless package` builds the deployable artifact offline, with no credentials: one bundled file, and a
 * CloudFormation template with the tables (TTL, index, recovery, encryption), least-privilege IAM and the route.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
let template: any;
let zip: AdmZip;
/** What `npm run package -- --stage ci` printed (the bundle built already). */
let packaged: string;
const SERVERLESS_ENV = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', SLS_TELEMETRY_DISABLED: '1' };

beforeAll(async () => {
  // Redis's first: serverless empties .serverless whatever folder it is given.
  await packagedOnRedis();
  ({ stdout: packaged } = await run(process.execPath, ['scripts/serverless.mjs', 'package', '--stage', 'ci'], { cwd: ROOT, env: SERVERLESS_ENV }));
  template = JSON.parse(await readFile(`${ROOT}.serverless/cloudformation-template-update-stack.json`, 'utf8'));
  zip = new AdmZip(`${ROOT}.serverless/kura.zip`);
  // Packaging builds and checks the bundle (a minute alone on 2 cores; over two under a loaded rehearsal's other suites).
}, 300_000);

/**
 * `npm run package -- --stage ci --param store=redis` (the check's output, and where it wrote), made once, before the
 * tests: the TLS cases below and the Redis template's.
 */
let redisPackage: Promise<{ dir: string; stdout: string; template: any }> | undefined;
const packagedOnRedis = () =>
  (redisPackage ??= (async () => {
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(`${tmpdir()}/kura-redis-package-`);
    const args = ['scripts/serverless.mjs', 'package', '--stage', 'ci', '--param', 'store=redis', '--param', 'redisUrl=rediss://kura:secret@redis.example:6379', '--package', dir];
    const { stdout } = await run(process.execPath, args, { cwd: ROOT, env: SERVERLESS_ENV });
    return { dir, stdout, template: JSON.parse(await readFile(`${dir}/cloudformation-template-update-stack.json`, 'utf8')) };
  })());
afterAll(async () => {
  const { rm } = await import('node:fs/promises');
  if (redisPackage) await rm((await redisPackage).dir, { recursive: true, force: true });
});

/** The files a cold start loads, their size, and the chunks only a dynamic import loads (scripts/lambda-bundle-files). */
const coldStartBytes = () => coldStartFiles(ROOT);

const resourcesOf = (type: string) => Object.values<any>(template.Resources).filter((resource) => resource.Type === type);

describe('the deployable artifact', () => {
  it('holds the bundle and nothing else: no node_modules, no sources, no tests', () => {
    const names = zip.getEntries().map((entry) => entry.entryName);
    expect(names).toEqual(expect.arrayContaining(['.build/lambda/index.mjs', '.build/lambda/app.mjs']));
    for (const name of names) expect(name).toMatch(/^\.build\/lambda\/((index|app|chunks\/[\w.-]+)\.mjs|compile-cache\/v[\w.-]+\/[0-9a-f]+)$/);
  });

  it('keeps what a cold start loads within 1.0 MB unzipped, with Redis\'s client, the OpenAPI document and Fastify\'s logger apart', async () => {
    const { size, lazy } = await coldStartBytes();
    expect(size).toBeLessThanOrEqual(1_000_000);
    expect(lazy.some((file) => /@redis\/client/.test(file.inputs))).toBe(true);
    expect(lazy.some((file) => /^openapi-prebuilt:.*openapi-document\.js$/.test(file.inputs))).toBe(true);
    // Swagger's decorators are erased and its document builder is not needed: none of it, nor its helpers, is shipped.
    const inputs = Object.values(JSON.parse(await readFile(`${ROOT}.build/lambda-meta.json`, 'utf8')).outputs).flatMap((output) => Object.keys((output as { inputs: object }).inputs));
    expect(inputs.filter((input) => /node_modules\/(@nestjs\/swagger|es-toolkit|swagger-ui-dist)\//.test(input))).toEqual([]);
    // Nor find-my-way's ReDoS check (Kura's routes have no regular expression) or light-my-request's option validator
    // (Kura's handler injects with validate: false): scripts/lambda-bundle-options.mjs.
    expect(inputs.filter((input) => /node_modules\/(safe-regex2|ret)\/|light-my-request\/lib\/config-validator/.test(input))).toEqual([]);
    // Fastify's pino logger, which Kura never turns on, is shipped beside the chunks and loaded by none of them.
    expect(zip.getEntry('.build/lambda/chunks/fastify-logger.mjs')).not.toBeNull();
  });

  it('ships a compile cache that is world-readable, for the Node that built it', async () => {
    const { files, tags } = await compileCacheFiles(ROOT);
    expect(tags).toEqual([expect.stringMatching(new RegExp(`^${process.version.replace(/\./g, '\\.')}-${process.arch}-`))]);
    const modes = await Promise.all(files.map(async (file) => (await stat(file)).mode & 0o777));
    expect(modes.every((mode) => (mode & 0o444) === 0o444)).toBe(true);
    const zipped = zip.getEntries().filter((entry) => entry.entryName.startsWith('.build/lambda/compile-cache/') && !entry.isDirectory);
    expect(zipped).toHaveLength(files.length);
  });

  it('is the size docs/lambda.md states, within 10%', async () => {
    const { size } = await coldStartBytes();
    const readme = await readFile(`${ROOT}docs/lambda.md`, 'utf8');
    const stated = /\(`npm run bundle`, about ([\d.]+) MB/.exec(readme);
    expect(stated).not.toBeNull();
    expect(Math.abs(Number(stated![1]) * 1_000_000 - size) / size).toBeLessThan(0.1);
  });

  it('imports node:http as CommonJS, so a cold start does not load undici for http.WebSocket', async () => {
    const source = (await Promise.all((await coldStartBytes()).files.map((file) => readFile(`${ROOT}${file}`, 'utf8')))).join('\n');
    expect(source).not.toMatch(/from\s*["'](node:)?http["']/);
    expect(source).toMatch(/require\(["']node:http["']\)|\w+\(["']node:http["']\)/);
  });
});

describe('npm run package', () => {
  const check = (dir?: string) => run(process.execPath, ['scripts/check-package.mjs', ...(dir ? [dir] : [])], { cwd: ROOT });

  it('ends by checking the artifact of the stage it was given, and prints each check it made', async () => {
    const { scripts } = JSON.parse(await readFile(`${ROOT}package.json`, 'utf8'));
    expect(scripts.package).toMatch(/&& node scripts\/serverless\.mjs package$/);
    // `npm run package -- --stage ci`: the stage reaches serverless, and the check reads what it wrote (before, the
    // check took `--stage` for a folder and failed: an outside review).
    const stdout = packaged;

    expect(stdout).toMatch(/ok +zip: \d+ KiB, \d+ file\(s\), all the bundle's \(\d+ KiB unzipped\)/);
    expect(stdout).toMatch(/ok +handler: \.build\/lambda\/index\.handler -> \.build\/lambda\/index\.mjs exports function handler/);
    expect(stdout).toMatch(/ok +function: nodejs24\.x, arm64/);
    expect(stdout).toMatch(/ok +configuration: Kura starts with the function's \d+ environment variables/);
    expect(stdout).toMatch(/ok +table: kura-ci-sessions \(TTL on expiresAt, index byUser, point-in-time recovery, encryption\)/);
    expect(stdout).toMatch(/ok +role: 10 DynamoDB grants \(SessionsTable: GetItem PutItem UpdateItem BatchGetItem BatchWriteItem; UsersTable: GetItem PutItem UpdateItem DeleteItem; SessionsTable\/index\/byUser: Query\)/);
    expect(stdout).toMatch(/ok +routes: \$default/);
    expect(stdout).toMatch(/ok +alarms: kura-ci-5xx \(5xx\/Count\), kura-ci-function-errors \(Errors\), kura-ci-function-throttles \(Throttles\)/);
    expect(stdout).toMatch(/package check passed/);
  });

  // `--param cacheSeconds=60` as docs/lambda.md said, without keys: a package that passed this check, and a function
  // that failed every invocation (an outside review, 2026-12-06).
  it("fails, quoting Kura's refusal, when the function's environment is a configuration Kura refuses", async () => {
    const { cp, mkdtemp, rm, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(`${tmpdir()}/kura-bad-config-`);
    try {
      await cp(`${ROOT}.serverless`, dir, { recursive: true });
      const edited = structuredClone(template);
      const fn = Object.values(edited.Resources as Record<string, { Type: string; Properties: { Environment: { Variables: Record<string, string> } } }>).find((r) => r.Type === 'AWS::Lambda::Function')!;
      Object.assign(fn.Properties.Environment.Variables, { KURA_SESSION_CACHE_SECONDS: '60', KURA_SESSION_CACHE_KEYS: '' });
      await writeFile(`${dir}/cloudformation-template-update-stack.json`, JSON.stringify(edited));

      const failure = await check(dir).then(() => undefined, (error: { code: number; stdout: string }) => error);

      expect(failure?.code).toBe(1);
      expect(failure?.stdout).toMatch(/FAIL configuration: Kura refuses \(.*KURA_SESSION_CACHE_SECONDS needs KURA_SESSION_CACHE_KEYS/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails, naming what is wrong, when the zip lacks the handler', async () => {
    const { cp, mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(`${tmpdir()}/kura-bad-package-`);
    try {
      await cp(`${ROOT}.serverless`, dir, { recursive: true });
      const broken = new AdmZip();
      broken.addFile('README.txt', Buffer.from('no handler here'));
      broken.writeZip(`${dir}/kura.zip`);

      const failure = await check(dir).then(() => undefined, (error: { code: number; stdout: string; stderr: string }) => error);

      expect(failure?.code).toBe(1);
      expect(failure?.stdout).toMatch(/FAIL handler: \.build\/lambda\/index\.handler -> \? missing from the zip/);
      expect(failure?.stderr).toMatch(/package check failed/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// A private authority's certificate (KURA_REDIS_TLS_CA_FILE), or a client certificate and key, has to reach the
// function: named in package.patterns, the check refused the package for holding a file not the bundle's (the
// Lambda + Redis review). Those exact files are accepted now, where the settings name them in the code directory.
describe('npm run package with Redis TLS files in the package', () => {
  const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  /** The package made with `--param store=redis`, with `files` added to the zip and `variables` to the function's environment. */
  async function packagedWith(files: Record<string, string>, variables: Record<string, string>) {
    const { cp, mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(`${tmpdir()}/kura-tls-package-`);
    const onRedis = await packagedOnRedis();
    await cp(onRedis.dir, dir, { recursive: true });
    const edited = structuredClone(onRedis.template);
    const fn = Object.values(edited.Resources as Record<string, { Type: string; Properties: { Environment: { Variables: Record<string, string> } } }>).find((r) => r.Type === 'AWS::Lambda::Function')!;
    Object.assign(fn.Properties.Environment.Variables, variables);
    await writeFile(`${dir}/cloudformation-template-update-stack.json`, JSON.stringify(edited));
    const withFiles = new AdmZip(`${dir}/kura.zip`);
    for (const [name, text] of Object.entries(files)) withFiles.addFile(name, Buffer.from(text));
    withFiles.writeZip(`${dir}/kura.zip`);
    return dir;
  }
  const checked = (dir: string) =>
    run(process.execPath, ['scripts/check-package.mjs', dir], { cwd: ROOT }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
  const made: string[] = [];
  afterAll(async () => {
    const { rm } = await import('node:fs/promises');
    await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it.each([
    ['an absolute path in the code directory', '/var/task/redis-ca.pem'],
    ['a path relative to it, the working directory', 'redis-ca.pem'],
  ])('accepts the files the KURA_REDIS_TLS_* settings name there, given as %s', async (_case, path) => {
    const dir = await packagedWith({ 'redis-ca.pem': PEM }, { KURA_REDIS_TLS_CA_FILE: path });
    made.push(dir);

    const { code, stdout } = await checked(dir);

    expect(stdout).toMatch(/ok +zip: \d+ KiB, \d+ file\(s\), all the bundle's and the Redis TLS files its settings name/);
    expect(stdout).toContain(`ok   KURA_REDIS_TLS_CA_FILE=${path}: redis-ca.pem in the zip, PEM`);
    expect(code).toBe(0);
  });

  it('refuses a file no setting names, and a named file missing from the zip', async () => {
    const dir = await packagedWith({ 'redis-ca.pem': PEM }, { KURA_REDIS_TLS_CERT_FILE: '/var/task/client.pem', KURA_REDIS_TLS_KEY_FILE: '/opt/kura/client.key' });
    made.push(dir);

    const { code, stdout } = await checked(dir);

    expect(code).toBe(1);
    expect(stdout).toMatch(/FAIL zip: .*; not the bundle's: redis-ca\.pem/);
    expect(stdout).toContain('FAIL KURA_REDIS_TLS_CERT_FILE=/var/task/client.pem: missing from the zip (name it in package.patterns)');
    expect(stdout).toContain("note KURA_REDIS_TLS_KEY_FILE=/opt/kura/client.key: outside the function's code directory (a layer's, under /opt?), so not checked here");
  });
});

// On Redis the function needs no DynamoDB table, and least privilege says its role may touch none: before, the tables
// were made, billed and granted whatever the store (a review's finding, left then as documented).
describe("npm run package -- --param store=redis: no DynamoDB", () => {
  const statementsOf = (t: any) => t.Resources.IamRoleLambdaExecution.Properties.Policies.flatMap((policy: any) => policy.PolicyDocument.Statement);

  it('leaves the tables and their outputs out by a condition, and grants the role no DynamoDB operation', async () => {
    const { stdout, template: onRedis } = await packagedOnRedis();

    expect(stdout).toMatch(/ok +tables: 0 of 0 \(KURA_STORE=redis\)/);
    expect(stdout).toMatch(/ok +store: KURA_STORE=redis\n/);
    expect(stdout).toMatch(/ok +role: 0 DynamoDB grants \(KURA_STORE=redis\)/);
    expect(stdout).toMatch(/ok +references: \d+ names, each made for this stage/);
    expect(stdout).toMatch(/ok +outputs: .*ApiUrl$/m);
    expect(stdout).toMatch(/package check passed/);
    expect(onRedis.Conditions.OnDynamoDB).toEqual({ 'Fn::Equals': ['redis', 'dynamodb'] });
    for (const table of ['SessionsTable', 'UsersTable']) expect(onRedis.Resources[table]).toMatchObject({ Type: 'AWS::DynamoDB::Table', Condition: 'OnDynamoDB', DeletionPolicy: 'Retain' });
    for (const output of ['SessionsTableName', 'UsersTableName']) expect(onRedis.Outputs[output].Condition).toBe('OnDynamoDB');
    expect(JSON.stringify(statementsOf(onRedis))).not.toMatch(/dynamodb:|SessionsTable|UsersTable/);
    // The same conditions on DynamoDB (the default) make both.
    expect(template.Conditions.OnDynamoDB).toEqual({ 'Fn::Equals': ['dynamodb', 'dynamodb'] });
  });

  it('fails a template whose role names a table its conditions leave out, as CloudFormation would refuse it', async () => {
    const { cp, mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const onRedis = await packagedOnRedis();
    const dir = await mkdtemp(`${tmpdir()}/kura-redis-grants-`);
    try {
      await cp(onRedis.dir, dir, { recursive: true });
      const edited = structuredClone(onRedis.template);
      // The DynamoDB template's grants, as a role that is not chosen by store would keep them.
      edited.Resources.IamRoleLambdaExecution.Properties.Policies[0].PolicyDocument.Statement.push(...statementsOf(template).filter((statement: any) => [statement.Action].flat().some((action: string) => action.startsWith('dynamodb:'))));
      await writeFile(`${dir}/cloudformation-template-update-stack.json`, JSON.stringify(edited));

      const failure = await run(process.execPath, ['scripts/check-package.mjs', dir], { cwd: ROOT }).then(() => undefined, (error: { code: number; stdout: string }) => error);

      expect(failure?.code).toBe(1);
      expect(failure?.stdout).toMatch(/FAIL role: 10 DynamoDB grants \(SessionsTable: /);
      expect(failure?.stdout).toMatch(/FAIL references: \d+ names, not made for this stage: SessionsTable, UsersTable/);

      // A resource that waits for a table the conditions leave out (DependsOn) is refused by CloudFormation as well.
      const waiting = structuredClone(onRedis.template);
      waiting.Resources.ApiLambdaFunction.DependsOn = [waiting.Resources.ApiLambdaFunction.DependsOn ?? []].flat().concat('SessionsTable');
      await writeFile(`${dir}/cloudformation-template-update-stack.json`, JSON.stringify(waiting));
      const refused = await run(process.execPath, ['scripts/check-package.mjs', dir], { cwd: ROOT }).then(() => undefined, (error: { code: number; stdout: string }) => error);
      expect(refused?.stdout).toMatch(/FAIL references: \d+ names, not made for this stage: SessionsTable\n/);

      // A store each execution environment keeps for itself (--param store=embedded or memory): packaged with every
      // check "ok" once an unknown store's grants fell back to none (a review, 2026-12-07).
      for (const store of ['embedded', 'memory']) {
        const own = structuredClone(onRedis.template);
        own.Resources.ApiLambdaFunction.Properties.Environment.Variables.KURA_STORE = store;
        delete own.Resources.ApiLambdaFunction.Properties.Environment.Variables.REDIS_URL;
        await writeFile(`${dir}/cloudformation-template-update-stack.json`, JSON.stringify(own));
        const kept = await run(process.execPath, ['scripts/check-package.mjs', dir], { cwd: ROOT }).then(() => undefined, (error: { code: number; stdout: string }) => error);
        expect(kept?.stdout).toContain(`FAIL store: KURA_STORE=${store}: each execution environment would keep its own sessions and accounts, lost between them: --param store=dynamodb or store=redis`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the CloudFormation template', () => {
  it('runs the handler on Node 24, arm64, with the stage’s table names', () => {
    const [fn] = resourcesOf('AWS::Lambda::Function');
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: '.build/lambda/index.handler',
      Environment: { Variables: { KURA_STORE: 'dynamodb', KURA_SESSIONS_TABLE: 'kura-ci-sessions', KURA_USERS_TABLE: 'kura-ci-users', DYNAMODB_ENDPOINT: '' } },
    });
  });

  it('creates the sessions table with TTL on expiresAt, the byUser index, point-in-time recovery and encryption', () => {
    const sessions = template.Resources.SessionsTable.Properties;
    expect(sessions).toMatchObject({
      TableName: 'kura-ci-sessions',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    expect(sessions.GlobalSecondaryIndexes[0]).toMatchObject({ IndexName: 'byUser' });
    // Every key, type and index as Kura's items need them: the check db:init makes of a table that exists.
    const [sessionsNeeded, usersNeeded] = kuraTableDefinitions({ sessions: 'kura-ci-sessions', users: 'kura-ci-users' });
    expect(tableDifferences(sessionsNeeded!, sessions)).toEqual([]);
    expect(tableDifferences(usersNeeded!, template.Resources.UsersTable.Properties)).toEqual([]);
    expect(template.Resources.UsersTable.Properties).toMatchObject({
      TableName: 'kura-ci-users',
      KeySchema: [{ AttributeName: 'email', KeyType: 'HASH' }],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('allows exactly the item operations Kura uses, on its tables and index only', () => {
    const role = template.Resources.IamRoleLambdaExecution.Properties;
    const statements = role.Policies.flatMap((policy: any) => policy.PolicyDocument.Statement);
    const dynamo = statements.filter((statement: any) => [statement.Action].flat().some((action: string) => action.startsWith('dynamodb:')));
    expect([...new Set(dynamo.flatMap((statement: any) => statement.Action))].sort()).toEqual(
      ['BatchGetItem', 'BatchWriteItem', 'DeleteItem', 'GetItem', 'PutItem', 'Query', 'UpdateItem'].map((a) => `dynamodb:${a}`),
    );
    expect(JSON.stringify(dynamo)).not.toMatch(/"\*"|Scan|CreateTable|DeleteTable/);
    expect(JSON.stringify(dynamo.find((s: any) => s.Action.includes('dynamodb:Query')).Resource)).toContain('/index/byUser');
  });

  it("raises alarms on the API's 5xx share and on the function's errors and throttles, notifying a topic only where given", () => {
    const alarms = Object.fromEntries(resourcesOf('AWS::CloudWatch::Alarm').map((alarm) => [alarm.Properties.AlarmName, alarm.Properties]));
    expect(Object.keys(alarms).sort()).toEqual(['kura-ci-5xx', 'kura-ci-function-errors', 'kura-ci-function-throttles']);
    // The 5xx share: API Gateway's 5xx over its Count, per minute, for the HTTP API this template makes.
    const share = alarms['kura-ci-5xx'];
    const stats = Object.fromEntries(share.Metrics.filter((m: any) => m.MetricStat).map((m: any) => [m.Id, m.MetricStat]));
    for (const [id, name] of [['failed', '5xx'], ['requests', 'Count']] as const) {
      expect(stats[id]).toEqual({ Metric: { Namespace: 'AWS/ApiGateway', MetricName: name, Dimensions: [{ Name: 'ApiId', Value: { Ref: 'HttpApi' } }] }, Period: 60, Stat: 'Sum' });
    }
    expect(share.Metrics.filter((m: any) => m.ReturnData).map((m: any) => m.Expression)).toEqual(['IF(requests > 0, failed / requests, 0)']);
    expect(share).toMatchObject({ ComparisonOperator: 'GreaterThanThreshold', Threshold: 0.05, EvaluationPeriods: 2, DatapointsToAlarm: 2, TreatMissingData: 'notBreaching' });
    expect(template.Resources.HttpApi.Type).toBe('AWS::ApiGatewayV2::Api');
    // The function's own, on the function this template makes.
    for (const [name, metric] of [['kura-ci-function-errors', 'Errors'], ['kura-ci-function-throttles', 'Throttles']] as const) {
      expect(alarms[name]).toMatchObject({
        Namespace: 'AWS/Lambda', MetricName: metric, Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'ApiLambdaFunction' } }],
        Statistic: 'Sum', ComparisonOperator: 'GreaterThanThreshold', Threshold: 0, TreatMissingData: 'notBreaching',
      });
    }
    // No topic given (the default): every action is CloudFormation's "no value" under a condition that is false.
    expect(template.Conditions.NotifyAlarms).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
    for (const alarm of Object.values<any>(alarms)) {
      for (const actions of [alarm.AlarmActions, alarm.OKActions]) expect(actions).toEqual({ 'Fn::If': ['NotifyAlarms', [''], { Ref: 'AWS::NoValue' }] });
    }
    for (const alarm of Object.values<any>(alarms)) expect(alarm.AlarmDescription).toContain('docs/lambda.md#alarms');
  });

  it('routes every path of the HTTP API to the function and outputs the URL and table names', () => {
    expect(resourcesOf('AWS::ApiGatewayV2::Route').map((route) => route.Properties.RouteKey)).toEqual(['$default']);
    expect(Object.keys(template.Outputs)).toEqual(expect.arrayContaining(['ApiUrl', 'SessionsTableName', 'UsersTableName']));
  });
});

/**
 * A module script that imports the handler `module` exports and, with `event` (an HTTP API GET of `path`) and
 * `context` in scope, runs `then`.
 */
const invoking = (module: string, path: string, then: string) => `
        const { handler } = await import(${JSON.stringify(module)});
        const event = { version: '2.0', routeKey: '$default', rawPath: ${JSON.stringify(path)}, rawQueryString: '', headers: { host: 'x' }, isBase64Encoded: false,
          requestContext: { http: { method: 'GET', path: ${JSON.stringify(path)}, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 't' }, requestId: 'r', stage: '$default', timeEpoch: 0 } };
        const context = { awsRequestId: 'r', getRemainingTimeInMillis: () => 1000 };
        ${then}`;

/** A module script that loads the packaged handler extracted in `dir` and prints the status of a GET /health/live. */
const liveProbe = (dir: string) => invoking(`${dir}/.build/lambda/index.mjs`, '/health/live', 'console.log((await handler(event, context)).statusCode);');

describe('the bundle on its own', () => {
  it('loads and serves from a folder with no node_modules, as it will on Lambda', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(`${tmpdir()}/kura-artifact-`);
    try {
      zip.extractAllTo(dir, true);
      const script = `${liveProbe(dir)}
        process.exit(0);`;
      await writeFile(`${dir}/invoke.mjs`, script);
      const { stdout } = await run(process.execPath, [`${dir}/invoke.mjs`], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '', KURA_STORE: 'memory', KURA_DOCS_UI: 'false', KURA_LOG_LEVEL: 'error' },
      });
      expect(stdout.trim()).toBe('200');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the compile cache', () => {
  it('serves a cold start from the bytecode made at build time, reading the read-only cache and writing nothing', async () => {
    const { chmod, mkdtemp, readdir, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(`${tmpdir()}/kura-compile-cache-`);
    const files = async () =>
      Promise.all(
        (await readdir(dir, { recursive: true, withFileTypes: true }))
          .filter((entry) => entry.isFile())
          .map(async (entry) => `${entry.parentPath}/${entry.name} ${(await readFile(`${entry.parentPath}/${entry.name}`)).toString('base64')}`),
      );
    try {
      zip.extractAllTo(dir, true);
      for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
        await chmod(`${entry.parentPath}/${entry.name}`, entry.isDirectory() ? 0o555 : 0o444);
      }
      const before = (await files()).sort();
      const script = liveProbe(dir);
      const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script], {
        cwd: tmpdir(),
        env: { PATH: process.env.PATH ?? '', NODE_DEBUG_NATIVE: 'COMPILE_CACHE', KURA_STORE: 'memory', KURA_DOCS_UI: 'false', KURA_LOG_LEVEL: 'error' },
      });

      expect(stdout.trim().split('\n').pop()).toBe('200');
      const log = stdout + stderr;
      expect(log).toMatch(/V8 code cache for ESM file:\/\/\S+\/app\.mjs was accepted/);
      expect(log).not.toMatch(/was rejected|writing cache/);
      expect((await files()).sort()).toEqual(before);
    } finally {
      await chmod(dir, 0o755);
      for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) if (entry.isDirectory()) await chmod(`${entry.parentPath}/${entry.name}`, 0o755);
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the OpenAPI document in the bundle', () => {
  // The bundle carries the document built at bundle time, with the function's own cookie name put in at run time.
  it.each([
    ['the default cookie name', {}],
    ['a cookie name of its own', { KURA_COOKIE_NAME: 'sid.kura' }],
  ])('is the one the server builds, served at /docs/openapi.json, with %s', async (_, cookie: Record<string, string>) => {
    const { app, baseUrl } = await startKuraInProcess({ KURA_STORE: 'memory', KURA_LOG_LEVEL: 'warn', ...cookie });
    const fromServer = (await new HttpClient(baseUrl).get('/docs/openapi.json')).body;
    await app.close();
    // app.mjs, not the entry: the entry turns on the compile cache, which would write the document chunk's bytecode
    // into the build folder (a folder Lambda never lets it write; the cache test checks the folder as built).
    const script = invoking(`${ROOT}.build/lambda/app.mjs`, '/docs/openapi.json', 'process.stdout.write((await handler(event, context)).body);\n        process.exit(0);');
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH ?? '', KURA_STORE: 'memory', KURA_DOCS_UI: 'false', KURA_LOG_LEVEL: 'error', ...cookie },
    });

    expect(JSON.parse(stdout)).toEqual(fromServer);
    expect(fromServer.components.securitySchemes.cookie.name).toBe(cookie.KURA_COOKIE_NAME ?? '__Host-kura_session');
  });

  it('is all the bundle serves: asked for the explorer too (KURA_DOCS_UI=true), it fails the invocation and says why', async () => {
    const script = invoking(
      `${ROOT}.build/lambda/app.mjs`,
      '/health/live',
      "try { await handler(event, context); process.stdout.write('served'); } catch (error) { process.stdout.write(String(error.message)); }\n        process.exit(0);",
    );
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH ?? '', KURA_STORE: 'memory', KURA_DOCS_UI: 'true', KURA_LOG_LEVEL: 'error' },
    });

    expect(stdout).toBe('The Lambda bundle serves the OpenAPI document, not the explorer: set KURA_DOCS_UI=false');
  });
});

describe('npm run deploy', () => {
  it('deploys only what it packaged and checked: a package the check refuses is never deployed', async () => {
    const { scripts } = JSON.parse(await readFile(`${ROOT}package.json`, 'utf8'));
    expect(scripts.deploy).toMatch(/&& node scripts\/serverless\.mjs deploy$/);
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    // Last in this file: serverless clears .serverless, which the tests above copy, even when it packages elsewhere.
    const dir = await mkdtemp(`${tmpdir()}/kura-deploy-`);
    try {
      // A cache without its keys: a function that would fail every invocation. (With no AWS here, a deploy that got
      // as far as serverless's would fail on credentials instead, saying so.)
      const failure = await run(process.execPath, ['scripts/serverless.mjs', 'deploy', '--stage', 'ci', '--param', 'cacheSeconds=60', '--package', dir], { cwd: ROOT, env: SERVERLESS_ENV }).then(
        () => undefined,
        (error: { code: number; stdout: string; stderr: string }) => error,
      );

      expect(failure?.code).toBe(1);
      expect(failure?.stdout).toMatch(/FAIL configuration: Kura refuses \(.*KURA_SESSION_CACHE_SECONDS needs KURA_SESSION_CACHE_KEYS/);
      expect(`${failure?.stdout}${failure?.stderr}`).not.toMatch(/Deploying|credentials/i);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    // It packages before it checks, as the hook above does: as long (60 s ran out in a rehearsal).
  }, 300_000);
});
