// nginx from Debian as the Service/Ingress in front of the replicas, on loopback, in a folder of its own.
// Used by kura-check (any app) and by Kura's own harness (bench/prove, scripts/replicas.mjs).
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';

/**
 * Where nginx is looked for after PATH: Debian installs it as /usr/sbin/nginx, and a user other than root has no
 * /usr/sbin on PATH there (`PATH=/usr/bin:/bin` was told "nginx is not installed" beside /usr/sbin/nginx).
 */
export const NGINX_FALLBACKS = ['/usr/sbin', '/sbin'];

/** What kura-check says when nginx is nowhere it looks. */
export const NGINX_MISSING = `nginx was not found on PATH nor in ${NGINX_FALLBACKS.join(' or ')}: kura-check uses it as the balancer (install it: apt-get install nginx-light)`;

/**
 * The nginx to run: the first executable file named `nginx` in a folder of `path` (absolute folders only), then
 * in `fallbacks`; undefined when there is none.
 */
export function findNginx({ path = process.env.PATH ?? '', fallbacks = NGINX_FALLBACKS } = {}) {
  for (const folder of [...path.split(':').filter((entry) => isAbsolute(entry)), ...fallbacks]) {
    const file = join(folder, 'nginx');
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * `round-robin`: a Service/Ingress with no affinity. `cookie-affinity`: what ingress-nginx's `affinity: cookie`
 * does, in open-source nginx: the first response pins the client to the replica that served it (a route
 * cookie), later requests go there, and when that replica is gone the client is re-pinned elsewhere.
 * `nextUpstream`: nginx's default of trying the next replica after an error (as ingress-nginx does); kura-check
 * turns it off, as a Service, so that no replica's failure is hidden behind another's answer.
 */
export function nginxConfig({ dir, listen, upstreams, mode, nextUpstream = true }) {
  // No passive health marking (max_fails=0): one replica that dropped a connection made nginx answer "no live
  // upstreams" to every user for a second, and those 502s hid which replica failed whom.
  const servers = upstreams.map((address) => `    server ${address} max_fails=0;`).join('\n');
  const pinnable = upstreams.map((address) => `    "${address}" $cookie_kura_route;`).join('\n');
  const proxy = `
      proxy_http_version 1.1;${
        nextUpstream
          ? ''
          : `
      # As a Service: a request is never sent on to another replica. A replica that drops the connection of a
      # user whose session it lacks is that replica's answer, not something another replica's should hide.
      proxy_next_upstream off;`
      }
      proxy_set_header Connection "";
      proxy_set_header Host $http_host; # with the port: the CSRF check compares it with Origin
      proxy_set_header X-Forwarded-For $remote_addr;
      add_header X-Kura-Upstream $upstream_addr always;
      # "-" for an upstream nginx could not connect to (a replica gone): only such a 502 never reached the app.
      add_header X-Kura-Upstream-Connect $upstream_connect_time always;
      # "|" for an answer whose body ends where the replica closed the connection (no Content-Length, not chunked:
      # PHP's built-in server, HTTP/1.0): cut short by a stop, it looks whole (see VirtualUser).
      add_header X-Kura-Upstream-Framing "$upstream_http_content_length|$upstream_http_transfer_encoding" always;`;
  const location =
    mode === 'round-robin'
      ? `    location / {
      proxy_pass http://kura;${proxy}
    }`
      : `    location / {
      error_page 418 = @pin;
      error_page 502 504 = @pin;
      if ($kura_route = "") { return 418; }
      proxy_pass http://$kura_route;${proxy}
    }
    location @pin {
      proxy_pass http://kura;${proxy}
      add_header Set-Cookie "kura_route=$kura_pinned; Path=/; HttpOnly" always;
    }`;
  return `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log error;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  # A route cookie counts only while its replica is in the endpoints, as ingress-nginx's sticky sessions: a pod
  # that left them (told to stop, draining) gets no more of its users, who are pinned anew.
  map $cookie_kura_route $kura_route {
    default "";
${pinnable}
  }
  # The replica that answered: the last address of $upstream_addr, which lists every upstream tried ("a, b", and
  # "a : b" after the error_page to @pin). The list itself, with its spaces, is no valid cookie value, and strict
  # parsers (Python's SimpleCookie) then drop the app's own cookies from the same header.
  # Any loopback address: kura-check's replacements live on 127.0.1.x, 127.0.2.x, ...
  map $upstream_addr $kura_pinned { default ""; "~(?<last>127\\.\\d+\\.\\d+\\.\\d+:\\d+)$" $last; }
  upstream kura {
${servers}
    keepalive 32;
  }
  server {
    listen ${listen};
${location}
  }
}
`;
}

/**
 * The last address of an `$upstream_addr`-style header (`X-Kura-Upstream`, `X-Kura-Upstream-Connect`), which lists
 * every upstream tried (", " retries, " : " internal redirects): the one that served, or undefined.
 */
export const lastUpstream = (header) => (header ?? '').split(/\s*[,:]\s+/).filter(Boolean).at(-1);

/**
 * Starts nginx (`bin`, default: the one findNginx finds) and resolves once it answers anything on `probe` (default
 * `/`): the upstreams must be up.
 * `spawned(pid)`, if given, is told nginx's process id at once (before it is ready).
 * `route(upstreams)` changes the replicas it sends to (a configuration reload), as Kubernetes changes a
 * Service's endpoints: a pod leaves them when it is told to stop, and joins them once it is ready.
 */
export async function startNginx(options) {
  await mkdir(options.dir, { recursive: true });
  const file = join(options.dir, 'nginx.conf');
  await writeFile(file, nginxConfig(options));
  const child = spawn(options.bin ?? findNginx() ?? 'nginx', ['-c', file, '-p', options.dir], { stdio: ['ignore', 'inherit', 'inherit'] });
  options.spawned?.(child.pid);
  for (let i = 0; i < 50; i += 1) {
    try {
      // Any answer will do, a redirect too: followed, an app that sends everything to https:// (force-SSL) or to
      // itself (a loop) made this throw 50 times and nginx "did not start". No answer within 2 s is nginx up and
      // waiting on the app: an app that never answers kept this waiting for nginx's 60 s proxy timeout.
      await fetch(`http://${options.listen}${options.probe ?? '/'}`, { redirect: 'manual', signal: AbortSignal.timeout(2000) }).catch((error) => {
        if (error?.name !== 'TimeoutError') throw error;
      });
      const route = async (upstreams) => {
        await writeFile(file, nginxConfig({ ...options, upstreams }));
        child.kill('SIGHUP');
        await new Promise((resolve) => setTimeout(resolve, 150)); // the old workers stop taking connections
      };
      const stop = () => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : (child.once('exit', resolve), child.kill('SIGQUIT'))));
      /** The first answer nginx refused from a replica (headers over its 4 KB buffer, an invalid header), or undefined. */
      const refusedAnswer = async () => {
        const log = await readFile(join(options.dir, 'error.log'), 'utf8').catch(() => '');
        return /upstream sent (?:too big header|invalid header)[^,]*/.exec(log)?.[0];
      };
      return { route, stop, refusedAnswer };
    } catch {
      if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  // Never left behind, its workers neither: SIGTERM makes the master stop them (a SIGKILL left them orphaned,
  // still listening), then SIGKILL if it has not gone within a second.
  if (child.exitCode === null && child.signalCode === null) {
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 1000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  throw new Error('nginx did not start');
}
