import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { abstractSockets, copyApp, freePort, lastOutput, sharesInside, startReplica, waitReady } from './replica.js';
import { CannotJudge } from './scenario.js';

describe('a replica that never becomes ready', () => {
  let dir;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kura-check-replica-spec-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** Starts a replica of an app whose server.js is `code`, and returns how waitReady refused it. */
  async function neverReady(name, code, scenario = {}) {
    const app = join(dir, name);
    await mkdir(app);
    await writeFile(join(app, 'server.js'), code);
    const work = join(dir, `${name}-work`);
    await mkdir(work);
    const host = '127.0.0.1';
    const replica = await startReplica({ scenario: { start: `exec ${process.execPath} server.js`, cwd: app, startTimeout: 0.6, ...scenario }, work, index: 1, generation: 0, host, port: await freePort(host) });
    try {
      await waitReady(replica, { startTimeout: 0.6, ...scenario });
      return undefined;
    } catch (error) {
      expect(error).toBeInstanceOf(CannotJudge);
      return error.message.replace(replica.address, 'ADDRESS');
    } finally {
      await replica.stop('SIGKILL');
    }
  }

  it('quotes what it printed (stderr as stdout), as a crash is quoted', async () => {
    // It said only "never became ready in 30 s (the port did not accept connections)": why was in its output.
    const line = await neverReady('waits-for-db', "console.log('starting');\nconsole.error('waiting for the database');\nsetInterval(() => {}, 1000);\n");
    expect(line).toBe('replica 2 (ADDRESS) never became ready in 0.6 s (its port accepted no connection); its last output: starting | waiting for the database');
  });

  // With `ready`, a port that never accepted a connection was said as "GET /health did not answer 2xx/3xx", and sent
  // the user looking for a bug in the path (an outside review).
  it('says so when it printed nothing, and with `ready` says whether the port accepted connections or the path refused', async () => {
    const line = await neverReady('silent', 'setInterval(() => {}, 1000);\n', { ready: '/health' });
    expect(line).toBe('replica 2 (ADDRESS) never became ready in 0.6 s (its port accepted no connection); it printed nothing');
    const unready = await neverReady('unready', "require('node:http').createServer((_, res) => res.writeHead(503).end()).listen(Number(process.env.PORT), process.env.HOST);\n", { ready: '/health' });
    expect(unready).toBe('replica 2 (ADDRESS) never became ready in 0.6 s (GET /health did not answer 2xx/3xx); it printed nothing');
  });
});

describe("a replica's last output, quoted on one line", () => {
  it('keeps the last 10 lines, trimmed, blank ones left out, each cut to 200 characters', () => {
    const logs = ['  one  ', '', ...Array.from({ length: 11 }, (_, i) => `line ${i + 2}`), 'x'.repeat(300)];
    expect(lastOutput(logs)).toBe(`; its last output: ${[...Array.from({ length: 9 }, (_, i) => `line ${i + 4}`), `${'x'.repeat(199)}…`].join(' | ')}`);
    expect(lastOutput(['   ', ''])).toBe('; it printed nothing');
  });
});

describe("a replica's copy of the app", () => {
  let dir;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kura-check-copy-spec-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("links a folder of the app the scenario names in shared (a volume every pod mounts) to the original, and copies the rest", async () => {
    // Each replica wrote to its own copy of ./storage, while the report said "shared, as the scenario says" (review2).
    const app = join(dir, 'app');
    await mkdir(join(app, 'storage/sessions'), { recursive: true });
    await mkdir(join(app, 'config'));
    await writeFile(join(app, 'config/app.txt'), 'copied');
    const scenario = { cwd: app, shared: [await realpath(join(app, 'storage'))] };
    for (const replica of ['one', 'two']) await copyApp(app, join(dir, replica), undefined, app, await sharesInside(scenario));
    await writeFile(join(dir, 'one/storage/sessions/abc'), 'a session');
    expect(await readFile(join(dir, 'two/storage/sessions/abc'), 'utf8')).toBe('a session');
    expect(await readFile(join(app, 'storage/sessions/abc'), 'utf8')).toBe('a session');
    await writeFile(join(dir, 'one/config/app.txt'), 'changed');
    expect(await readFile(join(dir, 'two/config/app.txt'), 'utf8')).toBe('copied');
    expect(await sharesInside({ cwd: app, shared: ['/srv'] })).toEqual(new Map());
  });
});

describe('Unix sockets on abstract names, as ss lists them', () => {
  it('are the listening ones by inode, and the accepted ends with their peers; named ones and unnamed ends are left out', async () => {
    const listed = [
      'u_str LISTEN 0      64     @kura sessions 250783 * 0',
      'u_str ESTAB  0      0      @kura sessions 250785 * 250784',
      'u_str ESTAB  0      0                 * 250784 * 250785',
      'u_str LISTEN 0      4096   /run/dbus/system_bus_socket 1234 * 0',
      'u_str ESTAB  0      0      /run/dbus/system_bus_socket 1240 * 1239',
      '',
    ].join('\n');
    const { listening, accepted } = await abstractSockets(async (file, args) => (expect([file, args]).toEqual(['ss', ['-xanH']]), listed));
    expect([...listening]).toEqual([['250783', '@kura sessions']]);
    expect([...accepted]).toEqual([['250785', { name: '@kura sessions', peer: '250784' }]]);
    expect(await abstractSockets(async () => '')).toEqual({ listening: new Map(), accepted: new Map() }); // no ss
  });
});

describe('a container the engine could not start', () => {
  /** How waitReady refuses a container replica whose `podman run` exited with `code` before the app was ready. */
  const refused = (code) => {
    const replica = { index: 1, host: '127.0.0.1', port: 1, address: '127.0.0.1:1', engine: 'podman', container: 'kura-check-1-2-0', logs: ['Error: runc: runc create failed: unable to start container process: error setting rlimit type 7: operation not permitted'], exited: Promise.resolve({ code, signal: null }), misplaced: async () => undefined };
    return waitReady(replica, { startTimeout: 5 }).then(() => undefined, (error) => error.message);
  };

  it("says the engine failed (125-127), not that the app exited (an outside review: runc's refusal read as the app's exit 126)", async () => {
    expect(await refused(126)).toBe('replica 2 (127.0.0.1:1): podman could not run the container (exit 126: the container runtime refused to start it, or its command cannot be run), before the app ran: Error: runc: runc create failed: unable to start container process: error setting rlimit type 7: operation not permitted');
    expect(await refused(1)).toMatch(/^replica 2 \(127\.0\.0\.1:1\) exited \(code 1\) before it was ready/);
  });
});
