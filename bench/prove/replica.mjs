// A Kura replica as the Deployment runs it (`node dist/apps/api/src/main.js`), on its own loopback address.
import { spawn } from 'node:child_process';

const MAIN = new URL('../../dist/apps/api/src/main.js', import.meta.url).pathname;

/** Starts replica `index` on 127.0.0.(11 + index):port with the given environment. */
export function startReplica({ index, port, env, stdout = 'ignore' }) {
  const host = `127.0.0.${11 + index}`;
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, ...env, HOST: host, PORT: String(port) },
    stdio: ['ignore', stdout, 'inherit'],
  });
  return { host, address: `${host}:${port}`, child };
}

/** Resolves once the replica reports ready; throws after 15 s. */
export async function waitReady(address) {
  for (let i = 0; i < 150; i += 1) {
    if (await fetch(`http://${address}/health/ready`).then((response) => response.ok, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`replica ${address} did not become ready`);
}
