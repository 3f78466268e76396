// A scenario file (YAML or JSON) read, checked against scenario.schema.json, and given its defaults.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';

const schema = JSON.parse(await readFile(new URL('../scenario.schema.json', import.meta.url), 'utf8'));
const validate = new Ajv2020({ allErrors: true, useDefaults: true, strict: true, strictRequired: false, allowUnionTypes: true }).compile(schema);

/** Why kura-check could not judge: said in one line, exit code 2. */
export class CannotJudge extends Error {}

/** Engine network modes, not networks: the host's own (no published ports, one port for every replica), none, a private one. */
const NOT_A_SHARED_NETWORK = new Set(['host', 'none', 'private', 'slirp4netns', 'pasta']);

/** Variables a replica has to itself (see replica.js): a path under one of them is private to the replica. */
const PRIVATE_VARIABLES = new Set(['TMPDIR', 'TMP', 'TEMP', 'HOME']);
/** Variables kura-check gives each replica its own value of: never taken from kura-check's environment. */
const PER_REPLICA = new Set([...PRIVATE_VARIABLES, 'HOST', 'PORT', 'KURA_CHECK_REPLICA']);

/** PHP's session.save_path as its php.ini on this machine sets it, or undefined when php cannot say. */
function phpDefaultSavePath() {
  try {
    return execFileSync('php', ['-r', 'echo ini_get("session.save_path");'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

/**
 * The folder PHP keeps file sessions in, as the replicas will see it: the value given to `-d
 * session.save_path=` in `start` (its variables taken from `env`), or else php.ini's. 'private' when every
 * replica has its own (empty, meaning the temp folder, TMPDIR; under $TMPDIR or $HOME; relative to the replica's
 * copy of the app), else the shared path itself.
 */
function phpSavePath(scenario, seen) {
  if (seen) {
    // What the running PHP was given (its argv, variables already filled): under the replica's own folder, private.
    const value = seen.savePath ?? phpDefaultSavePath();
    if (value === undefined) return "Debian's /var/lib/php/sessions, or wherever this machine's php.ini puts it";
    const path = value.split(';').at(-1).trim();
    return path === '' || !path.startsWith('/') || path.startsWith(`${seen.replicaDir}/`) ? 'private' : path;
  }
  const given = /-d\s*session\.save_path\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S*))/.exec(scenario.start);
  let value = given ? (given[1] ?? given[2] ?? given[3]) : phpDefaultSavePath();
  if (value === undefined) return "Debian's /var/lib/php/sessions, or wherever this machine's php.ini puts it";
  value = value.split(';').at(-1).trim(); // "N;MODE;/path": the path is last
  const variable = /^\$(?:\{(\w+)\}|(\w+))/.exec(value);
  const name = variable?.[1] ?? variable?.[2];
  if (name && PRIVATE_VARIABLES.has(name)) return 'private';
  if (name) value = String(scenario.env?.[name] ?? '') + value.slice(variable[0].length);
  return value === '' || !value.startsWith('/') ? 'private' : value;
}

/**
 * Whether replicas may share some of this machine's files (`files`: privateFiles' answer, private-files.js): none
 * when each has a view of its own that the kernel overlaid whole. Without `files` (before a run): may.
 */
export const sharesFiles = (files) => !files?.private || files.sharedHere.length > 0;

const within = (path, folder) => path === folder || path.startsWith(folder.endsWith('/') ? folder : `${folder}/`);

/** PHP's session id characters (session.sid_bits_per_character 4, 5 or 6). */
const PHP_SESSION_ID = /^[a-zA-Z0-9,-]{16,256}$/;

/**
 * Whether `value` is the id of a file session in folder `path`, directly or N levels down ("N;/path" makes
 * folders named by the id's first characters; N up to 3 looked at). The folder need not be readable, only
 * searchable, as Debian's /var/lib/php/sessions (mode 1733) is to everyone.
 */
function phpSessionFileExists(path, value) {
  if (!PHP_SESSION_ID.test(value)) return false;
  return [0, 1, 2, 3].some((levels) => existsSync(join(path, ...value.slice(0, levels), `sess_${value}`)));
}

/**
 * What could make the verdict wrong for this scenario on this machine, read from it before the run: state the
 * replicas share here that pods would not (see "Limits" in the README). It looks at the value the app will use,
 * not at whether the scenario mentions it: `-d session.save_path=/tmp` is as shared as Debian's default.
 */
export function cautionsOf(scenario, { php, sessionCookies, cookieValues = [], files, sidecars = [] } = {}) {
  // `sidecars`: servers one replica started on a fixed address that another used (replica.js sharedServers).
  const cautions = sidecars.map(
    ({ server, owner, user, command, lone }) =>
      server.startsWith('@')
        ? `${lone ? `replica ${owner} alone listens on the abstract Unix socket ${server}${command ? ` (${command})` : ''}, and replica ${user}, running the same code, on none: the name was taken when it tried` : `replica ${user} was connected to a server that replica ${owner} started on the abstract Unix socket ${server}${command ? ` (${command})` : ''}`}: on this machine the replicas share one network namespace, and so that name, where each pod would have its own; give the name something of the replica's own ($HOST, $HOSTNAME) to judge the replicas as separate pods`
        : `replica ${user} was connected to a server that replica ${owner} started on ${server}${command ? ` (${command})` : ''}: on this machine the replicas share it, where each pod would have its own on its own localhost; start it on $HOST, as the app, to judge the replicas as separate pods`,
  );
  // `php`: what the run saw of a PHP process in a replica (see replica.js phpOf); without it, `start` is read.
  // `sessionCookies`: the cookie names the app set, when known; `cookieValues`: their values. No cookie by PHP's
  // session name and no value that names a session file in the save path: no file session. An app names its
  // session cookie in code (session_name()) as often as not, so the file is looked for too.
  if (!sharesFiles(files)) return cautions;
  const runsPhp = php !== undefined || (typeof scenario.start === 'string' && /\bphp\b/.test(scenario.start));
  const path = runsPhp ? phpSavePath(scenario, php) : 'private';
  // Shared here only where the replicas share it: not in a view of their own (but for a folder the kernel would not
  // overlay), and not where the scenario says pods share it too (a volume every pod mounts).
  const sharedHere = path !== 'private' && (!files?.private || files.sharedHere.some((folder) => within(path, folder))) && !(scenario.shared ?? []).some((folder) => within(path, folder));
  if (sharedHere) {
    const usedSessions = sessionCookies === undefined || sessionCookies.has(php?.sessionName ?? 'PHPSESSID') || cookieValues.some((value) => phpSessionFileExists(path, value));
    if (usedSessions) {
      cautions.push(
        `PHP keeps file sessions in session.save_path, here ${path}: every replica on this machine shares that folder, where pods would not; start PHP with -d session.save_path="$TMPDIR" to judge the replicas as separate pods`,
      );
    }
  }
  return cautions;
}

/** One line for the first schema error a person should fix: unknown keys first, by name and place. */
function oneLine(errors) {
  const unknown = errors.find((error) => error.keyword === 'additionalProperties' || error.keyword === 'unevaluatedProperties');
  const where = (error) => (error.instancePath ? error.instancePath.slice(1).replaceAll('/', '.') : 'the scenario');
  if (unknown) {
    const key = unknown.params.additionalProperty ?? unknown.params.unevaluatedProperty;
    return `unknown key "${key}" in ${where(unknown)}`;
  }
  const badName = errors.find((e) => e.keyword === 'propertyNames');
  if (badName) return `${where(badName)}: "${badName.params.propertyName}" is not a name a placeholder can take (letters, digits and _, not first a digit)`;
  const error = errors.find((e) => e.keyword !== 'oneOf' && e.keyword !== 'if') ?? errors[0];
  if (error.keyword === 'required') return `${where(error)} needs "${error.params.missingProperty}"`;
  if (error.keyword === 'dependentRequired') return `"${error.params.property}" needs "${error.params.missingProperty}" beside it`;
  if (error.keyword === 'not') return `${where(error)}: give only one of json, form and body`;
  if (error.keyword === 'enum') return `${where(error)} must be one of ${error.params.allowedValues.join(', ')}`;
  return `${where(error)} ${error.message}`;
}

/**
 * A placeholder in a request: {user}, {step} or {step-N} (groups 1, 2), {cookie:NAME} (group 3), or {NAME}, what a
 * capture took (group 4). Filled by users.js; a {NAME} that no capture names is refused here, before the run.
 */
export const PLACEHOLDER = /\{(?:(user|step)(?:-(\d+))?|cookie:([^{}\s]+)|([A-Za-z_]\w*))\}/g;

/** The scenario's requests with where each is: [where, spec], in the order a user sends them. */
const requestsOf = (scenario) => [
  ...(scenario.setup ?? []).map((spec, i) => [`setup[${i}]`, spec]),
  ...(scenario.login.before ? [['login.before', scenario.login.before]] : []),
  ['login', scenario.login],
  ['check', scenario.check],
  ...(scenario.write ? [['write', scenario.write], ['read', scenario.read]] : []),
  ...(scenario.logout ? [['logout', scenario.logout]] : []),
];

/** Every string of a request that placeholders are filled in (keys too), with where it is; `fields`: which. */
function* requestStrings(where, spec, fields = ['path', 'headers', 'json', 'form', 'body', 'contains']) {
  const walk = function* (value, at) {
    if (typeof value === 'string') yield [at, value];
    else if (Array.isArray(value)) for (const [i, item] of value.entries()) yield* walk(item, `${at}[${i}]`);
    else if (value && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        yield [`${at} (a key)`, key];
        yield* walk(item, `${at}.${key}`);
      }
    }
  };
  for (const field of fields) if (spec[field] !== undefined) yield* walk(spec[field], where ? `${where}.${field}` : field);
}

/** Whether a request sends something taken from an earlier answer or a cookie ({NAME}, {cookie:NAME}): a token. */
export function sendsTaken(spec) {
  for (const [, text] of requestStrings('', spec, ['path', 'headers', 'json', 'form', 'body'])) {
    for (const [, , , cookie, name] of text.matchAll(PLACEHOLDER)) if (cookie !== undefined || name !== undefined) return true;
  }
  return false;
}

/**
 * Captures compiled (each a valid regular expression, no name that is a placeholder of its own), and every {NAME}
 * a request uses named by one: a misspelt {usr} or a capture never declared was sent as it stands, and the login
 * failed with nothing said of why.
 */
function checkPlaceholders(scenario, file) {
  const captured = new Set();
  for (const [where, spec] of requestsOf(scenario)) {
    for (const [name, taken] of Object.entries(spec.capture ?? {})) {
      if (['user', 'step', 'cookie'].includes(name)) throw new CannotJudge(`invalid scenario ${file}: ${where}.capture.${name}: {${name}} is kura-check's own placeholder; give the capture another name`);
      const source = typeof taken === 'string' ? taken : taken.regex;
      const at = typeof taken === 'string' ? `${where}.capture.${name}` : `${where}.capture.${name}.regex`;
      try {
        if (source !== undefined) new RegExp(source);
      } catch (error) {
        throw new CannotJudge(`invalid scenario ${file}: ${at} is not a regular expression: ${error.message}`);
      }
      captured.add(name);
    }
  }
  // The top-level headers first, by their own place (headers.X-CSRF): they go with every request.
  for (const [where, spec] of [['', { headers: scenario.headers }], ...requestsOf(scenario)]) {
    for (const [at, text] of requestStrings(where, spec)) {
      for (const [, , , , name] of text.matchAll(PLACEHOLDER)) {
        if (name !== undefined && !captured.has(name)) {
          const known = captured.size ? `, and what the captures give: ${[...captured].map((n) => `{${n}}`).join(', ')}` : '';
          throw new CannotJudge(`invalid scenario ${file}: ${at} uses {${name}}, which no capture names (the placeholders are {user}, {step}, {step-N}, {cookie:NAME}${known})`);
        }
      }
    }
  }
}

/** Checks a parsed scenario; throws CannotJudge with one line. `file` only names it in messages. */
export function checkScenario(value, file = 'scenario') {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new CannotJudge(`invalid scenario ${file}: not a mapping of keys`);
  const scenario = structuredClone(value);
  if (!validate(scenario)) {
    const startAndImage = scenario.start !== undefined && scenario.image !== undefined;
    const neither = scenario.start === undefined && scenario.image === undefined;
    const line = startAndImage ? 'give "start" or "image", not both' : neither ? 'the scenario needs "start" (or "image")' : oneLine(validate.errors);
    throw new CannotJudge(`invalid scenario ${file}: ${line}`);
  }
  if (scenario.shared && scenario.image) throw new CannotJudge(`invalid scenario ${file}: shared is for start; an image's containers share what their network reaches (see "network"), not this machine's files`);
  // A read that does not name the step it must show passes on any answer that has the rest (a cart, any cart):
  // a write lost with its replica is never seen, and state kept in one process passes for stateless.
  if (scenario.read && !/\{step(-\d+)?\}/.test(scenario.read.contains ?? '')) {
    throw new CannotJudge(`invalid scenario ${file}: read.contains must name the write with {step}, as write sends it (e.g. contains: "{user}-{step}"): without it a lost write is never seen`);
  }
  checkPlaceholders(scenario, file);
  if (scenario.headers) for (const [, spec] of requestsOf(scenario)) spec.headers = withHeaders(scenario.headers, spec.headers);
  return scenario;
}

/**
 * The scenario's top-level `headers` with a request's own `headers` (`own`) over them: one of `own` replaces a
 * top-level header of the same name, in any case (HTTP's names are), rather than sending both.
 */
function withHeaders(common, own = {}) {
  const names = new Set(Object.keys(own).map((name) => name.toLowerCase()));
  return { ...Object.fromEntries(Object.entries(common).filter(([name]) => !names.has(name.toLowerCase()))), ...own };
}

/**
 * `${NAME}` in an `env` value is taken from kura-check's own environment (a secret in CI, the address of a shared
 * store started beforehand); the replicas see nothing else of it.
 */
export function expandEnv(env, file = 'scenario') {
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, expanded(String(value), `env.${key}`, file)]));
}

