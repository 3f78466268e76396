import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseAllDocuments } from 'yaml';
import { freePort } from './support/free-port.js';
import { freshTables, LOCAL_CREDENTIALS, testEndpoint } from './support/engine.js';
import { HttpClient, uniqueEmail } from './support/http-client.js';
import { redisCli } from './support/redis-cluster.js';
import { redisServerMissing, startRedisServer } from './support/redis-server.js';
import { runtimeModules } from '../scripts/runtime-modules.mjs';

/**
 * The production image, built from the project's Dockerfile with podman on a base made here (debootstrap, never
 * a pull), and run the way the Deployment runs it: read-only root filesystem, a non-root user, every capability
 * dropped, no privilege escalation, /tmp the only writable path, the ConfigMap's environment. Skipped, loudly,
 * where podman or debootstrap is not installed (`.ci/run` installs both).
 */
const run = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;
const CONTAINERS_CONF = `${ROOT}infra/podman/containers.conf`;
const env = { ...process.env, CONTAINERS_CONF: process.env.CONTAINERS_CONF ?? CONTAINERS_CONF };
const podman = (...args: string[]) => run('podman', args, { env, cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
const IMAGE = 'localhost/kura:e2e';

function missingTools(): string[] {
  return ['podman', 'debootstrap'].filter((tool) => {
    try {
      execFileSync(tool, ['--version'], { stdio: 'ignore', env });
      return false;
    } catch (error) {
      // debootstrap has no --version; it exists if it could be started at all.
      return (error as NodeJS.ErrnoException).code === 'ENOENT';
    }
  });
}

const missing = missingTools();
if (missing.length > 0) {
  console.warn(`SKIPPING the container image test: ${missing.join(' and ')} not installed (apt-get install podman debootstrap runc)`);
}

const deployment = (overlay = 'local') => {
  const rendered = execFileSync('kubectl', ['kustomize', `infra/k8s/overlays/${overlay}`], { cwd: ROOT, encoding: 'utf8' });
  const objects = parseAllDocuments(rendered).map((doc) => doc.toJS());
  return {
    configMap: objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name.startsWith('kura'))!.data as Record<string, string>,
    container: objects.find((object) => object.kind === 'Deployment' && object.spec.template.spec.containers[0].name === 'api')!
      .spec.template.spec.containers[0],
  };
};

(missing.length > 0 ? describe.skip : describe)('the production image (Dockerfile, podman)', () => {
  let base: string;
  let containers = 0;

  beforeAll(async () => {
    const { stdout } = await run(process.execPath, ['scripts/container-base.mjs'], { cwd: ROOT, env, maxBuffer: 16 * 1024 * 1024 });
    base = /base image: (\S+)/.exec(stdout)![1]!;
    // --network=none: the build reaches nothing; npm installs from this machine's cache (mounted as an overlay,
    // so the build cannot change it). --pull=never: the base must be the local one.
    await podman('build', '--pull=never', '--network=none', '--volume', `${process.env.HOME ?? '/root'}/.npm:/root/.npm:O`,
      '--build-arg', `BASE_IMAGE=${base}`, '--tag', IMAGE, '.');
  }, 600_000);

  afterAll(async () => {
    for (let i = 1; i <= containers; i += 1) await podman('rm', '--force', '--time', '0', `kura-e2e-${process.pid}-${i}`).catch(() => undefined);
  });

  it('runs as a non-root user, with the Deployment’s command', async () => {
    const { stdout } = await podman('image', 'inspect', IMAGE, '--format', '{{json .Config}}');
    const config = JSON.parse(stdout);
    expect(config.User).toBe('10001:10001');
    const { container } = deployment();
    expect(config.Cmd).toEqual(container.command);
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
  });

  it('holds the bundled service, its operator commands and what they load at run time only: no sources, tests, dev tools, Node download or unused dependencies', async () => {
    // Every package folder under node_modules, nested ones as npm installed them (`a/node_modules/b`).
    const listing = `const fs = require('node:fs');
      const packages = (dir, prefix) => fs.readdirSync(dir).flatMap((name) => {
        if (name.startsWith('.')) return [];
        if (name.startsWith('@')) return packages(dir + '/' + name, prefix + name + '/');
        const nested = dir + '/' + name + '/node_modules';
        return [prefix + name, ...(fs.existsSync(nested) ? packages(nested, prefix + name + '/node_modules/') : [])];
      });
      console.log(JSON.stringify({
        app: fs.readdirSync('/app').sort(),
        modules: packages('/app/node_modules', '').sort(),
        server: fs.readdirSync('/app/server').sort(),
        scripts: JSON.parse(fs.readFileSync('/app/package.json', 'utf8')).scripts ?? null,
      }))`;
    const { stdout } = await podman('run', '--rm', '--pull=never', '--network=none', IMAGE, 'node', '-e', listing);
    const { app, modules, server, scripts } = JSON.parse(stdout) as { app: string[]; modules: string[]; server: string[]; scripts: unknown };
    expect(app).toEqual(['node_modules', 'package.json', 'server']);
    expect(scripts).toBeNull(); // the image's own package.json: the repository's scripts need what the image has not
    expect(server).toEqual(['admin-chunks', 'admin.mjs', 'chunks', 'main.mjs']);
    // The packages the bundle loads (serverRuntimePackages) and their dependencies, by name as scripts/runtime-modules.mjs
    // finds them in this checkout's install (where npm may have placed them otherwise, among the dev dependencies):
    // nothing of Nest, the AWS SDK, node-redis or TypeScript (bundled, or never loaded), no dev tool.
    const names = (folders: string[]) => [...new Set(folders.map((folder) => folder.split('/node_modules/').pop()!.replace(/^node_modules\//, '')))].sort();
    expect(names(modules)).toEqual(names(runtimeModules(ROOT.replace(/\/$/, ''))));
    expect(modules).toEqual(expect.arrayContaining(['swagger-ui-dist', 'dynalite', 'classic-level']));
    for (const unused of ['@nestjs/core', '@aws-sdk/client-dynamodb', 'fastify', 'redis', 'typescript', 'jest', 'esbuild', 'node']) expect(modules).not.toContain(unused);
  });

  it('carries none of Kura’s TypeScript sources, not even inside source maps', async () => {
    // A declaration only TypeScript has (app-config.ts's): compiled code has none, a map's sourcesContent all of it.
    const search = `const fs = require('node:fs');
      const files = ['/app/server'].flatMap((dir) => fs.readdirSync(dir, { recursive: true }).map((file) => dir + '/' + file));
      console.log(JSON.stringify(files.filter((file) => fs.statSync(file).isFile() && fs.readFileSync(file, 'utf8').includes('export interface AppConfig'))))`;
    const { stdout } = await podman('run', '--rm', '--pull=never', '--network=none', IMAGE, 'node', '-e', search);
    expect(JSON.parse(stdout)).toEqual([]);
  });

  /** Runs the image as the Deployment does (read-only, non-root, no capabilities), waits until it is ready. */
  async function runImage(settings: Record<string, string>, host: string, port: number): Promise<{ http: HttpClient; name: string }> {
    const name = `kura-e2e-${process.pid}-${(containers += 1)}`;
    await podman('run', '--detach', '--pull=never', '--name', name, '--network=host',
      '--read-only', '--tmpfs', '/tmp:size=64m', '--cap-drop=all', '--security-opt', 'no-new-privileges',
      ...Object.entries(settings).flatMap(([key, value]) => ['--env', `${key}=${value}`]), IMAGE);
    const http = new HttpClient(`http://${host}:${port}`);
    let ready = 0;
    for (let attempt = 0; attempt < 100 && ready !== 200; attempt += 1) {
      ready = await http.get('/health/ready').then((response) => response.status, () => 0);
      if (ready !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(ready).toBe(200);
    return { http, name };
  }

  it('serves /health/ready read-only, non-root, with no capabilities, and stops cleanly on SIGTERM', async () => {
    const tables = await freshTables();
    const port = await freePort('127.0.0.21');
    const { configMap } = deployment();
    const settings = {
      ...configMap,
      // On loopback here rather than a pod IP; the engine is this run's DynamoDB Local.
      HOST: '127.0.0.21',
      PORT: String(port),
      DYNAMODB_ENDPOINT: testEndpoint(),
      KURA_SESSIONS_TABLE: tables.sessions,
      KURA_USERS_TABLE: tables.users,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      KURA_PASSWORD_HASH_COST: '12',
      KURA_COOKIE_SECURE: 'false',
      KURA_SHUTDOWN_DRAIN_SECONDS: '1',
    };
    const { http, name } = await runImage(settings, '127.0.0.21', port);

    const { stdout: identity } = await podman('exec', name, 'sh', '-c', 'id -u; grep CapEff /proc/1/status; touch /app/x 2>&1 || true');
    expect(identity).toMatch(/^10001\n/);
    expect(identity).toMatch(/CapEff:\s+0+\n/);
    expect(identity).toMatch(/Read-only file system/);

    // The service works, not only its health route: a session made through the container.
    const email = uniqueEmail('image');
    await http.signUpAndLogIn(email);
    expect((await http.get('/auth/me')).status).toBe(200);
    // The explorer's page and its files (swagger-ui-dist, one of the few packages the image keeps).
    expect((await http.get('/docs/')).status).toBe(200);
    expect((await http.get('/docs/swagger-ui-bundle.js')).status).toBe(200);
    // The operator commands, as docs/operations.md runs them in a pod: that session, listed.
    const { stdout: listed } = await podman('exec', name, 'node', 'server/admin.mjs', 'list-user', email);
    expect(listed).toMatch(new RegExp(`^1 live session\\(s\\) of ${email.toLowerCase()}\\n`));

    await podman('stop', '--time', '30', name);
    const { stdout: state } = await podman('inspect', name, '--format', '{{.State.ExitCode}}');
    expect(state.trim()).toBe('0');
    const { stdout: logs } = await podman('logs', name);
    // JSON logs (the ConfigMap's KURA_LOG_FORMAT), and the drain-then-close sequence of a graceful stop.
    expect(logs).toMatch(/SIGTERM: not ready; draining for 1s, then closing/);
    expect(logs).toMatch(/"message":"closed"/);
  }, 120_000);
  // The redis overlay runs this same image with KURA_STORE=redis: node-redis must be in it (a runtime dependency,
  // not a dev one), or the overlay's pods never become ready.
  (redisServerMissing() ? it.skip : it)('runs on Redis with the redis overlay’s settings: sessions and accounts in Redis', async () => {
    const redis = await startRedisServer();
    try {
      const port = await freePort('127.0.0.22');
      const { configMap } = deployment('redis');
      expect(configMap).toMatchObject({ KURA_STORE: 'redis', REDIS_URL: 'redis://redis:6379' });
      const settings = {
        ...configMap,
        HOST: '127.0.0.22',
        PORT: String(port),
        REDIS_URL: `redis://127.0.0.1:${redis.port}`, // the overlay's Service name is a pod's; here, loopback
        KURA_PASSWORD_HASH_COST: '12',
        KURA_COOKIE_SECURE: 'false',
      };
      const { http, name } = await runImage(settings, '127.0.0.22', port);
      await http.signUpAndLogIn(uniqueEmail('image-redis'));
      expect((await http.get('/auth/me')).status).toBe(200);
      const keys = (await redisCli(redis.port, '--scan')).split('\n');
      expect(keys.some((key) => key.startsWith('kura:session:'))).toBe(true);
      expect(keys.some((key) => key.startsWith('kura:user:'))).toBe(true);
      await podman('stop', '--time', '30', name);
    } finally {
      await redis.stop();
    }
  }, 120_000);
});
