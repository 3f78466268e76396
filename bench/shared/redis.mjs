// A redis-server for the benchmark and prove harnesses: its own process on a free loopback port, append-only
// persistence in `dir` (as production runs it), answered PING before this resolves; stop() ends it.
import { spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';

const freePort = (host) =>
  new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

const answersPing = (host, port) =>
  new Promise((resolve) => {
    const socket = connect(port, host);
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk) => done(chunk.toString().startsWith('+PONG')));
  });

export async function startRedis({ dir, host = '127.0.0.1', appendOnly = true } = {}) {
  const port = await freePort(host);
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', host, '--dir', dir, '--save', '', '--appendonly', appendOnly ? 'yes' : 'no', '--maxmemory-policy', 'noeviction'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  for (const giveUpAt = Date.now() + 10_000; !(await answersPing(host, port)); ) {
    if (child.exitCode !== null || Date.now() > giveUpAt) throw new Error(`redis-server did not start on ${host}:${port} (is it installed? apt-get install redis-server)`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: `redis://${host}:${port}`,
    port,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
