import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { stopProcess } from './support/dynamodb-local.js';
import { testClients, testEndpoint } from './support/engine.js';
import { freePort } from './support/free-port.js';
import { HttpClient, uniqueEmail } from './support/http-client.js';
import { type KuraProcess, startKuraProcess } from './support/kura-process.js';

/**
 * The README's operator commands on the default setup, as a newcomer runs them: `npm start` (the embedded
 * engine, data under KURA_DATA_DIR) in one terminal, `npm run sessions -- revoke-user <email>` in another, with
 * the same (empty) environment. Real processes: the built `main.js`, `admin.js` and `db-serve.js`.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dist = (script: string) => join(ROOT, 'dist/apps/api/src', script);
const PASSWORD = 'correct horse battery';

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: Record<string, string>, cwd = ROOT): Promise<Finished> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

/** `node dist/apps/api/src/admin.js …`, what `npm run sessions -- …` runs once built. */
const sessions = (args: string[], env: Record<string, string>) => run(process.execPath, [dist('admin.js'), ...args], env);

let dataDir: string;
const running: (KuraProcess | { stop(): Promise<void> })[] = [];
const started = <T extends { stop(): Promise<void> }>(child: T) => (running.push(child), child);

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'kura-operator-'));
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((each) => each.stop()));
  await rm(dataDir, { recursive: true, force: true });
});

const defaults = () => ({ KURA_DATA_DIR: dataDir });
const startKura = async (extra: Record<string, string> = {}) =>
  started(await startKuraProcess({ ...defaults(), KURA_PASSWORD_HASH_COST: '12', ...extra }));

async function loggedInUser(baseUrl: string) {
  const email = uniqueEmail('operator');
  const browser = new HttpClient(baseUrl);
  await browser.signUpAndLogIn(email, PASSWORD);
  expect((await browser.get('/auth/me')).status).toBe(200);
  return { email, browser };
}

/** `npm run db:serve` on a port of its own, resolved once it says it is ready. */
async function startDbServe(env: Record<string, string>): Promise<{ child: ChildProcess; output: () => string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [dist('db-serve.js')], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => output.includes('ready at') && resolve());
    child.once('exit', (code) => reject(new Error(`db:serve exited with ${code}:\n${output}`)));
  });
  return { child, output: () => output, stop: () => stopProcess(child) };
}

