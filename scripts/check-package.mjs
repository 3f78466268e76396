// Checks the artifact `serverless package` wrote, and prints each check: `npm run package` ends with it.
// The zip holds only the handler's bundle (its entry and chunks) and the Redis TLS files the function's settings name
// there, the handler loads from the zip alone (no node_modules) and exports a function, and the CloudFormation template
// declares the function, the route, and, where the function's store is DynamoDB, both tables and the least-privilege
// role on them (on Redis, neither: no table made, no DynamoDB grant). The template is read as CloudFormation will
// make it for this stage: its conditions evaluated, a resource under a false one left out. Exits 1, saying what
// failed, otherwise.
//
// Usage: node scripts/check-package.mjs [dir]   (dir: where serverless package wrote, default .serverless)
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join, posix, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import AdmZip from 'adm-zip';

const dir = resolve(process.argv[2] ?? '.serverless');
const failures = [];
function check(ok, line) {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${line}`);
  if (!ok) failures.push(line);
}
const kib = (bytes) => `${Math.round(bytes / 1024)} KiB`;

const template = JSON.parse(await readFile(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'));
/**
 * A condition of the template, as CloudFormation evaluates it. serverless resolves its params first, so the
 * template's conditions compare strings it wrote: `Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or` and `Condition`.
 * Anything else (a parameter, a pseudo parameter) is not known before deploy: thrown, so the check fails saying so.
 */
function holds(condition) {
  if (typeof condition === 'string') return holds(template.Conditions?.[condition] ?? fail(`no condition ${condition}`));
  const [[fn, args]] = Object.entries(condition);
  if (fn === 'Condition') return holds(args);
  if (fn === 'Fn::Not') return !holds(args[0]);
  if (fn === 'Fn::And') return args.every(holds);
  if (fn === 'Fn::Or') return args.some(holds);
  if (fn === 'Fn::Equals' && args.every((arg) => typeof arg === 'string')) return args[0] === args[1];
  return fail(`a condition not known before deploy: ${JSON.stringify(condition)}`);
}
function fail(message) {
  throw new Error(message);
}
/** The resources CloudFormation makes for this stage, by logical name: those under no condition or a true one. */
const made = Object.fromEntries(Object.entries(template.Resources ?? {}).filter(([, resource]) => resource.Condition === undefined || holds(resource.Condition)));
const resources = Object.values(made);
const ofType = (type) => resources.filter((resource) => resource.Type === type);
const [fn] = ofType('AWS::Lambda::Function');
const zipPath = join(dir, basename(fn?.Properties?.Code?.S3Key ?? 'missing.zip'));
console.log(`package check: ${relative(process.cwd(), zipPath)}`);

const zip = new AdmZip(zipPath);
const entries = zip.getEntries().filter((entry) => !entry.isDirectory);
const unzipped = entries.reduce((sum, entry) => sum + entry.header.size, 0);
const props = fn?.Properties ?? {};
const variables = props.Environment?.Variables ?? {};
// The Redis TLS files the function's settings name in its code directory (/var/task, Lambda's working directory, so
// a relative path is there too): a private authority's certificate, or a client certificate and its key, packaged
// with `package.patterns`. Those exact files may be in the zip beside the bundle, and must be, or every cold start
// on Redis fails reading one. A path elsewhere (/opt, a layer's) is not the package's: noted, not checked.
const TASK_ROOT = '/var/task/';
const tlsFiles = ['KURA_REDIS_TLS_CA_FILE', 'KURA_REDIS_TLS_CERT_FILE', 'KURA_REDIS_TLS_KEY_FILE']
  .filter((variable) => typeof variables[variable] === 'string' && variables[variable] !== '')
  .map((variable) => {
    const path = variables[variable];
    const inTask = path.startsWith(TASK_ROOT) ? path.slice(TASK_ROOT.length) : isAbsolute(path) ? undefined : path;
    const entryName = inTask === undefined ? undefined : posix.normalize(inTask);
    return { variable, path, entryName: entryName?.startsWith('../') ? undefined : entryName };
  });
const packagedTlsFiles = new Set(tlsFiles.map((file) => file.entryName).filter(Boolean));

// The zip: the bundle only, its entry, the app and the chunks it loads (node-redis is one, loaded only on Redis),
// the compile cache, and those TLS files.
const BUNDLE_FILE = /^\.build\/lambda\/((index|app|chunks\/[\w.-]+)\.mjs|compile-cache\/v[\w.-]+\/[0-9a-f]+)$/;
const others = entries.filter((entry) => !BUNDLE_FILE.test(entry.entryName) && !packagedTlsFiles.has(entry.entryName));
check(
  entries.length >= 1 && others.length === 0,
  `zip: ${kib((await stat(zipPath)).size)}, ${entries.length} file(s), all the bundle's${packagedTlsFiles.size ? ` and the Redis TLS files its settings name` : ''} (${kib(unzipped)} unzipped)` +
    (others.length ? `; not the bundle's: ${others.slice(0, 5).map((entry) => entry.entryName).join(', ')}${others.length > 5 ? ', …' : ''}` : ''),
);
for (const { variable, path, entryName } of tlsFiles) {
  if (entryName === undefined) {
    console.log(`  note ${variable}=${path}: outside the function's code directory (a layer's, under /opt?), so not checked here`);
    continue;
  }
  const text = zip.getEntry(entryName)?.getData().toString('utf8');
  check(
    text?.includes('-----BEGIN ') === true,
    `${variable}=${path}: ${text === undefined ? 'missing from the zip (name it in package.patterns)' : text.includes('-----BEGIN ') ? `${entryName} in the zip, PEM` : `${entryName} in the zip holds no PEM text`}`,
  );
}

