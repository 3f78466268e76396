/**
 * The fast tiers only, for mutation testing (`npm run mutation`): unit specs next to the code, including the
 * DynamoDB adapter specs, which need DynamoDB Local. `scripts/mutation.mjs` starts one engine for the whole
 * mutation run and exports its endpoint; the global setup then reuses it instead of starting a JVM per mutant.
 * The end-to-end tier (`test/*.e2e-spec.ts`) spawns processes and sockets: far too slow to run per mutant.
 */
import base from './jest.config.js';

export default {
  ...base,
  testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'],
};
