// A redis-server for the benchmark and prove harnesses, as production runs it: append-only persistence in `dir`
// and the noeviction policy. The tests' own starter (a free loopback port, answered PING before this resolves).
import { startRedisServer } from '../../test/support/redis-server.ts';

export async function startRedis({ dir }) {
  const server = await startRedisServer({ dir, appendOnly: true, args: ['--maxmemory-policy', 'noeviction'] });
  return { url: server.url, port: server.port, pid: server.pid, stop: () => server.stop() };
}
