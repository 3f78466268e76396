// npm run package [-- options] and npm run deploy [-- options]: `serverless package` with the options given (a stage,
// params), then scripts/check-package.mjs on what it wrote; `deploy` then deploys that very package (`serverless
// deploy --package`), so what is deployed is what was checked. Before, `npm run package -- --stage prod` passed the
// options to the check, which took `--stage` for a folder and failed, and `npm run deploy` packaged again unchecked
// (an outside review, 2026-12-07).
// Usage: node scripts/serverless.mjs package|deploy [serverless options]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const [command, ...options] = process.argv.slice(2);
if (command !== 'package' && command !== 'deploy') {
  console.error('usage: node scripts/serverless.mjs package|deploy [serverless options]');
  process.exit(2);
}
const SERVERLESS = fileURLToPath(new URL('../node_modules/serverless/bin/serverless.js', import.meta.url));
const CHECK = fileURLToPath(new URL('./check-package.mjs', import.meta.url));
// Where the package goes: `--package DIR` among the options, as serverless takes it, else its default.
const at = options.findIndex((option) => option === '--package' || option === '-p');
const dir = at >= 0 ? options[at + 1] : '.serverless';
const withoutPackage = at >= 0 ? options.filter((_, index) => index !== at && index !== at + 1) : options;

const step = (args) => {
  const { status } = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (status !== 0) process.exit(status ?? 1);
};
step([SERVERLESS, 'package', ...withoutPackage, '--package', dir]);
step([CHECK, dir]);
if (command === 'deploy') step([SERVERLESS, 'deploy', ...withoutPackage, '--package', dir]);
