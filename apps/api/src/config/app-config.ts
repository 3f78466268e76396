import { availableParallelism } from 'node:os';
import { isAbsolute } from 'node:path';
import { isIP } from 'node:net';
import * as z from 'zod/mini';
import { cacheKeySecretProblem, isOrigin, isValidCookieName, refreshIntervalSecondsFor } from '@kura/session';

/**
 * Which proxies may tell Kura who the client is (`X-Forwarded-For`, `-Proto`, `-Host`), in Fastify's
 * `trustProxy` forms: `false` none; a hop count n, the nearest n proxies (the client address is the entry the
 * n-th proxy appended); the proxies' addresses and CIDR ranges; `true` every hop, which lets any client choose
 * its own address (the leftmost entry).
 */
export type TrustProxy = boolean | number | readonly string[];

/** Kura's configuration after validation. Built once at boot by {@link loadConfig}; nothing else reads the environment. */
export interface AppConfig {
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly bodyLimitBytes: number;
    /** How long an idle kept-alive connection stays open: longer than any balancer's idle timeout in front. */
    readonly keepAliveTimeoutSeconds: number;
    readonly trustProxy: TrustProxy;
    /** Serve the explorer UI at /docs (the document at /docs/openapi.json is always served). */
    readonly docsUi: boolean;
  };
  readonly store: {
    /**
     * `embedded`: dynalite in this process; `dynamodb`: a configured engine; `redis`: a Redis server (see `redis`);
     * `memory`: per-process (broken on purpose).
     */
    readonly kind: 'embedded' | 'dynamodb' | 'redis' | 'memory';
    readonly dataDir: string;
    /** The port `npm run db:serve` gives the engine it serves (`npm start` takes any free one). */
    readonly servePort: number;
    readonly createTables: boolean;
    readonly tables: { readonly sessions: string; readonly users: string };
    readonly consistentReads: boolean;
    readonly region: string;
    readonly endpoint: string | undefined;
    readonly timeoutMs: number;
    readonly maxAttempts: number;
    /** Static credentials for local engines; `undefined` means the AWS default provider chain. */
    readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
    /** Where Redis is, when `kind` is `redis`. */
    readonly redis: RedisSettings | undefined;
    /** Said once at start when the store chosen may not be the one meant (the embedded engine with AWS_REGION set). */
    readonly warning?: string;
  };
  readonly session: {
    readonly idleTimeoutSeconds: number;
    readonly absoluteTimeoutSeconds: number;
    readonly refreshIntervalSeconds: number | undefined;
    readonly reauthenticationWindowSeconds: number;
    /** The most sessions one user may have at once; `undefined`: no limit. */
    readonly maxSessionsPerUser: number | undefined;
    readonly cookieSecure: boolean;
    readonly cookieName: string | undefined;
    readonly dataMaxBytes: number;
    readonly trustedOrigins: readonly string[];
    /** The signed session cache, when on. */
    readonly cache: { readonly ttlSeconds: number; readonly keys: readonly { kid: string; secret: Uint8Array }[] } | undefined;
  };
  readonly passwordHashCost: number;
  /** Words of the service that no new password may be made of (besides the common passwords and the account's own words). */
  readonly passwordServiceWords: readonly string[];
  /** Most password hashes at once: libuv's thread pool less two threads, left for the store's file and DNS work. */
  readonly passwordHashConcurrency: number;
  /** Graceful shutdown: seconds to stay up but not ready after SIGTERM, then seconds allowed for closing. */
  readonly shutdown: { readonly drainSeconds: number; readonly closeTimeoutSeconds: number };
  readonly loginThrottle: {
    readonly maxFailuresPerAccount: number;
    readonly maxFailuresPerAccountTotal: number;
    readonly maxFailuresPerClient: number;
    readonly maxRegistrationsPerClient: number;
    readonly windowSeconds: number;
  };
  readonly log: { readonly level: 'error' | 'warn' | 'log' | 'debug' | 'verbose'; readonly json: boolean; readonly accessLog: boolean; readonly auditLog: boolean };
  /** Prometheus metrics on their own port (not behind the Ingress); undefined: none. */
  readonly metrics: { readonly port: number | undefined; readonly host: string };
}

/** How Kura reaches Redis (`KURA_STORE=redis`). */
export interface RedisSettings {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` (TLS). */
  readonly url: string;
  /** How long one command may take before it counts as failed (ms). */
  readonly timeoutMs: number;
  /** Prepended to every key, so one Redis can serve several deployments. */
  readonly keyPrefix: string;
  /** A Redis Cluster seeded by `url` (`KURA_REDIS_CLUSTER`). */
  readonly cluster?: boolean;
  /** Sentinels naming the master (`KURA_REDIS_SENTINELS`); then `url` gives only user, password and TLS. */
  readonly sentinels?: readonly { host: string; port: number }[];
  readonly masterName?: string;
  /** WAIT for this many replicas after the writes a failover must not undo (`KURA_REDIS_WAIT_REPLICAS`). */
  readonly waitForReplicas?: { replicas: number; timeoutMs: number };
  /**
   * With `rediss://`: PEM files of the authorities to trust instead of Node's list (`KURA_REDIS_TLS_CA_FILE`), and
   * of a client certificate and its key for a server that asks for one (`KURA_REDIS_TLS_CERT_FILE`, `..._KEY_FILE`).
   */
  readonly tls?: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string };
}

