import { relative } from 'node:path';

/**
 * Says where the run's time went. CI must finish well inside 30 minutes on two cores, and Jest's default reporter
 * gives a file's length only (and only past 5 s), never a test's: after the run, this lists the slowest tests and
 * the test files' summed lengths, so that a run grown long shows what to shorten without a second, verbose run.
 */
const SLOWEST = 30;

export default class SlowTestsReporter {
  #rootDir;
  #tests = [];
  #files = [];

  constructor(globalConfig) {
    this.#rootDir = globalConfig.rootDir;
  }

  onTestResult(_test, result) {
    const file = relative(this.#rootDir, result.testFilePath);
    this.#files.push({ file, seconds: (result.perfStats.end - result.perfStats.start) / 1000 });
    for (const test of result.testResults) {
      if (typeof test.duration === 'number') this.#tests.push({ file, name: test.fullName, seconds: test.duration / 1000 });
    }
  }

  onRunComplete() {
    if (this.#tests.length === 0) return;
    const seconds = (value) => `${value.toFixed(1).padStart(7)} s`;
    const total = this.#files.reduce((sum, { seconds: length }) => sum + length, 0);
    const slowest = [...this.#tests].sort((a, b) => b.seconds - a.seconds).slice(0, SLOWEST);
    process.stderr.write(
      `Where the time went: ${this.#files.length} test files, ${total.toFixed(0)} s summed over the workers; the ${slowest.length} slowest tests:\n` +
        slowest.map(({ file, name, seconds: length }) => `${seconds(length)}  ${file}: ${name}`).join('\n') +
        '\n',
    );
  }

  getLastError() {
    return undefined;
  }
}
