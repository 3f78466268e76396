import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import Sequencer from '@jest/test-sequencer';

/**
 * Starts the longest test files first, so that no long file starts late and leaves the other workers idle at the
 * end. Jest does that from its own cache of the last run's lengths, but CI runs from a fresh clone, with no cache,
 * and Jest then orders by file size: test/login-burst and test/prove, each over a minute, began in the run's last
 * 90 s after 20 minutes of small unit files (2026-12-06). Where Jest's cache knows nothing, the lengths of a CI
 * run recorded in test/support/durations.json stand in (seconds, by path from the root; the slow-tests reporter
 * writes them when KURA_RECORD_DURATIONS names a file). A file recorded nowhere counts as 30 s (a test/ file) or
 * 1 s (a unit spec). Jest's own rules stay: a file that failed last time first.
 */
const recorded = JSON.parse(readFileSync(new URL('./durations.json', import.meta.url), 'utf8'));

export default class LongestFirstSequencer extends Sequencer {
  time(test) {
    const cached = super.time(test);
    if (cached != null) return cached;
    const file = relative(test.context.config.rootDir, test.path);
    return (recorded[file] ?? (file.startsWith('test/') ? 30 : 1)) * 1000;
  }
}
