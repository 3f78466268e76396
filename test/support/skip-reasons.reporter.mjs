import { relative } from 'node:path';

/**
 * Says why tests were skipped. Jest's default reporter prints nothing of a test file whose every test was
 * skipped, not even what it logged while its tests were collected, so a suite skipped for a missing tool
 * (podman, Chromium, kubectl, nginx) showed only as "skipped" in the totals. After the run, this lists each such
 * file with the `SKIPPING ...` line it logged (files that skipped only some tests are listed too when they logged
 * one), or says it gave no reason.
 */
export default class SkipReasonsReporter {
  #rootDir;
  #skipped = [];

  constructor(globalConfig) {
    this.#rootDir = globalConfig.rootDir;
  }

  onTestResult(_test, result) {
    if (result.numPendingTests === 0) return;
    const reasons = (result.console ?? []).map((entry) => String(entry.message)).filter((message) => /^SKIPPING\b/.test(message));
    if (!result.skipped && reasons.length === 0) return;
    this.#skipped.push({ file: relative(this.#rootDir, result.testFilePath), reasons });
  }

  onRunComplete() {
    if (this.#skipped.length === 0) return;
    const lines = this.#skipped
      .sort((a, b) => a.file.localeCompare(b.file))
      .flatMap(({ file, reasons }) => (reasons.length > 0 ? reasons : ['no reason given']).map((reason) => `  ${file}: ${reason}`));
    process.stderr.write(`Skipped, and why:\n${lines.join('\n')}\n`);
  }

  getLastError() {
    return undefined;
  }
}
