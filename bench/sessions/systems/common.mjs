// What every anchor app shares, so that they differ from Kura only in how they keep sessions: the same DynamoDB
// engine (through the counting proxy), the same users table, and the same password hashing as Kura (scrypt with
// Kura's parameters and PHC format), so the login scenario compares like with like.
import { createHash, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export const settings = {
  host: process.env.HOST ?? '127.0.0.1',
  port: Number(process.env.PORT ?? 0),
  usersTable: process.env.BENCH_USERS_TABLE ?? 'bench-anchor-users',
  sessionsTable: process.env.BENCH_SESSIONS_TABLE ?? 'bench-connect-sessions',
  kuraStoreTable: process.env.BENCH_KURA_STORE_TABLE ?? 'bench-kura-store-sessions',
  secret: 'a benchmark secret that is long enough for every session library',
};

export const client = new DynamoDBClient({
  region: 'us-east-1',
  endpoint: process.env.DYNAMODB_ENDPOINT,
  credentials: { accessKeyId: 'kuralocal', secretAccessKey: 'kuralocal' },
  requestHandler: new NodeHttpHandler({ httpAgent: { keepAlive: true, maxSockets: 256 } }),
});

const PHC = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/** Checks a password against a user's PHC scrypt hash; returns the user or undefined. */
export async function verifyLogin(email, password) {
  const { Item } = await client.send(
    new GetItemCommand({ TableName: settings.usersTable, Key: { email: { S: String(email).toLowerCase() } }, ConsistentRead: true }),
  );
  if (!Item) return undefined;
  const [, ln, r, p, salt, hash] = PHC.exec(Item.hash.S) ?? [];
  const N = 2 ** Number(ln);
  const key = await new Promise((resolve, reject) =>
    scryptCallback(String(password).normalize('NFC'), Buffer.from(salt, 'base64'), 32, { N, r: Number(r), p: Number(p), maxmem: 256 * N * Number(r) },
      (error, derived) => (error ? reject(error) : resolve(derived))),
  );
  return timingSafeEqual(key, Buffer.from(hash, 'base64')) ? { id: Item.id.S, email: Item.email.S } : undefined;
}

/** The Redis group (`REDIS_URL` set): the same apps with their sessions in Redis, on the bench's one redis-server. */
export const redisUrl = process.env.REDIS_URL;

/**
 * A connected node-redis client, made as connect-redis's README makes it (`createClient()`, `connect()`), with
 * node-redis 5's defaults spelled out: RESP2 and no per-command timeout, the settings Kura's own clients use.
 * node-redis 6's defaults (RESP3, a 5 s timeout per command, an `AbortSignal.timeout` each) slow the references
 * down, so Kura's ratios would improve for a reason that is not Kura's: `BENCH_REDIS_DEFAULTS=6` measures them so.
 */
export async function redisClient() {
  // node-redis is CommonJS: its module.exports is the default export both unbundled and bundled (esbuild gives a
  // dynamic import of CommonJS no named exports).
  const { default: nodeRedis } = await import('redis');
  const asVersion5 = process.env.BENCH_REDIS_DEFAULTS !== '6';
  const redis = nodeRedis.createClient({ url: redisUrl, ...(asVersion5 ? { RESP: 2, commandOptions: { timeout: undefined } } : {}) });
  await redis.connect();
  return redis;
}

/** The string the one-GET reference reads per request: the session's user, by the token's hash. */
export const referenceKey = (id) => `bench:me:${id}`;

/**
 * What the references answering as Kura does hold for a session: its user and the three times Kura reports
 * (Kura's defaults: 30 minutes idle, 8 hours absolute).
 */
export function referenceSession(user, now = Date.now()) {
  return { user: { ...user, name: null }, createdAt: now, idleExpiresAt: now + 1_800_000, absoluteExpiresAt: now + 28_800_000 };
}

/**
 * Writes the session the one-GET reference reads for `token` (under the hash of the token, as Kura keys sessions):
 * its user, or, for the reference answering as Kura does, `referenceSession(user)`.
 */
export async function seedReference(redis, token, user, answering) {
  const value = answering ? referenceSession(user) : user;
  await redis.set(referenceKey(createHash('sha256').update(token).digest('base64url')), JSON.stringify(value));
}

/** Tells the orchestrator where the app listens. */
export function announce(address) {
  process.stdout.write(`listening ${address}\n`);
}

// A normal exit on SIGTERM/SIGINT (what the orchestrator sends), so `--cpu-prof` profiles get written.
for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => process.exit(0));