/** The configuration could not be used; `problems` lists every one of them. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n- ${problems.join('\n- ')}`);
  }
}

/**
 * One of `values`, and when not, a problem that lists them: zod's own message is a bare "Invalid input", which
 * left `KURA_STORE=dynamo` or `KURA_COOKIE_SECURE=off` to be looked up in the documentation.
 */
const oneOf = <const Values extends readonly [string, ...string[]]>(values: Values) => z.enum(values, { error: `must be one of ${values.join(', ')}` });
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });
const flag = z.pipe(
  oneOf(['true', 'false', '1', '0', 'yes', 'no']),
  z.transform((value) => value === 'true' || value === '1' || value === 'yes'),
);
/**
 * A whole number in [min, max], in decimal digits; anything else (`abc`, `1.5`, `99999` for a port) is said in
 * those words. Blank is not a number: JavaScript reads `' '` as 0, which for `PORT` meant any free port and for
 * `KURA_REDIS_WAIT_REPLICAS` no durable writes, without a word (so are `0x10` and `1e3`, read as 16 and 1000).
 */
const int = (min: number, max: number) => {
  const error = `must be a whole number from ${min} to ${max}`;
  return z.pipe(
    z.string().check(z.regex(/^\s*[-+]?\d+\s*$/, { abort: true, error })),
    z.coerce.number<string>({ error }).check(z.int({ error }), z.minimum(min, { error }), z.maximum(max, { error })),
  );
};
/** Reports a problem from inside a transform (zod/mini's transforms get the parse payload, not classic's `addIssue`). */
const addProblem = (context: z.core.ParsePayload, message: string) => context.issues.push({ code: 'custom', message, input: context.value });
const TRUST_PROXY_FORMS = 'expected false, a hop count, addresses/CIDRs or true';

