import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import TestSequencer from '@jest/test-sequencer';

/**
 * Starts the longest test files first, so that no long one is left to run alone at the end. Jest does this from its
 * cache of the last run's timings, which a fresh clone (CI) has none of: it then orders by file size, and the run
 * ended with test/login-burst (a small file, over two minutes of hashing at the real cost) and test/prove running
 * alone while the other workers sat idle. test-durations.json holds each file's seconds from a full run on two
 * cores (the longer of two runs, 2026-12-06). Jest's cache, where there is one, still comes first, and a file
 * missing from both (a new one) runs before the rest, as Jest runs files it has no timing for. The slow-tests
 * reporter shows when the list has drifted.
 */
const DURATIONS = JSON.parse(readFileSync(new URL('./test-durations.json', import.meta.url), 'utf8'));

export default class LongestFirstSequencer extends TestSequencer {
  time(test) {
    return super.time(test) ?? DURATIONS[relative(test.context.config.rootDir, test.path)];
  }
}
