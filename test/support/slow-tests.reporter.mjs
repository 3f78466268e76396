import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

/**
 * Says where the run's time went. CI must finish well inside 30 minutes on two cores, and Jest's default reporter
 * gives a file's length only (and only past 5 s), never a test's: after the run, this lists the slowest tests and
 * the test files' summed lengths, so that a run grown long shows what to shorten without a second, verbose run.
 * Then the files that took the most processor time (test/support/processor-time.environment.mjs notes it): on two cores, the
 * run's processor time halved is the least it can last, however its files are spread over the workers.
 */
const SLOWEST = 30;
const COSTLIEST = 25;
/** How many of the files that ended the run are listed: the workers' idle tail is where a run's length hides. */
const TAIL = 8;
/** proc(5)'s clock ticks per second: 100 on every Linux this runs on (`getconf CLK_TCK`). */
const TICKS_PER_SECOND = 100;

export default class SlowTestsReporter {
  #rootDir;
  #tests = [];
  #files = [];
  #processorLog;

  constructor(globalConfig) {
    this.#rootDir = globalConfig.rootDir;
    // Set before the workers start, which inherit it; a run inside another (npm run mutation) keeps its own.
    if (!process.env.KURA_PROCESSOR_LOG) {
      this.#processorLog = join(tmpdir(), `kura-processor-${process.pid}.jsonl`);
      rmSync(this.#processorLog, { force: true });
      process.env.KURA_PROCESSOR_LOG = this.#processorLog;
    }
  }

  onTestResult(_test, result) {
    const file = relative(this.#rootDir, result.testFilePath);
    this.#files.push({ file, start: result.perfStats.start, end: result.perfStats.end });
    for (const test of result.testResults) {
      if (typeof test.duration === 'number') this.#tests.push({ file, name: test.fullName, seconds: test.duration / 1000 });
    }
  }

  onRunComplete() {
    if (this.#tests.length === 0) return;
    const seconds = (value) => `${value.toFixed(1).padStart(7)} s`;
    const total = this.#files.reduce((sum, { start, end }) => sum + (end - start) / 1000, 0);
    const slowest = [...this.#tests].sort((a, b) => b.seconds - a.seconds).slice(0, SLOWEST);
    process.stderr.write(
      `Where the time went: ${this.#files.length} test files, ${total.toFixed(0)} s summed over the workers; the ${slowest.length} slowest tests:\n` +
        slowest.map(({ file, name, seconds: length }) => `${seconds(length)}  ${file}: ${name}`).join('\n') +
        '\n',
    );
    this.#reportTail();
    this.#reportProcessorTime(seconds);
    this.#recordDurations();
  }

  /**
   * Each file's length, merged into the file KURA_RECORD_DURATIONS names (test/support/durations.json, which
   * test/support/longest-first.sequencer.mjs reads: refresh it from a CI-like run now and then).
   */
  #recordDurations() {
    const path = process.env.KURA_RECORD_DURATIONS;
    if (!path) return;
    const lengths = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
    for (const { file, start, end } of this.#files) lengths[file] = Math.round((end - start) / 100) / 10;
    const sorted = Object.fromEntries(Object.entries(lengths).sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1)));
    writeFileSync(path, `${JSON.stringify(sorted, null, 2)}\n`);
  }

  /** The files that ended the run, and when each began and ended (seconds from the first file's start). */
  #reportTail() {
    const first = Math.min(...this.#files.map(({ start }) => start));
    const last = [...this.#files].sort((a, b) => b.end - a.end).slice(0, TAIL).reverse();
    const at = (ms) => `${((ms - first) / 1000).toFixed(0).padStart(5)} s`;
    process.stderr.write(
      `The last ${last.length} test files to end (began, ended; from the first file's start):\n` +
        last.map(({ file, start, end }) => `${at(start)} ${at(end)}  ${file}`).join('\n') +
        '\n',
    );
  }

  /** Each file's processor time, as test/support/processor-time.environment.mjs noted it. */
  #reportProcessorTime(seconds) {
    const log = this.#processorLog;
    if (!log || !existsSync(log)) return;
    const notes = readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    rmSync(log, { force: true });
    const costs = notes.map((note) => ({ file: relative(this.#rootDir, note.file), seconds: (note.end - note.start) / TICKS_PER_SECOND }));
    const total = costs.reduce((sum, cost) => sum + cost.seconds, 0);
    const costliest = costs.sort((a, b) => b.seconds - a.seconds).slice(0, COSTLIEST);
    process.stderr.write(
      `Where the processor went: ${total.toFixed(0)} processor-seconds in ${costs.length} test files (their workers and what they started; not DynamoDB Local's, shared); the ${costliest.length} costliest:\n` +
        costliest.map(({ file, seconds: cost }) => `${seconds(cost)}  ${file}`).join('\n') +
        '\n',
    );
  }

  getLastError() {
    return undefined;
  }
}