/** An IPv4 or IPv6 address, optionally with a prefix length: `10.0.0.0/8`, `fd00::/8`, `192.168.1.1`. */
function isAddressOrRange(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

/** A comma-separated value's entries, each trimmed, empty ones left out. */
const commaSeparated = (value: string) => value.split(',').map((entry) => entry.trim()).filter(Boolean);
/** A comma-separated variable checked entry by entry by `list` (a `z.array` of the entries' schema). */
const listOf = <T extends z.ZodMiniType<unknown, string[]>>(list: T) => z.pipe(z.pipe(z.string(), z.transform(commaSeparated)), list);
const trustProxy = z.pipe(z.string(), z.transform((value: string, context): TrustProxy => {
  const keyword = value.trim().toLowerCase();
  if (keyword === 'false' || keyword === '0' || keyword === 'no') return false;
  if (keyword === 'true') return true;
  if (/^\d+$/.test(keyword)) {
    if (Number.isSafeInteger(Number(keyword))) return Number(keyword);
    addProblem(context, `hop count ${keyword} is too large; ${TRUST_PROXY_FORMS}`);
    return z.NEVER;
  }
  const entries = commaSeparated(value);
  const bad = entries.filter((entry) => !isAddressOrRange(entry));
  if (entries.length === 0 || bad.length > 0) {
    const what = bad.length > 0 ? `${bad.map((entry) => `"${entry}"`).join(', ')}: not an IP address or CIDR` : 'no address';
    addProblem(context, `${what}; ${TRUST_PROXY_FORMS}`);
    return z.NEVER;
  }
  return entries;
}));
/**
 * Where to listen: an IP address (`127.0.0.1`, `0.0.0.0`, `::`) or `localhost`. A host name would be resolved
 * only when the server starts listening, and could name another machine: refused here, before anything starts.
 */
const listenAddress = z
  .string()
  .check(z.refine((value) => isIP(value) !== 0 || value === 'localhost', 'must be an IP address to listen on (127.0.0.1, 0.0.0.0, ::) or localhost'));
const port = int(0, 65_535);
const origins = z.pipe(z.string(), z.transform((value: string, context) => {
  const entries = commaSeparated(value);
  for (const entry of entries.filter((origin) => !isOrigin(origin))) {
    addProblem(context, `"${entry}" is not an origin like https://app.example.com (scheme, host and port only)`);
  }
  return entries;
}));
/** A file or folder path: not blank, no control characters. */
const path = (message: string) => z.string().check(z.regex(/^(?=.*\S)[^\u0000-\u001f]+$/, message));
const pemFile = path('must be the path of a PEM file (not blank, no control characters)');
/**
 * `redis://[user:password@]host:port[/db]` or `rediss://`. The host and the database are checked here, since
 * node-redis reads them only when it connects: with no host it connects to localhost, and a database that is not a
 * number (`/kura`) threw inside the connection, so Kura served 503s, never ready, without saying why.
 */
const redisUrl = z.url({ protocol: /^rediss?$/, abort: true, error: 'must be a redis:// or rediss:// URL, like redis://127.0.0.1:6379' }).check(
  z.refine((value) => new URL(value).hostname !== '', 'must name the host: redis://host:6379'),
  z.refine((value) => /^(\/\d{1,5})?\/?$/.test(new URL(value).pathname), 'the path must be a database number (redis://host:6379/2) or nothing'),
);
/** The database a Redis URL names (`/2`), or 0. */
const redisDatabaseOf = (url: string) => Number(new URL(url).pathname.slice(1) || 0);
const tableName = z.string().check(z.regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be 3-255 characters of A-Z a-z 0-9 _ . -'));

/** Every environment variable Kura reads, with its default. The configuration table in docs/configuration.md mirrors this. */
/**
 * How long one DynamoDB call may take before it counts as failed. A remote engine answers in milliseconds, so a
 * second means it is in trouble. The embedded engine runs on this process's own event loop: a burst of logins on a
 * busy machine queues its calls behind Kura's own work (60 concurrent logins with the CPU shared by four busy
 * processes: 18 of 60 timed out at 1 s, none at 5 s), which is slowness, not an outage.
 */
const DYNAMODB_TIMEOUT_MS = 1000;
const EMBEDDED_TIMEOUT_MS = 5000;

const environment = z.object({
  PORT: z._default(port, 3000),
  HOST: z._default(listenAddress, '127.0.0.1'),
  AWS_REGION: z.optional(z.string().check(z.regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be a region name like eu-west-1'))),
  DYNAMODB_ENDPOINT: z.optional(httpUrl),
  KURA_STORE: z.optional(oneOf(['embedded', 'dynamodb', 'redis', 'memory'])),
  REDIS_URL: z.optional(redisUrl),
  KURA_REDIS_TIMEOUT_MS: z._default(int(50, 60_000), 1000),
  // No braces: Redis Cluster hashes the first {…} of a key, and the prefix comes first (see redisKeys).
  KURA_REDIS_KEY_PREFIX: z._default(z.string().check(z.regex(/^[\x21-\x7a|~]{0,64}$/, 'must be at most 64 printable characters, without spaces or braces')), 'kura:'),
  KURA_REDIS_CLUSTER: z._default(flag, false),
  KURA_REDIS_SENTINELS: z.optional(
    z.pipe(
      z.string().check(
        z.regex(/^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/, { abort: true, error: 'must be host:port[,host:port...]' }),
        z.refine((value) => value.split(',').every((node) => Number(node.split(':')[1]) >= 1 && Number(node.split(':')[1]) <= 65_535), 'each port must be from 1 to 65535'),
      ),
      z.transform((value: string) => value.split(',').map((node) => ({ host: node.split(':')[0]!, port: Number(node.split(':')[1]) }))),
    ),
  ),
  KURA_REDIS_SENTINEL_MASTER: z._default(z.string().check(z.regex(/^[\x21-\x7e]{1,128}$/, 'must be a master name as the sentinels know it')), 'mymaster'),
  // Default: 1 with Sentinels (a failover, planned or not, must not undo an acknowledged logout), else 0 (waitReplicas).
  KURA_REDIS_WAIT_REPLICAS: z.optional(int(0, 16)),
  KURA_REDIS_WAIT_TIMEOUT_MS: z._default(int(1, 60_000), 500),
  KURA_REDIS_TLS_CA_FILE: z.optional(pemFile),
  KURA_REDIS_TLS_CERT_FILE: z.optional(pemFile),
  KURA_REDIS_TLS_KEY_FILE: z.optional(pemFile),
  KURA_DATA_DIR: z._default(
    path('must be a folder path (not blank, no control characters)'),
    '.data/dynalite',
  ),
  KURA_CREATE_TABLES: z.optional(flag),
  KURA_SESSIONS_TABLE: z._default(tableName, 'kura-sessions'),
  KURA_USERS_TABLE: z._default(tableName, 'kura-users'),
  KURA_CONSISTENT_READS: z._default(flag, true),
  KURA_DYNAMODB_TIMEOUT_MS: z.optional(int(50, 60_000)), // default: see storeTimeoutMs
  KURA_DYNAMODB_MAX_ATTEMPTS: z._default(int(1, 10), 3),
  KURA_DB_PORT: z._default(port, 8000),
  // 1 s leaves no refresh interval (at least 1 s) shorter than it: the session module would refuse it at start.
  KURA_SESSION_IDLE_TIMEOUT: z._default(int(2, 31_536_000), 1800),
  KURA_SESSION_ABSOLUTE_TIMEOUT: z._default(int(1, 31_536_000), 28_800),
  KURA_SESSION_REFRESH_INTERVAL: z.optional(int(1, 31_536_000)),
  KURA_REAUTH_WINDOW: z._default(int(1, 86_400), 300),
  KURA_MAX_SESSIONS_PER_USER: z.optional(int(1, 100)),
  KURA_SESSION_DATA_LIMIT: z._default(int(64, 350_000), 8192),
  KURA_TRUSTED_ORIGINS: z._default(origins, []),
  KURA_SESSION_CACHE_SECONDS: z._default(int(0, 300), 0),
  KURA_SESSION_CACHE_KEYS: z.optional(
    listOf(
      z.array(z.string().check(z.regex(/^[\w.-]{1,64}:[A-Za-z0-9_-]{43,}$/, 'must be kid:secret pairs, each secret at least 32 bytes of base64url'))).check(
        z.refine((keys) => new Set(keys.map((key) => key.split(':')[0])).size === keys.length, 'a key id is given twice'),
      ),
    ),
  ),
  KURA_COOKIE_SECURE: z._default(flag, true),
  KURA_COOKIE_NAME: z.optional(
    z.string().check(z.refine(isValidCookieName, 'must be a cookie name a browser accepts: letters, digits and !#$%&\'*+-.^_`|~, no spaces or ;')),
  ),
  KURA_PASSWORD_HASH_COST: z._default(int(10, 20), 17),
  KURA_PASSWORD_SERVICE_WORDS: z._default(
    listOf(
      z.array(z.string().check(z.regex(/^[^\u0000-\u001f]{3,64}$/u, 'must be comma-separated words of 3 to 64 characters each'))).check(z.maxLength(100)),
    ),
    ['kura'],
  ),
  UV_THREADPOOL_SIZE: z._default(int(1, 1024), 4), // Node's own; read here only to size password hashing
  // Each counted attempt is an id in one item (400 KB at most): 10,000 keeps every counter well inside it.
  KURA_LOGIN_MAX_FAILURES_PER_ACCOUNT: z._default(int(1, 10_000), 10),
  // Default: 100, or the per-account-and-client limit where that is higher.
  KURA_LOGIN_MAX_FAILURES_PER_ACCOUNT_TOTAL: z.optional(int(1, 10_000)),
  KURA_LOGIN_MAX_FAILURES_PER_CLIENT: z._default(int(1, 10_000), 100),
  KURA_LOGIN_FAILURE_WINDOW: z._default(int(1, 86_400), 900),
  KURA_REGISTRATION_MAX_PER_CLIENT: z._default(int(1, 10_000), 20),
  KURA_SHUTDOWN_DRAIN_SECONDS: z._default(int(0, 120), 5),
  KURA_SHUTDOWN_TIMEOUT_SECONDS: z._default(int(1, 120), 10),
  KURA_BODY_LIMIT: z._default(int(1024, 10_485_760), 16_384),
  // Fastify's 72 s: above the 60 s idle timeout of an ALB and of nginx's upstream keepalive, so the balancer, not
  // Kura, closes an idle connection and never sends a request on one Kura is closing.
  KURA_KEEP_ALIVE_TIMEOUT: z._default(int(1, 4000), 72),
  KURA_TRUST_PROXY: z.optional(trustProxy),
  KURA_DOCS_UI: z._default(flag, true),
  KURA_LOG_LEVEL: z._default(oneOf(['error', 'warn', 'log', 'debug', 'verbose']), 'log'),
  KURA_LOG_FORMAT: z._default(oneOf(['text', 'json']), 'text'),
  KURA_ACCESS_LOG: z._default(flag, true),
  KURA_AUDIT_LOG: z._default(flag, true),
  KURA_METRICS_PORT: z.optional(port), // 0: any free port (tests)
  KURA_METRICS_HOST: z.optional(listenAddress),
  // Read only to tell whether AWS credentials are present (the SDK reads them itself), and checked so that a
  // half-given credential is a configuration problem now rather than "no credentials" at the first request.
  AWS_ACCESS_KEY_ID: z.optional(z.string()),
  AWS_SECRET_ACCESS_KEY: z.optional(z.string()),
  AWS_WEB_IDENTITY_TOKEN_FILE: z.optional(z.string().check(z.refine(isAbsolute, 'must be an absolute path (IRSA mounts the token file)'))),
  AWS_CONTAINER_CREDENTIALS_FULL_URI: z.optional(httpUrl),
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: z.optional(z.string().check(z.startsWith('/', 'must be a path starting with /'))),
});

/** Their presence alone says AWS credentials are there; any value is the SDK's to judge. */
const AWS_CREDENTIAL_HINTS = ['AWS_PROFILE', 'AWS_LAMBDA_FUNCTION_NAME'] as const;
type Environment = z.infer<typeof environment>;

/** The names of every variable {@link loadConfig} validates. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(environment.shape);

/**
 * Variables named like Kura's that it does not read, each said with the setting it is nearest to: a name's typo
 * is otherwise ignored without a word (`KURA_SESION_IDLE_TIMEOUT=60` left the idle timeout at 30 minutes: an
 * outside review, 2026-12-07). Warnings, not refusals: the variables Kubernetes sets for a Service named kura
 * (`KURA_SERVICE_HOST`, `KURA_PORT_8080_TCP_ADDR`, ...) are left out, and others' tools may share the prefix. Those
 * of Kura's own build and tests are not named either.
 */
export function unknownVariables(source: Readonly<Record<string, string | undefined>>): string[] {
  const known = new Set(CONFIG_VARIABLES);
  return Object.keys(source)
    .filter((name) => name.toUpperCase().startsWith('KURA_') && !known.has(name) && !NOT_SETTINGS.test(name) && !isServiceLink(name, source[name]))
    .sort()
    .map((name) => {
      const nearest = nearestSetting(name.toUpperCase());
      return `${name} is not one of Kura's settings, so it is ignored${nearest ? `: did you mean ${nearest}?` : ' (docs/configuration.md lists them)'}`;
    });
}

/**
 * The setting a name most likely meant: the same without the prefix (KURA_REDIS_URL for REDIS_URL, KURA_HOST for
 * HOST), one it extends with a unit (KURA_SESSION_IDLE_TIMEOUT_SECONDS), or one within 3 edits (a typo).
 */
function nearestSetting(name: string): string | undefined {
  const bare = name.slice('KURA_'.length);
  if (CONFIG_VARIABLES.includes(bare)) return bare;
  const extended = CONFIG_VARIABLES.filter((setting) => name.startsWith(`${setting}_`)).sort((a, b) => b.length - a.length)[0];
  if (extended) return extended;
  const nearest = CONFIG_VARIABLES.map((setting) => ({ setting, distance: editDistance(name, setting) })).sort((a, b) => a.distance - b.distance)[0];
  return nearest && nearest.distance <= 3 ? nearest.setting : undefined;
}

/**
 * Kura's own build and tests' variables, and kura-check's (KURA_CHECK_REPLICA, set on every replica it starts).
 * Kubernetes' service links for a Service named kura are left out too (`KURA_SERVICE_HOST`, `KURA_PORT_80_TCP`; a bare
 * `KURA_PORT` only with a `tcp://` value, isServiceLink: `KURA_PORT=3000` is a setting misnamed, PORT).
 */
const NOT_SETTINGS = /^KURA_(SERVICE_HOST|SERVICE_PORT(_\w+)?|PORT_\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?|COMPILE_CACHE\w*|RECORD_\w+|TEST_\w+|CHECK_\w+)$/;

/**
 * A variable Kubernetes sets for a Service whose name begins kura- (kura-api, kura-redis), in the pods of its
 * namespace: `KURA_API_SERVICE_HOST`, `KURA_REDIS_SERVICE_PORT(_name)`, `KURA_REDIS_PORT_6379_TCP(_ADDR…)`, and
 * `KURA_REDIS_PORT` with a value `tcp://…` (a review found each warned of, and KURA_API_PORT said to mean KURA_DB_PORT).
 */
function isServiceLink(name: string, value: string | undefined): boolean {
  return /_SERVICE_HOST$|_SERVICE_PORT(_\w+)?$|_PORT_\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?$/.test(name) || (/_PORT$/.test(name) && /^(tcp|udp|sctp):\/\//.test(value ?? ''));
}

/**
 * Why a setting holds `tcp://10.0.0.4:9464`: Kubernetes sets `<SERVICE>_PORT` so in every pod of a namespace with a
 * Service of that name (kura-metrics, kura-db), and the setting then refused it with no word of where it came from (a
 * review, 2026-12-07).
 */
function serviceLinkNote(name: string, value: string | undefined): string {
  if (!/_PORT$/.test(name) || !/^(tcp|udp|sctp):\/\//.test(value ?? '')) return '';
  const service = name.replace(/_PORT$/, '').toLowerCase().replaceAll('_', '-');
  return ` (${value} is what Kubernetes sets for a Service named ${service} in the namespace: rename that Service, or set enableServiceLinks: false in the pod's spec)`;
}

/** Levenshtein's distance between two names (a typo's is 1 or 2). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

const hasAwsCredentials = (env: Environment, present: Readonly<Record<string, unknown>>) =>
  Boolean(
    env.AWS_ACCESS_KEY_ID ||
      env.AWS_WEB_IDENTITY_TOKEN_FILE ||
      env.AWS_CONTAINER_CREDENTIALS_FULL_URI ||
      env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI ||
      AWS_CREDENTIAL_HINTS.some((name) => present[name] !== undefined),
  );

/**
 * Validates the environment once and returns the typed configuration, or throws a {@link ConfigError}
 * that lists every problem. Empty strings count as unset.
 */
export function loadConfig(source: Readonly<Record<string, string | undefined>>): AppConfig {
  const present = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = environment.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}${serviceLinkNote(String(issue.path[0]), present[String(issue.path[0])])}`));
  }
  const env = parsed.data;
  const problems = crossCheck(env, present);
  if (problems.length > 0) throw new ConfigError(problems);

  const kind = env.KURA_STORE ?? (env.REDIS_URL ? 'redis' : env.DYNAMODB_ENDPOINT || hasAwsCredentials(env, present) ? 'dynamodb' : 'embedded');
  const local = kind === 'embedded' || env.DYNAMODB_ENDPOINT !== undefined;
  const redisTls = redisTlsFiles(env);
  return {
    http: {
      host: env.HOST,
      port: env.PORT,
      bodyLimitBytes: env.KURA_BODY_LIMIT,
      keepAliveTimeoutSeconds: env.KURA_KEEP_ALIVE_TIMEOUT,
      docsUi: env.KURA_DOCS_UI,
      trustProxy: env.KURA_TRUST_PROXY ?? false,
    },
    store: {
      kind,
      dataDir: env.KURA_DATA_DIR,
      servePort: env.KURA_DB_PORT,
      createTables: env.KURA_CREATE_TABLES ?? kind === 'embedded',
      tables: { sessions: env.KURA_SESSIONS_TABLE, users: env.KURA_USERS_TABLE },
      consistentReads: env.KURA_CONSISTENT_READS,
      region: env.AWS_REGION ?? 'us-east-1',
      endpoint: env.DYNAMODB_ENDPOINT,
      timeoutMs: env.KURA_DYNAMODB_TIMEOUT_MS ?? (kind === 'embedded' ? EMBEDDED_TIMEOUT_MS : DYNAMODB_TIMEOUT_MS),
      maxAttempts: env.KURA_DYNAMODB_MAX_ATTEMPTS,
      credentials: local ? localCredentials(env) : undefined,
      redis:
        kind === 'redis' && env.REDIS_URL
          ? {
              url: env.REDIS_URL,
              timeoutMs: env.KURA_REDIS_TIMEOUT_MS,
              keyPrefix: env.KURA_REDIS_KEY_PREFIX,
              cluster: env.KURA_REDIS_CLUSTER,
              ...(env.KURA_REDIS_SENTINELS ? { sentinels: env.KURA_REDIS_SENTINELS, masterName: env.KURA_REDIS_SENTINEL_MASTER } : {}),
              waitForReplicas: { replicas: waitReplicas(env), timeoutMs: env.KURA_REDIS_WAIT_TIMEOUT_MS },
              ...(redisTls ? { tls: redisTls } : {}),
            }
          : undefined,
      // AWS_REGION without credentials in the environment: the SDK may still find some (a profile file, SSO, an
      // instance role), but the choice is not guessed from files or the network. Sessions in this process alone
      // are what Kura exists to avoid, so say so.
      ...(kind === 'embedded' && !env.KURA_STORE && env.AWS_REGION
        ? {
            warning:
              'AWS_REGION is set but no AWS credentials are in the environment: using the embedded engine, whose sessions live on this machine only. ' +
              'For DynamoDB with the SDK’s own credentials (a profile, SSO, an instance role), set KURA_STORE=dynamodb',
          }
        : {}),
    },
    session: {
      idleTimeoutSeconds: env.KURA_SESSION_IDLE_TIMEOUT,
      absoluteTimeoutSeconds: env.KURA_SESSION_ABSOLUTE_TIMEOUT,
      refreshIntervalSeconds: env.KURA_SESSION_REFRESH_INTERVAL,
      reauthenticationWindowSeconds: env.KURA_REAUTH_WINDOW,
      maxSessionsPerUser: env.KURA_MAX_SESSIONS_PER_USER,
      cookieSecure: env.KURA_COOKIE_SECURE,
      cookieName: env.KURA_COOKIE_NAME,
      dataMaxBytes: env.KURA_SESSION_DATA_LIMIT,
      trustedOrigins: env.KURA_TRUSTED_ORIGINS,
      cache:
        env.KURA_SESSION_CACHE_SECONDS > 0
          ? {
              ttlSeconds: env.KURA_SESSION_CACHE_SECONDS,
              keys: cacheKeysOf(env),
            }
          : undefined,
    },
    passwordHashCost: env.KURA_PASSWORD_HASH_COST,
    passwordServiceWords: env.KURA_PASSWORD_SERVICE_WORDS,
    // Leave two pool threads to the store's calls and one core to serving: a login burst must not starve either.
    passwordHashConcurrency: Math.max(1, Math.min(env.UV_THREADPOOL_SIZE - 2, availableParallelism() - 1)),
    shutdown: { drainSeconds: env.KURA_SHUTDOWN_DRAIN_SECONDS, closeTimeoutSeconds: env.KURA_SHUTDOWN_TIMEOUT_SECONDS },
    loginThrottle: {
      maxFailuresPerAccount: env.KURA_LOGIN_MAX_FAILURES_PER_ACCOUNT,
      maxFailuresPerAccountTotal: env.KURA_LOGIN_MAX_FAILURES_PER_ACCOUNT_TOTAL ?? Math.max(100, env.KURA_LOGIN_MAX_FAILURES_PER_ACCOUNT),
      maxFailuresPerClient: env.KURA_LOGIN_MAX_FAILURES_PER_CLIENT,
      maxRegistrationsPerClient: env.KURA_REGISTRATION_MAX_PER_CLIENT,
      windowSeconds: env.KURA_LOGIN_FAILURE_WINDOW,
    },
    log: { level: env.KURA_LOG_LEVEL, json: env.KURA_LOG_FORMAT === 'json', accessLog: env.KURA_ACCESS_LOG, auditLog: env.KURA_AUDIT_LOG },
    metrics: { port: env.KURA_METRICS_PORT, host: env.KURA_METRICS_HOST ?? env.HOST },
  };
}

/** The TLS files given for Redis, or `undefined` when none is. */
function redisTlsFiles(env: Environment): RedisSettings['tls'] {
  const files = {
    ...(env.KURA_REDIS_TLS_CA_FILE ? { caFile: env.KURA_REDIS_TLS_CA_FILE } : {}),
    ...(env.KURA_REDIS_TLS_CERT_FILE ? { certFile: env.KURA_REDIS_TLS_CERT_FILE } : {}),
    ...(env.KURA_REDIS_TLS_KEY_FILE ? { keyFile: env.KURA_REDIS_TLS_KEY_FILE } : {}),
  };
  return Object.keys(files).length > 0 ? files : undefined;
}

/** `KURA_SESSION_CACHE_KEYS`'s `kid:secret` pairs (checked by its schema), each secret's base64url decoded. */
function cacheKeysOf(env: Environment): { kid: string; secret: Uint8Array }[] {
  return (env.KURA_SESSION_CACHE_KEYS ?? []).map((entry) => {
    const [kid, secret] = entry.split(':') as [string, string];
    return { kid, secret: new Uint8Array(Buffer.from(secret, 'base64url')) };
  });
}

/** Local engines accept any credentials; the SDK still needs some to sign with. */
function localCredentials(env: Environment) {
  return env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
    ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY }
    : { accessKeyId: 'kuralocal', secretAccessKey: 'kuralocal' };
}

function crossCheck(env: Environment, present: Readonly<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  if (env.KURA_STORE === 'dynamodb' && !env.DYNAMODB_ENDPOINT && !env.AWS_REGION) {
    problems.push('KURA_STORE=dynamodb needs DYNAMODB_ENDPOINT or AWS_REGION');
  }
  // AWS chosen by credentials alone gets no region guessed either: us-east-1 overrode the region of AWS_PROFILE's
  // own configuration, so `AWS_PROFILE=prod npm run db:init` made the tables in us-east-1.
  if (!env.KURA_STORE && !env.REDIS_URL && !env.DYNAMODB_ENDPOINT && !env.AWS_REGION && hasAwsCredentials(env, present)) {
    problems.push('AWS credentials in the environment choose AWS DynamoDB, which needs AWS_REGION (eu-west-1, …): set it, or DYNAMODB_ENDPOINT for a local engine');
  }
  if (env.KURA_STORE === 'redis' && !env.REDIS_URL) problems.push('KURA_STORE=redis needs REDIS_URL (redis://host:6379 or rediss://...)');
  if (env.KURA_REDIS_CLUSTER && env.KURA_REDIS_SENTINELS) problems.push('KURA_REDIS_CLUSTER and KURA_REDIS_SENTINELS exclude each other');
  // Neither uses the URL's database: a cluster has only database 0, and the sentinels' master is reached with the
  // URL's user, password and scheme only. Kura's keys would land in database 0, beside whatever another deployment
  // keeps there under the same prefix.
  const database = env.REDIS_URL ? redisDatabaseOf(env.REDIS_URL) : 0;
  if (database !== 0 && (env.KURA_REDIS_CLUSTER || env.KURA_REDIS_SENTINELS)) {
    const why = env.KURA_REDIS_CLUSTER ? 'KURA_REDIS_CLUSTER (a cluster has only database 0)' : 'KURA_REDIS_SENTINELS (only its user, password and scheme are used)';
    problems.push(`REDIS_URL names database ${database}, which is not used with ${why}: remove /${database}, or separate deployments with KURA_REDIS_KEY_PREFIX`);
  }
  for (const variable of ['KURA_REDIS_TLS_CA_FILE', 'KURA_REDIS_TLS_CERT_FILE', 'KURA_REDIS_TLS_KEY_FILE'] as const) {
    if (env[variable] && !env.REDIS_URL?.startsWith('rediss://')) problems.push(`${variable} needs a rediss:// REDIS_URL (TLS)`);
  }
  if (env.KURA_REDIS_TLS_CERT_FILE && !env.KURA_REDIS_TLS_KEY_FILE) problems.push('KURA_REDIS_TLS_CERT_FILE needs KURA_REDIS_TLS_KEY_FILE, its key');
  if (env.KURA_REDIS_TLS_KEY_FILE && !env.KURA_REDIS_TLS_CERT_FILE) problems.push('KURA_REDIS_TLS_KEY_FILE needs KURA_REDIS_TLS_CERT_FILE, its certificate');
  if (waitReplicas(env) > 0 && env.KURA_REDIS_WAIT_TIMEOUT_MS >= env.KURA_REDIS_TIMEOUT_MS) {
    problems.push('KURA_REDIS_WAIT_TIMEOUT_MS must be shorter than KURA_REDIS_TIMEOUT_MS (a durable write is bounded by both)');
  }
  if (env.REDIS_URL && env.DYNAMODB_ENDPOINT && !env.KURA_STORE) {
    problems.push('both REDIS_URL and DYNAMODB_ENDPOINT are set: choose with KURA_STORE=redis or KURA_STORE=dynamodb');
  }
  if (env.KURA_STORE === 'embedded' && env.DYNAMODB_ENDPOINT) {
    problems.push('KURA_STORE=embedded starts its own engine: unset DYNAMODB_ENDPOINT or choose KURA_STORE=dynamodb');
  }
  // One table cannot be keyed both ways (sessions by id, accounts by email): every call to one of them would fail.
  const usesTables = !['redis', 'memory'].includes(env.KURA_STORE ?? (env.REDIS_URL ? 'redis' : 'dynamodb'));
  if (usesTables && env.KURA_SESSIONS_TABLE === env.KURA_USERS_TABLE) {
    problems.push(`KURA_SESSIONS_TABLE and KURA_USERS_TABLE are both ${env.KURA_SESSIONS_TABLE}: sessions and accounts need tables of their own (keyed by id and by email)`);
  }
  if (env.KURA_SESSION_ABSOLUTE_TIMEOUT < env.KURA_SESSION_IDLE_TIMEOUT) {
    problems.push('KURA_SESSION_ABSOLUTE_TIMEOUT must not be shorter than KURA_SESSION_IDLE_TIMEOUT');
  }
  if (env.KURA_SESSION_REFRESH_INTERVAL !== undefined && env.KURA_SESSION_REFRESH_INTERVAL >= env.KURA_SESSION_IDLE_TIMEOUT) {
    problems.push('KURA_SESSION_REFRESH_INTERVAL must be shorter than KURA_SESSION_IDLE_TIMEOUT');
  }
  if (env.KURA_MAX_SESSIONS_PER_USER !== undefined && !env.KURA_CONSISTENT_READS) {
    // The limit reads the user's sessions to choose which to end: an eventually consistent read can miss a login
    // of the last second, which would then be ended as gone.
    problems.push('KURA_MAX_SESSIONS_PER_USER needs KURA_CONSISTENT_READS=true (the default): the limit must see every session it counts');
  }
  if (env.KURA_SESSION_CACHE_SECONDS > 0 && !env.KURA_SESSION_CACHE_KEYS?.length) {
    problems.push('KURA_SESSION_CACHE_SECONDS needs KURA_SESSION_CACHE_KEYS (kid:secret, the first one signs)');
  }
  for (const { kid, secret } of cacheKeysOf(env)) {
    const weak = cacheKeySecretProblem(secret);
    if (weak) problems.push(`KURA_SESSION_CACHE_KEYS: the secret of ${kid} ${weak}`);
  }
  // As @kura/session refuses it (cache.ttlSeconds): requests the cache answers do not extend a session, so a window
  // that with the refresh interval outlasts the idle timeout logs out users active on cached routes only.
  const refresh = refreshIntervalSecondsFor(env.KURA_SESSION_IDLE_TIMEOUT, env.KURA_SESSION_REFRESH_INTERVAL);
  if (env.KURA_SESSION_CACHE_SECONDS > 0 && env.KURA_SESSION_CACHE_SECONDS + refresh > env.KURA_SESSION_IDLE_TIMEOUT) {
    problems.push(
      `KURA_SESSION_CACHE_SECONDS (${env.KURA_SESSION_CACHE_SECONDS}) plus the refresh interval (${refresh} s) must not exceed KURA_SESSION_IDLE_TIMEOUT (${env.KURA_SESSION_IDLE_TIMEOUT}): requests the cache answers do not extend a session, so users active on cached routes only would be logged out`,
    );
  }
  if (env.KURA_LOGIN_MAX_FAILURES_PER_ACCOUNT_TOTAL !== undefined && env.KURA_LOGIN_MAX_FAILURES_PER_ACCOUNT_TOTAL < env.KURA_LOGIN_MAX_FAILURES_PER_ACCOUNT) {
    problems.push('KURA_LOGIN_MAX_FAILURES_PER_ACCOUNT_TOTAL must not be lower than KURA_LOGIN_MAX_FAILURES_PER_ACCOUNT (one address would lock the account out for everyone)');
  }
  if (env.AWS_ACCESS_KEY_ID && !env.AWS_SECRET_ACCESS_KEY) problems.push('AWS_ACCESS_KEY_ID needs AWS_SECRET_ACCESS_KEY');
  if (env.AWS_SECRET_ACCESS_KEY && !env.AWS_ACCESS_KEY_ID) problems.push('AWS_SECRET_ACCESS_KEY needs AWS_ACCESS_KEY_ID');
  if (env.KURA_METRICS_PORT !== undefined && env.KURA_METRICS_PORT !== 0 && env.KURA_METRICS_PORT === env.PORT) {
    problems.push(`KURA_METRICS_PORT must differ from PORT (${env.PORT}): metrics are served on a port of their own`);
  }
  const cookieName = env.KURA_COOKIE_NAME;
  if (cookieName && /^__(host|secure)-/i.test(cookieName) && !env.KURA_COOKIE_SECURE) {
    problems.push('KURA_COOKIE_NAME with a __Host- or __Secure- prefix needs KURA_COOKIE_SECURE=true');
  }
  return problems;
}

/**
 * How many replicas a durable write waits for (`KURA_REDIS_WAIT_REPLICAS`). With Sentinels, 1 unless set: there is a
 * replica to promote, and without WAIT any failover, a planned `SENTINEL FAILOVER` too, undoes the logouts and
 * password changes the old master took last (an outside review undid 14 and 36 in two planned failovers under load).
 */
function waitReplicas(env: { readonly KURA_REDIS_WAIT_REPLICAS?: number; readonly KURA_REDIS_SENTINELS?: unknown }): number {
  return env.KURA_REDIS_WAIT_REPLICAS ?? (env.KURA_REDIS_SENTINELS ? 1 : 0);
}
