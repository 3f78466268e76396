/**
 * Jest 30 in native ESM (Node >= 24.9, `--experimental-vm-modules`), TypeScript through SWC with legacy
 * decorators and metadata, as Nest needs. Unit specs sit next to the code (`*.spec.ts`); tests that run the
 * service over real sockets and processes live in `test/` (`*.e2e-spec.ts`). DynamoDB Local is started once
 * for the whole run by the global setup.
 */
const swc = {
  swcrc: false,
  jsc: {
    target: 'es2024',
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    keepClassNames: true,
  },
  module: { type: 'es6' },
  sourceMaps: 'inline',
};

export default {
  // Node's, noting each file's processor time for the slow-tests reporter.
  testEnvironment: '<rootDir>/test/support/processor-time.environment.mjs',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  moduleNameMapper: {
    '^@kura/(common|session|accounts|dynamodb|connect|redis)$': '<rootDir>/libs/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  // kura-check (apps/check) is plain JavaScript: its unit specs are too, beside its sources.
  testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts', '<rootDir>/apps/check/src/*.spec.js', '<rootDir>/test/**/*.e2e-spec.ts'],
  // The examples are standalone apps with their own package.json and node_modules: not part of this project's run.
  modulePathIgnorePatterns: ['<rootDir>/apps/examples/'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/apps/examples/'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60_000,
  // Three test files at once on CI's two cores: most of the run waits on other processes (kura-check's replicas
  // and nginx, Redis failovers, npm installs), and the kura-check tests, most of the run's length, are split in two
  // files that run side by side (test/support/kura-check-spec.ts). With two, one worker ran kura-check alone for
  // about 1100 s of a 1260 s run.
  maxWorkers: 3,
  // The longest files first, from Jest's cache or, on a fresh clone, from a CI run's lengths (test/support/durations.json).
  testSequencer: '<rootDir>/test/support/longest-first.sequencer.mjs',
  // The default reporter says nothing of a wholly skipped test file: the second one prints why each was skipped;
  // the third, where the run's time went (its slowest tests), since CI must end well inside 30 minutes.
  reporters: ['default', '<rootDir>/test/support/skip-reasons.reporter.mjs', '<rootDir>/test/support/slow-tests.reporter.mjs'],
};
