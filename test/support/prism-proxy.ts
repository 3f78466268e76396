import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stopProcess } from './dynamodb-local.js';
import { freePort } from './free-port.js';
import type { TestResponse } from './http-client.js';

const PRISM = fileURLToPath(new URL('../../node_modules/@stoplight/prism-cli/dist/index.js', import.meta.url));

/** What Prism found wrong with one exchange, in its `sl-violations` header. */
export interface Violation {
  location: string[];
  severity: string;
  code?: string | number;
  message: string;
}

/** Stoplight Prism in proxy mode: forwards every request to `upstream` and validates both ways against a document. */
export interface PrismProxy {
  readonly baseUrl: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts `prism proxy DOCUMENT UPSTREAM` with `--errors=false`: the real answer goes back unchanged, and what
 * breaks the document (in the request or in the response) is listed in its `sl-violations` header.
 */
export async function startPrismProxy(document: string, upstream: string): Promise<PrismProxy> {
  // A free port can be taken by another test file's server between the check and Prism's bind: then another port.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startPrismOnce(document, upstream, await freePort());
    } catch (error) {
      if (attempt === 3 || !(error instanceof Error) || !error.message.includes('EADDRINUSE')) throw error;
    }
  }
}

async function startPrismOnce(document: string, upstream: string, port: number): Promise<PrismProxy> {
  const child: ChildProcess = spawn(process.execPath, [PRISM, 'proxy', document, upstream, '--host', '127.0.0.1', '--port', String(port), '--errors=false'], {
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Prism did not start within 30 s:\n${output}`)), 30_000);
    child.stdout!.on('data', () => {
      if (!output.includes('Prism is listening')) return;
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Prism exited with ${code}:\n${output}`));
    });
  });
  return { baseUrl: `http://127.0.0.1:${port}`, output: () => output, stop: () => stopProcess(child) };
}

/** The violations Prism reported for this response; none when it found the exchange conforming. */
export function violationsOf(response: TestResponse): Violation[] {
  const header = response.headers.get('sl-violations');
  if (header === null) return [];
  if (!header.startsWith('[')) throw new Error(`Prism could not list every violation: ${header.slice(0, 500)}`);
  return JSON.parse(header) as Violation[];
}
