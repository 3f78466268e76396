// A Kura replica as the Deployment runs it, on its own loopback address: the container's command and the
// ConfigMap's environment (kura.env) are read from infra/k8s/base, so the harness cannot drift from the manifests.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { parse } from 'yaml';

const ROOT = new URL('../../', import.meta.url);
const base = (file) => parse(readFileSync(new URL(`infra/k8s/base/${file}`, ROOT), 'utf8'));
const [container] = base('deployment.yaml').spec.template.spec.containers;

/** What the Deployment declares: the command (`node server/main.mjs`) and the ConfigMap's data (kura.env, its generator's). */
export const deployment = { command: container.command, env: parseEnv(readFileSync(new URL('infra/k8s/base/kura.env', ROOT), 'utf8')) };

// The image's layout against this repository's: the Dockerfile copies the bundled server (.build/server, made by
// `npm run bundle:server`) to /app/server.
const IN_REPOSITORY = [['server/', '.build/server/']];
const inRepository = (arg) => IN_REPOSITORY.reduce((path, [image, here]) => (path.startsWith(image) ? here + path.slice(image.length) : path), arg);

/** Starts replica `index` on 127.0.0.(11 + index):port with the Deployment's command and the given environment. */
export function startReplica({ index, port, env, stdout = 'ignore' }) {
  const host = `127.0.0.${11 + index}`;
  const [program, ...args] = deployment.command;
  const child = spawn(program === 'node' ? process.execPath : program, args.map(inRepository), {
    cwd: new URL('.', ROOT).pathname,
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
