import { existsSync, statSync } from 'node:fs';
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopProcess } from './dynamodb-local.js';

/**
 * What runs: `server`, the bundled server the image and the Deployment run (`npm run bundle:server`), or `dist`,
 * the compiled sources `npm start` runs.
 */
export type KuraArtifact = 'server' | 'dist';
const DIST_MAIN = fileURLToPath(new URL('../../dist/apps/api/src/main.js', import.meta.url));
const MAINS: Record<KuraArtifact, string> = { dist: DIST_MAIN, server: fileURLToPath(new URL('../../.build/server/main.mjs', import.meta.url)) };

function mainOf(artifact: KuraArtifact): string {
  const main = MAINS[artifact];
  if (!existsSync(main)) throw new Error(`${main} is missing: run the tests through \`npm test\` (it builds and bundles first)`);
  // A bundle older than the build would test yesterday's code.
  if (artifact === 'server' && statSync(main).mtimeMs < statSync(DIST_MAIN).mtimeMs) {
    throw new Error(`${main} is older than ${DIST_MAIN}: run \`npm run bundle:server\` (npm test does)`);
  }
  return main;
}

/** Kura as its own operating-system process. */
export interface KuraProcess {
  readonly baseUrl: string;
  readonly child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Spawns Kura (by default the bundled server, as the image runs it; or a `main` file elsewhere, run from its folder's
 * parent as the image runs /app/server/main.mjs from /app) and resolves once it says where it listens.
 */
export async function startKuraProcess(env: Record<string, string>, artifact: KuraArtifact | { readonly main: string } = 'server'): Promise<KuraProcess> {
  const main = typeof artifact === 'string' ? mainOf(artifact) : artifact.main;
  const child = spawn(process.execPath, [main], {
    ...(typeof artifact === 'string' ? {} : { cwd: dirname(dirname(main)) }),
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