/** `text` with each `${NAME}` filled from kura-check's own environment; `where` names it in messages. */
function expanded(text, where, file) {
  return text.replace(/\$\{(\w+)\}/g, (_, name) => {
    // Filled now, from kura-check's own environment: a replica's own HOME or PORT would come out as kura-check's,
    // one folder or port every replica shares.
    if (PER_REPLICA.has(name)) {
      throw new CannotJudge(
        `invalid scenario ${file}: ${where} uses \${${name}}, which would be kura-check's own ${name}, not the replica's: use $${name} in start (the replica's), or a path relative to the app`,
      );
    }
    if (process.env[name] === undefined) throw new CannotJudge(`invalid scenario ${file}: ${where} uses \${${name}}, which is not set`);
    return process.env[name];
  });
}

/**
 * `shared` made paths: `${NAME}` filled as in `env`, each absolute, existing, and resolved through links (the
 * mount takes the real place).
 */
async function sharedPaths(shared, file) {
  const paths = [];
  for (const [i, value] of shared.entries()) {
    const path = expanded(value, `shared[${i}]`, file);
    if (!isAbsolute(path)) throw new CannotJudge(`invalid scenario ${file}: shared[${i}] ${path} is not an absolute path`);
    const real = await realpath(path).catch(() => undefined);
    if (!real) throw new CannotJudge(`invalid scenario ${file}: shared[${i}] ${path} does not exist (create it before the run, as the volume would be)`);
    paths.push(real);
  }
  return paths;
}

