import { AccountService, normaliseEmail, PasswordHasher } from '@kura/accounts';
import { StoreUnavailableError } from '@kura/common';
import { isWellFormedSessionId, resolveSessionSettings, SessionCache, SessionNotFoundError, SessionService } from '@kura/session';
import type { SessionRecord } from '@kura/common';
import { type AppConfig, ConfigError, loadConfig } from './config/app-config.js';
import { deleteAccount } from './auth/account-deletion.js';
import { createStores } from './storage/storage.module.js';

/**
 * `npm run sessions -- <command>`: what an operator does to sessions, on the store Kura uses (ASVS 7.4.5).
 *   list-user <email>             one user's live sessions, newest first: id, times, device and address
 *   revoke-session <email> <id>   end one of them (a lost or stolen device), on every replica at once
 *   revoke-user <email>           end every session of one user, on every replica at once
 *   revoke-all                    end every session of every user (a suspected leak); the only command that scans
 *   delete-account <email>        delete an account: its sessions end with their data, the email is free again
 * Runs with the same environment as the service. With no DYNAMODB_ENDPOINT (the default, embedded engine) it
 * talks to the engine that `npm start`, `npm run replicas` or `npm run db:serve` is running on KURA_DATA_DIR,
 * whose address that process wrote to the data folder. On Kubernetes: `kubectl exec deploy/kura -- node
 * server/admin.mjs revoke-user ada@example.com`. With the signed cache on, replicas may accept a
 * cached session for up to KURA_SESSION_CACHE_SECONDS more.
 */
const USAGE = 'usage: npm run sessions -- <command> (in the container image: node server/admin.mjs <command>); <command>: list-user <email> | revoke-session <email> <id> | revoke-user <email> | revoke-all | delete-account <email>';

const JAVASCRIPT_ERRORS = new Set(['Error', 'TypeError', 'RangeError', 'ReferenceError', 'SyntaxError']);

/** How this command was run, for the hints it prints: bundled in the image (`node server/admin.mjs`), or from the repository. */
const INVOKED = process.argv[1]?.endsWith('admin.mjs') ? 'node server/admin.mjs' : 'npm run sessions --';

/** As many as the API lists (GET /auth/sessions). */
const LIST_LIMIT = 100;

/**
 * What a command that ends sessions in steps may have done before a store failure stopped it: each step stands
 * (an ended session stays ended, a closed account stays closed), so running it again finishes it. Said with the
 * reason: a sweep of a large table throttled part way looked as if nothing had happened. "May": the failure may
 * as well have been its first call (a review found "it stopped part way" said of a store down from the start).
 */
const PART_WAY = {
  'revoke-all': 'sessions it ended before it stopped, if any, stay ended: run it again (safe: it ends the rest)',
  'revoke-user': 'sessions it ended before it stopped, if any, stay ended: run it again (safe: it ends the rest)',
  'delete-account': 'if it closed the account before it stopped, no login opens it: run it again (safe) to finish',
} as const;

/** `steps` of `command`, a store failure among them said with what they may have done (PART_WAY). */
async function inSteps<T>(command: keyof typeof PART_WAY, steps: Promise<T>): Promise<T> {
  try {
    return await steps;
  } catch (error) {
    if (!(error instanceof StoreUnavailableError)) throw error;
    throw new StoreUnavailableError(error.operation, { cause: error, retryAfterSeconds: error.retryAfterSeconds, reason: `${error.reason}; ${PART_WAY[command]}` });
  }
}

/** How long a command waits for a store that connects (Redis) before its first call fails with the reason. */
const CONNECT_WITHIN_MS = 5000;

type Command =
  | { readonly name: 'list-user' | 'revoke-user' | 'delete-account'; readonly email: string }
  | { readonly name: 'revoke-session'; readonly email: string; readonly id: string }
  | { readonly name: 'revoke-all' };

function parse(args: readonly string[]): Command | undefined {
  const [name, first, second, ...rest] = args;
  if (rest.length > 0) return undefined;
  if ((name === 'list-user' || name === 'revoke-user' || name === 'delete-account') && first && second === undefined) return { name, email: first };
  if (name === 'revoke-session' && first && second) return { name, email: first, id: second };
  if (name === 'revoke-all' && first === undefined) return { name };
  return undefined;
}

const iso = (epochMs: number) => new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** One session in one line: what an operator needs to tell a user's devices apart. */
function lineOf(record: SessionRecord): string {
  return [
    record.id,
    `created ${iso(record.createdAt)}`,
    `last seen ${iso(record.lastSeenAt)}`,
    `ends ${iso(Math.min(record.idleExpiresAt, record.absoluteExpiresAt))} (at the latest ${iso(record.absoluteExpiresAt)})`,
    `from ${record.ip ?? 'an unknown address'}`,
    JSON.stringify(record.userAgent ?? ''),
  ].join('  ');
}

