import { appendFileSync, readFileSync } from 'node:fs';
import NodeEnvironment from 'jest-environment-node';

/**
 * Jest's Node environment, noting for the slow-tests reporter the processor time each test file took: its worker's
 * own and that of every process it started and reaped (a Kura, a redis-server, a kura-check with its replicas and
 * nginx), read from /proc/self/stat when the file's environment is set up and when it is torn down, after its last
 * afterAll (a setup file's afterAll runs before the file's own, and missed what those stop). CI has two cores: what
 * the run costs in processor time, not its files' lengths side by side, is the least it can take. Linux only.
 */
export default class ProcessorTimeEnvironment extends NodeEnvironment {
  #testPath;
  #start;

  constructor(config, context) {
    super(config, context);
    this.#testPath = context.testPath;
  }

  async setup() {
    await super.setup();
    this.#start = ticks();
  }

  async teardown() {
    const log = process.env.KURA_PROCESSOR_LOG;
    const end = ticks();
    if (log && this.#start !== undefined && end !== undefined) {
      appendFileSync(log, `${JSON.stringify({ file: this.#testPath, pid: process.pid, start: this.#start, end })}\n`);
    }
    await super.teardown();
  }
}

/** utime + stime + cutime + cstime, in clock ticks (fields 14-17 of proc(5)'s stat, counted after the command). */
function ticks() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields.slice(11, 15).reduce((sum, field) => sum + Number(field), 0);
  } catch {
    return undefined;
  }
}
