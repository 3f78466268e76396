import { normaliseEmail } from '@kura/accounts';
import { resolveSessionSettings, SessionCache, SessionService } from '@kura/session';
import { ConfigError, loadConfig } from './config/app-config.js';
import { createStores } from './storage/storage.module.js';

/**
 * `npm run sessions -- <command>`: what an operator does to sessions, on the configured store (ASVS 7.4.5).
 *   revoke-user <email>   end every session of one user, on every replica at once
 *   revoke-all            end every session of every user (a suspected leak); the only command that scans
 * Runs with the same environment as the service (on Kubernetes: `kubectl exec deploy/kura -- node
 * dist/apps/api/src/admin.js revoke-user ada@example.com`). With the signed cache on, replicas may accept a
 * cached session for up to KURA_SESSION_CACHE_SECONDS more.
 */
const USAGE = 'usage: admin.js revoke-user <email> | revoke-all';

async function run(args: string[]): Promise<number> {
  const [command, argument] = args;
  const config = loadConfig(process.env);
  if (config.store.kind !== 'dynamodb') {
    process.stderr.write('needs the shared store: set DYNAMODB_ENDPOINT, or AWS_REGION with AWS credentials\n');
    return 2;
  }
  const stores = createStores(config.store);
  const settings = resolveSessionSettings({ store: stores.sessions });
  const sessions = new SessionService(settings, new SessionCache(settings));
  try {
    if (command === 'revoke-user' && argument) {
      const user = await stores.users.findByEmail(normaliseEmail(argument));
      if (!user) {
        process.stderr.write(`no account for ${argument}\n`);
        return 1;
      }
      const ended = await sessions.revokeAllOfUser(user.id);
      process.stdout.write(`ended ${ended} session(s) of ${user.email}\n`);
      return 0;
    }
    if (command === 'revoke-all' && !argument) {
      const ended = await sessions.revokeAll();
      process.stdout.write(`ended ${ended} session(s)\n`);
      return 0;
    }
    process.stderr.write(`${USAGE}\n`);
    return 2;
  } finally {
    stores.close();
  }
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