// The handler the function names is in the zip, loads with nothing else, and is a function.
const handlerSpec = fn?.Properties?.Handler ?? '';
const exportName = handlerSpec.slice(handlerSpec.lastIndexOf('.') + 1);
const modulePath = handlerSpec.slice(0, handlerSpec.lastIndexOf('.'));
const handlerEntry = entries.find((entry) => /^(.*)\.(mjs|cjs|js)$/.exec(entry.entryName)?.[1] === modulePath);
let exported = 'missing from the zip';
if (handlerEntry) {
  const scratch = await mkdtemp(join(tmpdir(), 'kura-package-check-'));
  try {
    zip.extractAllTo(scratch, true);
    const module = await import(pathToFileURL(join(scratch, handlerEntry.entryName)).href);
    exported = typeof module[exportName] === 'function' ? `exports function ${exportName}` : `exports no function ${exportName}`;
    // Every chunk loads from the zip too: a chunk loaded only later (Redis's) must not miss a module either.
    for (const entry of entries.filter((entry) => entry.entryName.endsWith('.mjs'))) await import(pathToFileURL(join(scratch, entry.entryName)).href);
  } catch (error) {
    exported = `does not load: ${error.message}`;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
check(exported.startsWith('exports function'), `handler: ${handlerSpec} -> ${handlerEntry?.entryName ?? '?'} ${exported} (loaded from the zip alone)`);

// The template.
// The function's environment, as Lambda gives it (with the variables Lambda sets itself), makes a configuration Kura
// starts with: `--param cacheSeconds=60` without its keys packaged a function that failed every invocation.
let configured = 'starts with';
try {
  const { loadConfig } = await import(pathToFileURL(resolve('dist/apps/api/src/config/app-config.js')).href);
  loadConfig({ ...variables, AWS_REGION: 'eu-west-1', AWS_LAMBDA_FUNCTION_NAME: fn?.Properties?.FunctionName ?? 'kura', AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 'secret' });
} catch (error) {
  configured = `refuses (${error.message.replaceAll('\n', ' ')})`;
}
check(configured === 'starts with', `configuration: Kura ${configured} the function's ${Object.keys(variables).length} environment variables`);
check(
  props.Runtime === 'nodejs24.x' && props.Architectures?.includes('arm64'),
  `function: ${props.Runtime}, ${props.Architectures?.join(',')}, ${props.MemorySize} MB, ${props.Timeout} s`,
);
for (const table of ofType('AWS::DynamoDB::Table')) {
  const t = table.Properties;
  const traits = [
    t.TimeToLiveSpecification?.Enabled && `TTL on ${t.TimeToLiveSpecification.AttributeName}`,
    ...(t.GlobalSecondaryIndexes ?? []).map((index) => `index ${index.IndexName}`),
    t.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled && 'point-in-time recovery',
    t.SSESpecification?.SSEEnabled && 'encryption',
  ].filter(Boolean);
  check(traits.includes('point-in-time recovery'), `table: ${t.TableName} (${traits.join(', ')})`);
}
// A store every execution environment shares: memory and embedded keep the data in each environment (its memory, its
// /tmp), so a user is logged out whenever another one serves them, and everything is gone when it is recycled. They
// serve `npm run offline` (which runs no check); a deploy of one was packaged with every check "ok" (a review, once
// an unknown store's grants fell back to none).
const store = variables.KURA_STORE;
const shared = store === 'dynamodb' || store === 'redis';
check(shared, `store: KURA_STORE=${store}${shared ? '' : ': each execution environment would keep its own sessions and accounts, lost between them: --param store=dynamodb or store=redis'}`);
// DynamoDB's tables where the store is DynamoDB, none where it is not (on Redis, accounts live there too).
const onDynamoDB = store === 'dynamodb';
const tablesMade = ofType('AWS::DynamoDB::Table').length;
check(tablesMade === (onDynamoDB ? 2 : 0), `tables: ${tablesMade} of ${onDynamoDB ? 2 : `0 (KURA_STORE=${store})`}`);
const statements = ofType('AWS::IAM::Role').flatMap((role) => (role.Properties.Policies ?? []).flatMap((p) => p.PolicyDocument.Statement));
const dynamo = statements.flatMap((s) => [s.Action].flat()).filter((action) => action.startsWith('dynamodb:'));
const broad = dynamo.filter((action) => /\*|Scan|Table$/.test(action));
/** A statement's resource by its logical name: `SessionsTable`, `SessionsTable/index/byUser`. */
const resourceName = (resource) =>
  resource?.['Fn::GetAtt']?.[0] ?? String(resource?.['Fn::Sub'] ?? JSON.stringify(resource)).replace(/^\$\{(\w+)\.Arn\}/, '$1');
const grants = statements
  .filter((s) => [s.Action].flat().some((action) => action.startsWith('dynamodb:')))
  .map((s) => `${[s.Resource].flat().map(resourceName).join(', ')}: ${[s.Action].flat().map((a) => a.slice(9)).join(' ')}`);
check(
  (onDynamoDB ? dynamo.length > 0 : dynamo.length === 0) && broad.length === 0,
  `role: ${dynamo.length} DynamoDB grants${grants.length ? ` (${grants.join('; ')})` : onDynamoDB ? '' : ` (KURA_STORE=${store})`}${broad.length ? `; too broad: ${broad.join(' ')}` : ''}`,
);
// Every resource the template names (Ref, Fn::GetAtt, Fn::Sub's ${Name} and ${Name.Attribute}) is one it makes for
// this stage: a role statement or an output naming a table left out by its condition fails the deploy, not this.
const named = new Set();
function collect(value) {
  if (Array.isArray(value)) return value.forEach(collect);
  if (value === null || typeof value !== 'object') return;
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'Ref' && typeof inner === 'string') named.add(inner);
    // A resource made after another names it too: DependsOn on a resource not made is refused as a Ref to it is.
    else if (key === 'DependsOn') for (const name of [inner].flat()) named.add(String(name));
    else if (key === 'Fn::GetAtt') named.add(Array.isArray(inner) ? inner[0] : String(inner).split('.')[0]);
    else if (key === 'Fn::Sub') {
      const [text, variables = {}] = [inner].flat();
      for (const [, name] of String(text).matchAll(/\$\{([\w:]+)(?:\.[\w.]+)?\}/g)) if (!(name in variables)) named.add(name);
      collect(variables);
    } else if (key === 'Fn::If') collect(holds(inner[0]) ? inner[1] : inner[2]);
    else collect(inner);
  }
}
for (const resource of resources) collect({ ...resource, Condition: undefined });
const outputsMade = Object.entries(template.Outputs ?? {}).filter(([, output]) => output.Condition === undefined || holds(output.Condition));
for (const [, output] of outputsMade) collect({ ...output, Condition: undefined });
const unknown = [...named].filter((name) => !name.startsWith('AWS::') && !(name in made) && !(name in (template.Parameters ?? {})));
check(unknown.length === 0, `references: ${named.size} names, ${unknown.length ? `not made for this stage: ${unknown.join(', ')}` : 'each made for this stage'}`);
// The compile cache: which Node version, architecture and user it was made for. One made for another architecture
// is no error (V8 refuses it and compiles as without one) but gains nothing: said here, not failed.
const cacheTags = [...new Set(entries.map((entry) => /^\.build\/lambda\/compile-cache\/([^/]+)\//.exec(entry.entryName)?.[1]).filter(Boolean))];
const functionArch = { arm64: 'arm64', x86_64: 'x64' }[props.Architectures?.[0] ?? 'x86_64'];
const cacheFits = cacheTags.some((tag) => tag.includes(`-${functionArch}-`));
console.log(
  `  note compile cache: ${cacheTags.join(', ') || 'none'}${cacheFits ? '' : `: not made for ${functionArch}, so unused there (docs/lambda.md, "Compile cache")`}`,
);
const routes = ofType('AWS::ApiGatewayV2::Route').map((route) => route.Properties.RouteKey);
check(routes.length > 0, `routes: ${routes.join(', ') || 'none'}`);
// The alarms (docs/lambda.md#alarms): on the API's 5xx share, and on the function's errors and throttles.
const alarms = ofType('AWS::CloudWatch::Alarm').map((alarm) => alarm.Properties);
const watched = alarms.map((alarm) => alarm.MetricName ?? alarm.Metrics?.filter((metric) => metric.MetricStat).map((metric) => metric.MetricStat.Metric.MetricName).join('/'));
check(['5xx/Count', 'Errors', 'Throttles'].every((name) => watched.includes(name)), `alarms: ${alarms.map((alarm, i) => `${alarm.AlarmName} (${watched[i]})`).join(', ') || 'none'}`);
const outputs = outputsMade.map(([name]) => name);
check(['ApiUrl', ...(onDynamoDB ? ['SessionsTableName', 'UsersTableName'] : [])].every((name) => outputs.includes(name)), `outputs: ${outputs.join(', ')}`);

if (failures.length > 0) {
  console.error(`package check failed: ${failures.length} problem(s)`);
  process.exit(1);
}
console.log(`package check passed: ${resources.length} resources in the template`);
process.exit(0);