/**
 * The lines of `text` around line `line` (1-based), quoted, for a YAML error whose message ends with a code frame cut
 * off by the one-line message: the line it names and the one before (where an unclosed `{` usually is).
 */
function whereIn(text, line) {
  if (!line) return '';
  const lines = text.split('\n');
  const quoted = (n) => `line ${n}: ${JSON.stringify((lines[n - 1] ?? '').slice(0, 80))}`;
  return ` (${line > 1 ? `${quoted(line - 1)}, ` : ''}${quoted(line)})`;
}

/** Reads a YAML or JSON scenario file; relative `cwd` is taken from the file's folder. */
export async function loadScenario(file) {
  const path = resolve(file);
  let text;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CannotJudge(`cannot read scenario ${file}: ${error.code ?? error.message}`);
  }
  let value;
  try {
    value = extname(path) === '.json' ? JSON.parse(text) : parse(text);
  } catch (error) {
    throw new CannotJudge(`invalid scenario ${file}: ${error.message.split('\n')[0].replace(/:$/, '')}${whereIn(text, error.linePos?.[0]?.line)}`);
  }
  const scenario = checkScenario(value, file);
  scenario.env = expandEnv(scenario.env ?? {}, file);
  if (scenario.shared) scenario.shared = await sharedPaths(scenario.shared, file);
  if (scenario.network) {
    scenario.network = expanded(scenario.network, 'network', file);
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(scenario.network) || NOT_A_SHARED_NETWORK.has(scenario.network)) {
      throw new CannotJudge(`invalid scenario ${file}: network ${scenario.network} is not the name of a network the containers can share and be published from (podman network create NAME)`);
    }
  }
  // Unnamed: after its file, or after its folder where the file has a generic name (scenario.yaml, kura-check.yml).
  const stem = basename(path).replace(/\.(ya?ml|json)$/, '');
  scenario.name ??= /^(scenario|kura-check|check)$/i.test(stem) ? basename(dirname(path)) : stem;
  scenario.cwd = resolve(dirname(path), scenario.cwd ?? '.');
  if (!(await stat(scenario.cwd).then((s) => s.isDirectory(), () => false))) throw new CannotJudge(`invalid scenario ${file}: cwd ${scenario.cwd} is not a folder`);
  // The app's whole folder shared: no replica would have a copy of its own (a copy per pod is what an image gives).
  const realCwd = await realpath(scenario.cwd);
  const whole = (scenario.shared ?? []).find((path) => realCwd === path || realCwd.startsWith(`${path === '/' ? '' : path}/`));
  if (whole) throw new CannotJudge(`invalid scenario ${file}: shared ${whole} holds the app's folder (cwd ${scenario.cwd}): name the folder inside it that every pod mounts (storage, uploads), not the app itself`);
  return scenario;
}
