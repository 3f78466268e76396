// @ts-check
/**
 * Mutation testing of the session core. Run it with `npm run mutation` (scripts/mutation.mjs), which starts
 * one DynamoDB Local for the whole run; `npx stryker run` alone would start one per Jest run, i.e. per mutant.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'jest',
  // The fast tiers only: unit specs and the DynamoDB adapter specs (see the config file).
  jest: { projectType: 'custom', configFile: 'jest.mutation.config.js' },
  // Jest 30 in native ESM; the runner processes inherit PATH, where npm puts the project's Node 24 first.
  testRunnerNodeArgs: ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning'],
  // Each mutant runs only the tests that reach it.
  coverageAnalysis: 'perTest',
  mutate: [
    'libs/session/src/session.service.ts',
    'libs/session/src/session-cache.ts',
    'libs/session/src/session.options.ts',
    'libs/session/src/session-token.ts',
    'libs/session/src/merge-patch.ts',
    'libs/session/src/cross-site-request.guard.ts',
    'libs/accounts/src/login-throttle.ts',
    'libs/accounts/src/account.service.ts',
  ],
  // Not needed by the unit specs; kept out of Stryker's sandbox copy. Except docs/configuration.md:
  // apps/api/src/config/app-config.spec.ts reads it (every variable in the table), so the sandbox needs it
  // (gitignore rules: `docs/*` rather than `docs`, or the file could not be brought back).
  ignorePatterns: [
    'dist', 'reports', 'coverage', '.data', '.scratch', '.serverless', '.build', 'bench', 'infra',
    'docs/*', '!docs/configuration.md',
    // kura-check's fixture apps, for its end-to-end tier only: one holds a symlinked folder (linked-folder/data),
    // which Stryker's sandbox copy cannot copy (EISDIR), and which ended every run since it was added.
    'test/fixtures/check',
  ],
  reporters: ['clear-text', 'html', 'json', 'progress'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  concurrency: 2,
  // A mutant's run may take 1.5 times its tests' normal time plus this. Stryker's 5 s default turned slow runs
  // on a busy 2-core machine into false "timeouts" (counted as kills); real infinite loops and recursion are
  // caught sooner by Stryker's hit limit.
  timeoutMS: 15_000,
};