describe('npm run sessions -- revoke-user, on the default setup (the embedded engine)', () => {
  it('ends the session on a running `npm start` at once, through the engine that Kura owns', async () => {
    const kura = await startKura();
    const { email, browser } = await loggedInUser(kura.baseUrl);

    const result = await sessions(['revoke-user', email], defaults());

    expect(result).toEqual({ code: 0, stdout: `ended 1 session(s) of ${email}\n`, stderr: '' });
    expect((await browser.get('/auth/me')).status).toBe(401);
  });

  it('lists a user\'s sessions (device, address, times) and ends the one named, on the running Kura at once', async () => {
    const kura = await startKura();
    const email = uniqueEmail('operator');
    const laptop = new HttpClient(kura.baseUrl);
    await laptop.signUpAndLogIn(email, PASSWORD);
    const phone = new HttpClient(kura.baseUrl);
    const phoneLogin = await phone.post('/auth/login', { email, password: PASSWORD }, { headers: { 'user-agent': 'Phone/1.0' } });
    const phoneSession = phoneLogin.body.session.id as string;

    const listed = await sessions(['list-user', email], defaults());
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`2 live session(s) of ${email}`);
    // Newest first: the phone's, then the laptop's; each with its id, times, address and user agent.
    expect(lines[1]).toMatch(new RegExp(`^${phoneSession}  created \\S+Z  last seen \\S+Z  ends \\S+Z \\(at the latest \\S+Z\\)  from 127\\.0\\.0\\.1  "Phone/1\\.0"$`));
    expect(lines).toHaveLength(3);

    const revoked = await sessions(['revoke-session', email, phoneSession], defaults());

    expect(revoked).toEqual({ code: 0, stdout: `ended session ${phoneSession} of ${email}\n`, stderr: '' });
    expect((await phone.get('/auth/me')).status).toBe(401);
    expect((await laptop.get('/auth/me')).status).toBe(200);
    expect((await sessions(['list-user', email], defaults())).stdout).toMatch(/^1 live session\(s\) of /);
    // Run again, it says so (it said "ended" again before an outside review), and succeeds: the session is ended.
    expect(await sessions(['revoke-session', email, phoneSession], defaults())).toEqual({ code: 0, stdout: `session ${phoneSession} of ${email} had ended already\n`, stderr: '' });
    const unknown = 'A'.repeat(43);
    expect(await sessions(['revoke-session', email, unknown], defaults())).toEqual({
      code: 1,
      stdout: '',
      stderr: `${email} has no session ${unknown} (npm run sessions -- list-user ${email} lists them)\n`,
    });
  });

  it('deletes an account: its sessions end on the running Kura at once, its password is refused, its email is free', async () => {
    const kura = await startKura();
    const { email, browser } = await loggedInUser(kura.baseUrl);

    const deleted = await sessions(['delete-account', email], defaults());

    expect(deleted).toEqual({ code: 0, stdout: `deleted the account of ${email}: ended 1 session(s)\n`, stderr: '' });
    expect((await browser.get('/auth/me')).status).toBe(401);
    expect((await new HttpClient(kura.baseUrl).post('/auth/login', { email, password: PASSWORD })).status).toBe(401);
    expect(await sessions(['delete-account', email], defaults())).toEqual({ code: 1, stdout: '', stderr: `no account for ${email}\n` });
    expect((await new HttpClient(kura.baseUrl).post('/auth/register', { email, password: PASSWORD })).status).toBe(201);
  });

  it('finds the running engine through the endpoint file in the data folder, removed when Kura stops', async () => {
    const kura = await startKura();
    const endpoint = (await readFile(join(dataDir, 'endpoint'), 'utf8')).trim();
    expect(kura.output()).toContain(`embedded DynamoDB (dynalite) at ${endpoint}`);

    await kura.stop();

    await expect(readFile(join(dataDir, 'endpoint'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('stops cleanly, endpoint file removed, when signalled while still starting (a SIGTERM before it listens)', async () => {
    // The engine is up (its file written) and Nest is still starting: before signals were taken from the start,
    // SIGTERM's default action ended the process here and left the file naming an engine that was gone. Now
    // the signal is kept and the server stops the usual way once it is up.
    const child = spawn(process.execPath, [join(ROOT, '.build/server/main.mjs')], {
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', KURA_LOG_LEVEL: 'log', ...defaults() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.push({ stop: () => stopProcess(child) });
    let output = '';
    child.stderr.on('data', (chunk) => (output += chunk));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk) => {
        output += chunk;
        if (output.includes('embedded DynamoDB (dynalite) at')) resolve();
      });
      child.once('exit', () => reject(new Error(`Kura exited before its engine was up:\n${output}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');

    expect(await exited).toBe(0);
    expect(output).toContain('SIGTERM while starting');
    expect(output).toContain('closed');
    await expect(readFile(join(dataDir, 'endpoint'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('ends the session when the engine runs apart (`npm run db:serve`, as under `npm run replicas`)', async () => {
    const engine = started(await startDbServe({ ...defaults(), KURA_DB_PORT: String(await freePort()) }));
    const endpoint = /ready at (http:\/\/[\d.:]+)/.exec(engine.output())![1]!;
    const kura = await startKura({ DYNAMODB_ENDPOINT: endpoint });
    const { email, browser } = await loggedInUser(kura.baseUrl);

    const result = await sessions(['revoke-user', email], defaults());

    expect(result).toEqual({ code: 0, stdout: `ended 1 session(s) of ${email}\n`, stderr: '' });
    expect((await browser.get('/auth/me')).status).toBe(401);
  });

  it('says in one line that nothing is running, and what to do, when Kura is stopped', async () => {
    const kura = await startKura();
    const { email } = await loggedInUser(kura.baseUrl);
    await kura.stop();

    const result = await sessions(['revoke-user', email], defaults());

    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `nothing is serving ${dataDir} (KURA_DATA_DIR): start Kura (npm start) or its engine alone (npm run db:serve) and run this again, or set DYNAMODB_ENDPOINT\n`,
    );
  });

  it('tells the stale endpoint file of a killed Kura from a running engine, and the next `npm start` takes over', async () => {
    const killed = await startKura();
    const { email, browser } = await loggedInUser(killed.baseUrl);
    await killed.stop('SIGKILL');
    expect(await readFile(join(dataDir, 'endpoint'), 'utf8')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\n$/);

    expect(await sessions(['revoke-user', email], defaults())).toMatchObject({ code: 1, stderr: expect.stringMatching(/^nothing is serving .*\n$/) });

    const restarted = await startKura();
    const cookie = await browser.jar.getCookieString(killed.baseUrl);
    expect(await sessions(['revoke-user', email], defaults())).toEqual({ code: 0, stdout: `ended 1 session(s) of ${email}\n`, stderr: '' });
    expect((await new HttpClient(restarted.baseUrl).get('/auth/me', { headers: { cookie }, cookies: false })).status).toBe(401);
  });
});

describe('npm run sessions, called wrongly', () => {
  it.each([
    ['no arguments', []],
    ['a wrong command', ['revoke-everything']],
    ['revoke-user without an email', ['revoke-user']],
    ['revoke-all with an argument', ['revoke-all', 'ada@example.com']],
    ['list-user without an email', ['list-user']],
    ['delete-account without an email', ['delete-account']],
    ['revoke-session without an id', ['revoke-session', 'ada@example.com']],
    ['revoke-session with one argument too many', ['revoke-session', 'ada@example.com', 'x', 'y']],
  ])('prints its usage for %s (exit 2), before anything about stores', async (_case, args) => {
    // Nothing runs on this data folder, and the configuration is bad: neither is mentioned.
    const result = await sessions(args, { ...defaults(), KURA_STORE: 'nowhere' });

    expect(result).toEqual({ code: 2, stdout: '', stderr: 'usage: npm run sessions -- <command> (in the container image: node server/admin.mjs <command>); <command>: list-user <email> | revoke-session <email> <id> | revoke-user <email> | revoke-all | delete-account <email>\n' });
  });
});

describe('npm run sessions, on a fresh clone', () => {
  let clone: string;
  afterAll(() => rm(clone, { recursive: true, force: true }));

  it('builds first, as npm start does (no dist/ yet)', async () => {
    clone = await mkdtemp(join(tmpdir(), 'kura-clone-'));
    for (const path of ['package.json', '.swcrc', 'apps', 'libs', 'types']) await cp(join(ROOT, path), join(clone, path), { recursive: true });
    await symlink(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
    await mkdir(join(clone, '.data'));

    const result = await run('npm', ['run', '--silent', 'sessions'], {}, clone);

    expect(result.stderr).not.toMatch(/MODULE_NOT_FOUND|Cannot find module/);
    expect(result.stderr).toContain('usage: npm run sessions -- <command> (in the container image: node server/admin.mjs <command>); <command>: list-user <email> | revoke-session <email> <id> | revoke-user <email> | revoke-all | delete-account <email>\n');
    expect(result.code).toBe(2);
  }, 120_000);
});

describe('two processes on one data folder', () => {
  it('refuses the second `npm start` in one line: what is happening and what to do', async () => {
    const first = await startKura();
    const endpoint = (await readFile(join(dataDir, 'endpoint'), 'utf8')).trim();

    const second = (await startKuraProcess({ ...defaults(), PORT: '0' }).catch((error: Error) => error)) as Error;

    expect(second).toBeInstanceOf(Error);
    const lines = second.message.split('\n').slice(1).filter(Boolean);
    expect(lines).toEqual([
      `${dataDir} (KURA_DATA_DIR) is in use by another Kura, npm run replicas or npm run db:serve (its engine answers at ${endpoint}): stop it, share its engine with DYNAMODB_ENDPOINT=${endpoint}, or set another KURA_DATA_DIR`,
    ]);
    expect((await fetch(`${first.baseUrl}/health/ready`)).status).toBe(200); // the first one is unharmed
  });

  it('refuses `npm run db:serve` on the folder a running Kura owns, in the same words', async () => {
    await startKura();

    const result = await run(process.execPath, [dist('db-serve.js')], { ...defaults(), KURA_DB_PORT: String(await freePort()) });

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^\S+ \(KURA_DATA_DIR\) is in use by another Kura, npm run replicas or npm run db:serve .*\n$/);
  });
});

describe('npm run db:serve on a busy KURA_DB_PORT', () => {
  let busy: Server;
  afterEach(() => new Promise<void>((resolve) => busy.close(() => resolve())));

  it('names KURA_DB_PORT in one line, and exits 1', async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', () => resolve()));
    const { port } = busy.address() as { port: number };

    const result = await run(process.execPath, [dist('db-serve.js')], { ...defaults(), KURA_DB_PORT: String(port) });

    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `port ${port} (KURA_DB_PORT) is in use by another process: stop it, or set KURA_DB_PORT to a free port\n`,
    });
  });

  it('stops `npm start` on a busy PORT with one line naming PORT, and no second ERROR line from Nest', async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', () => resolve()));
    const { port } = busy.address() as { port: number };

    const result = await run(process.execPath, [dist('main.js')], { ...defaults(), HOST: '127.0.0.1', PORT: String(port), NO_COLOR: '1' });

    expect(result.code).toBe(1);
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/ERROR|EADDRINUSE/);
    expect(result.stderr).toBe(`port ${port} (PORT) is in use by another process: stop it, or set PORT to a free port\n`);
  });

  // Any listen error but a port in use printed Nest's ERROR line and a stack of some 45 lines; with the metrics
  // listener's, after the API had listened (an outside review, 2026-12-07). 192.0.2.1 is a documentation address,
  // on no machine: binding it fails here, and nothing is sent anywhere.
  it.each([
    ['HOST', { HOST: '192.0.2.1', PORT: '0' }],
    ['KURA_METRICS_HOST', { HOST: '127.0.0.1', PORT: '0', KURA_METRICS_HOST: '192.0.2.1', KURA_METRICS_PORT: '0' }],
  ])('stops `npm start` with one line naming %s when it is not an address of this machine, before anything listens', async (variable, settings) => {
    const result = await run(process.execPath, [dist('main.js')], { ...defaults(), ...settings, NO_COLOR: '1' });

    expect(result.code).toBe(1);
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/ERROR|EADDRNOTAVAIL|listening on|    at /);
    expect(result.stderr).toBe(`192.0.2.1 (${variable}) is not an address of this machine: set ${variable} to one of its addresses, or 0.0.0.0 for all of them\n`);
  });

  // A link-local IPv6 address passes the settings' check, and listening on it without its interface fails EINVAL:
  // Nest's ERROR line and a stack (a review, 2026-12-07).
  it.each([
    ['a link-local IPv6 address without its interface', 'fe80::1', ': a link-local IPv6 address needs its interface (fe80::1%eth0)'],
    ['a multicast address (no link-local hint: a review)', 'ff02::1', ''],
  ])('stops `npm start` with one line when HOST is %s', async (_case, host, hint) => {
    const result = await run(process.execPath, [dist('main.js')], { ...defaults(), HOST: host, PORT: '0', NO_COLOR: '1' });

    expect(result.code).toBe(1);
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/ERROR|listening on|    at /);
    expect(result.stderr).toBe(`${host} (HOST) cannot be listened on (EINVAL)${hint}; set HOST to an address of this machine, or :: for all of them\n`);
  });

  it('stops `npm start` in one line when KURA_CREATE_TABLES cannot reach DYNAMODB_ENDPOINT, not a stack', async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', () => resolve()));
    const { port } = busy.address() as { port: number };
    await new Promise<void>((resolve) => busy.close(() => resolve())); // a port nothing listens on
    busy = createServer().listen(0, '127.0.0.1'); // for afterEach

    const env = { ...defaults(), KURA_STORE: 'dynamodb', DYNAMODB_ENDPOINT: `http://127.0.0.1:${port}`, KURA_CREATE_TABLES: 'true', PORT: '0' };
    const result = await run(process.execPath, [dist('main.js')], env);

    expect(result.code).toBe(1);
    expect(result.stderr).toBe('could not create the tables (KURA_CREATE_TABLES): the store could not answer: connection refused: nothing listens at the DynamoDB endpoint\n');
  });

  it('stops `npm start` in one line when KURA_CREATE_TABLES finds a table that is not the one Kura needs, changing nothing', async () => {
    const sessions = `start${Date.now().toString(36)}-sessions`;
    const { client } = testClients();
    await client.send(new CreateTableCommand({ TableName: sessions, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] }));
    client.destroy();

    const env = { ...defaults(), KURA_STORE: 'dynamodb', DYNAMODB_ENDPOINT: testEndpoint(), KURA_SESSIONS_TABLE: sessions, KURA_CREATE_TABLES: 'true', PORT: '0' };
    const result = await run(process.execPath, [dist('main.js')], env);

    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `could not create the tables (KURA_CREATE_TABLES): table ${sessions} is not as Kura needs it (nothing was changed): its key is pk (string, partition key), Kura's items have id (string, partition key); ` +
        "it has no index byUser (userId (string, partition key), createdAt (number, sort key), every attribute projected), which lists a user's sessions\n",
    );
  });

  it('stops `npm run offline` with that line, not a stack', async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', () => resolve()));
    const { port } = busy.address() as { port: number };

    const result = await run(process.execPath, [join(ROOT, 'scripts/offline.mjs')], { ...defaults(), KURA_DB_PORT: String(port) });

    expect(result.code).toBe(1);
    expect(`${result.stdout}${result.stderr}`).toBe(`port ${port} (KURA_DB_PORT) is in use by another process: stop it, or set KURA_DB_PORT to a free port\n`);
  });
});

describe('npm start with a Redis TLS file it cannot use', () => {
  // Read inside Nest's module factory, a missing file stopped the process with Nest's ERROR line and a stack; an
  // empty CA file meant Node's own list of authorities, found out only as a failing handshake.
  it.each([
    ['a file that does not exist', 'missing.pem', undefined, 'cannot be read (ENOENT)'],
    ['an empty file', 'empty.pem', '', 'holds no PEM text (-----BEGIN …)'],
  ])('stops in one line naming KURA_REDIS_TLS_CA_FILE, for %s, before anything starts', async (_case, name, content, problem) => {
    const file = join(dataDir, name);
    if (content !== undefined) await writeFile(file, content);
    const env = { ...defaults(), REDIS_URL: 'rediss://127.0.0.1:1', KURA_REDIS_TLS_CA_FILE: file, PORT: '0', NO_COLOR: '1' };

    const result = await run(process.execPath, [dist('main.js')], env);

    expect(result.code).toBe(1);
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/ERROR|\n\s+at /);
    expect(result.stderr).toBe(`KURA_REDIS_TLS_CA_FILE=${file} ${problem}: give the path of a PEM file this process may read\n`);
  });
});

describe('KURA_DATA_DIR where no folder can be made', () => {
  // mkdir's EEXIST and its stack were printed, not the one line that names the variable.
  it.each([
    ['npm start', 'main.js'],
    ['npm run db:serve', 'db-serve.js'],
  ])('stops %s in one line naming KURA_DATA_DIR when a file is at its path', async (_command, script) => {
    const file = join(dataDir, 'not-a-folder');
    await writeFile(file, '');

    const result = await run(process.execPath, [dist(script)], { KURA_DATA_DIR: file, PORT: '0', KURA_DB_PORT: '0', NO_COLOR: '1' });

    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `${file} (KURA_DATA_DIR) cannot be the embedded engine's data folder (EEXIST): give the path of a folder this process may write, or set DYNAMODB_ENDPOINT\n`,
    );
  });
});