/** The store's configuration with the endpoint of the engine to talk to, or a one-line reason why there is none. */
async function reachableStore(config: AppConfig['store']): Promise<AppConfig['store'] | string> {
  switch (config.kind) {
    case 'dynamodb':
    case 'redis':
      return config;
    case 'memory':
      return 'KURA_STORE=memory keeps sessions inside each Kura process: there is nothing to revoke from outside';
    case 'embedded': {
      // Loaded here only: the embedded engine's module brings dynalite and LevelDB, which no other store needs.
      const { runningEngine } = await import('./embedded/embedded-dynamodb.js');
      const endpoint = await runningEngine(config.dataDir);
      if (endpoint) return { ...config, endpoint };
      return `nothing is serving ${config.dataDir} (KURA_DATA_DIR): start Kura (npm start) or its engine alone (npm run db:serve) and run this again, or set DYNAMODB_ENDPOINT`;
    }
    default: {
      const unknown: never = config.kind;
      return `unknown store ${String(unknown)}`;
    }
  }
}

async function run(args: readonly string[]): Promise<number> {
  if (args.length === 1 && ['help', '--help', '-h'].includes(args[0]!)) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const command = parse(args);
  if (!command) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const store = await reachableStore(loadConfig(process.env).store);
  if (typeof store === 'string') {
    process.stderr.write(`${store}\n`);
    return 1;
  }
  const stores = await createStores(store);
  await stores.connected(CONNECT_WITHIN_MS);
  const settings = resolveSessionSettings({ store: stores.sessions });
  const sessions = new SessionService(settings, new SessionCache(settings));
  try {
    return await perform(command, sessions, stores);
  } finally {
    await stores.close();
  }
}

/** The command itself, on the store's sessions and accounts; 0 done, 1 refused (with why on stderr). */
async function perform(command: Command, sessions: SessionService, stores: Awaited<ReturnType<typeof createStores>>): Promise<number> {
  if (command.name === 'revoke-all') {
    process.stdout.write(`ended ${await inSteps('revoke-all', sessions.revokeAll())} session(s)\n`);
    return 0;
  }
  if (command.name === 'delete-account') {
    // Nothing here hashes a password: the hasher is only the service's other half.
    const ended = await inSteps('delete-account', deleteAccount(new AccountService(stores.users, new PasswordHasher()), sessions, command.email));
    if (ended === undefined) {
      process.stderr.write(`no account for ${command.email}\n`);
      return 1;
    }
    process.stdout.write(`deleted the account of ${normaliseEmail(command.email)}: ended ${ended} session(s)\n`);
    return 0;
  }
  const user = await stores.users.findByEmail(normaliseEmail(command.email));
  if (!user) {
    process.stderr.write(`no account for ${command.email}\n`);
    return 1;
  }
  switch (command.name) {
    case 'list-user': {
      // From the same index as GET /auth/sessions: a login of the last second may not show yet.
      const listed = await sessions.listOfUser(user.id, LIST_LIMIT);
      const lines = listed.map((record) => `${lineOf(record)}\n`).join('');
      process.stdout.write(`${listed.length} live session(s) of ${user.email}${listed.length === LIST_LIMIT ? ` (the newest ${LIST_LIMIT})` : ''}\n${lines}`);
      return 0;
    }
    case 'revoke-session':
      try {
        if (!isWellFormedSessionId(command.id)) throw new SessionNotFoundError();
        // Said as it was: run twice, the second run said "ended" again (an outside review).
        const wasLive = await sessions.revokeOwned(user.id, command.id);
        process.stdout.write(wasLive ? `ended session ${command.id} of ${user.email}\n` : `session ${command.id} of ${user.email} had ended already\n`);
        return 0;
      } catch (error) {
        if (!(error instanceof SessionNotFoundError)) throw error;
        process.stderr.write(`${user.email} has no session ${command.id} (${INVOKED} list-user ${command.email} lists them)\n`);
        return 1;
      }
    case 'revoke-user':
      process.stdout.write(`ended ${await inSteps('revoke-user', sessions.revokeAllOfUser(user.id))} session(s) of ${user.email}\n`);
      return 0;
  }
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (error) {
  if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
  else if (error instanceof StoreUnavailableError) process.stderr.write(`the store could not answer: ${error.reason}\n`);
  // A named error of Kura's or a library's (a TLS file that cannot be read) in its own words, as the server's fatal
  // line says it; JavaScript's own (a TypeError: a defect) with its name.
  else process.stderr.write(`${error instanceof Error && !JAVASCRIPT_ERRORS.has(error.name) ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
