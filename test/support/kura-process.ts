import { existsSync } from 'node:fs';
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stopProcess } from './dynamodb-local.js';

const MAIN = fileURLToPath(new URL('../../dist/apps/api/src/main.js', import.meta.url));

/** Kura as its own operating-system process (the built `main.js`, as `npm start` runs it). */
export interface KuraProcess {
  readonly baseUrl: string;
  readonly child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Spawns `node dist/apps/api/src/main.js` and resolves once it says where it listens. */
export async function startKuraProcess(env: Record<string, string>): Promise<KuraProcess> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run the tests through \`npm test\` (it builds first)`);
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', KURA_SHUTDOWN_DRAIN_SECONDS: '0', ...env, KURA_LOG_LEVEL: 'log' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Kura did not start within 30 s:\n${output}`)), 30_000);
    const check = () => {
      const match = /listening on (http:\/\/[^\s]+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Kura exited with ${code} before listening:\n${output}`));
    });
  });
  return { baseUrl, child, output: () => output, stop: (signal) => stopProcess(child, signal) };
}
