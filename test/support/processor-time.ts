import { appendFileSync, readFileSync } from 'node:fs';

/**
 * Notes, for the slow-tests reporter, the processor time a test file took: its worker's own and that of every
 * process it started and reaped (a Kura, a redis-server, a kura-check with its replicas and nginx), read from
 * /proc/self/stat when the file's setup runs and after its last test. CI has two cores: what the run costs in
 * processor time, not its files' lengths side by side, is the least it can take. Linux only; silent elsewhere.
 */
const log = process.env.KURA_PROCESSOR_LOG;

/** utime + stime + cutime + cstime, in clock ticks (fields 14-17 of proc(5)'s stat, counted after the command). */
function ticks(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields.slice(11, 15).reduce((sum, field) => sum + Number(field), 0);
  } catch {
    return undefined;
  }
}

const start = log ? ticks() : undefined;
if (log && start !== undefined) {
  afterAll(() => {
    const end = ticks();
    appendFileSync(log, `${JSON.stringify({ file: expect.getState().testPath, pid: process.pid, start, end })}\n`);
  });
}
