import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stopProcess } from './support/dynamodb-local.js';
import { freePort } from './support/free-port.js';
import { HttpClient, uniqueEmail } from './support/http-client.js';
import { startKuraProcess } from './support/kura-process.js';

/**
 * The newcomer's five minutes: log in on `npm start`, stop it, run `npm run replicas` — three replicas behind
 * nginx on the same address — and still be logged in, whichever replica answers; then end that session with
 * `npm run sessions -- revoke-user`, as the README says, and be logged out on every replica.
 */
function nginxAvailable(): boolean {
  try {
    execFileSync('nginx', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI) throw new Error('nginx is missing: .ci/run installs it (apt-get install nginx-light)');
    console.warn('SKIPPING the replicas journey: nginx is not installed (apt-get install nginx-light)');
    return false;
  }
}

const SCRIPT = fileURLToPath(new URL('../scripts/replicas.mjs', import.meta.url));
const ADMIN = fileURLToPath(new URL('../dist/apps/api/src/admin.js', import.meta.url));
const run = promisify(execFile);
const describeWithNginx = nginxAvailable() ? describe : describe.skip;

describeWithNginx('npm start, then npm run replicas', () => {
  let dataDir: string;
  let replicas: ChildProcess | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kura-journey-'));
  });
  afterAll(async () => {
    if (replicas) await stopProcess(replicas);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps the user logged in on every replica, and stops everything it started', async () => {
    const env = { KURA_DATA_DIR: dataDir, KURA_PASSWORD_HASH_COST: '12' };
    const single = await startKuraProcess(env);
    const browser = new HttpClient(single.baseUrl);
    const email = uniqueEmail();
    const login = await browser.signUpAndLogIn(email);
    const cookie = await browser.jar.getCookieString(single.baseUrl);
    await single.stop('SIGINT');

    const port = await freePort();
    replicas = spawn(process.execPath, [SCRIPT, '--port', String(port)], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    replicas.stderr!.on('data', (chunk) => (output += chunk));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`replicas did not start:\n${output}`)), 60_000);
      replicas!.stdout!.on('data', (chunk) => {
        output += chunk;
        if (output.includes('behind nginx')) (clearTimeout(timer), resolve());
      });
      replicas!.once('exit', (code) => reject(new Error(`replicas exited with ${code}:\n${output}`)));
    });

    const upstreams = new Set<string>();
    for (let i = 0; i < 6; i += 1) {
      const me = await new HttpClient(`http://127.0.0.1:${port}`).get('/auth/me', { headers: { cookie }, cookies: false });
      expect(me.status).toBe(200);
      expect(me.body.session.id).toBe(login.session.id);
      upstreams.add(me.headers.get('x-kura-upstream') ?? '');
    }
    expect(upstreams.size).toBe(3);

    // The README's operator command, with the same environment, reaches the engine `npm run replicas` owns.
    const revoked = await run(process.execPath, [ADMIN, 'revoke-user', email], { env: { PATH: process.env.PATH ?? '', ...env } });
    expect(revoked.stdout).toBe(`ended 1 session(s) of ${email}\n`);
    for (let i = 0; i < 3; i += 1) {
      expect((await new HttpClient(`http://127.0.0.1:${port}`).get('/auth/me', { headers: { cookie }, cookies: false })).status).toBe(401);
    }

    await stopProcess(replicas);
    replicas = undefined;
    await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.11:${port}/health/live`)).rejects.toThrow();
  }, 120_000);
});
