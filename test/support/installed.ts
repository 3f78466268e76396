import { execFileSync } from 'node:child_process';

/** Whether `command args` runs here (e.g. `installed('nginx', ['-v'])`): the tests that need a program skip without it. */
export function installed(command: string, args: string[] = ['--version']): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
