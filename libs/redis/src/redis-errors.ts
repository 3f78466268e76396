import { RequestDeadlineError, StoreUnavailableError } from '@kura/common';

const NOT_CONNECTED = 'Redis is not connected';
const RECONNECTING = 'the client reconnects in the background; commands are not queued meanwhile';

/** Whether `error` says the client has no connection now (node-redis's offline or closed errors, or our own). */
function isNotConnected(name: string, message: string): boolean {
  return name === 'ClientOfflineError' || name === 'ClientClosedError' || /offline|closed/i.test(message);
}

/** The classes of an error Redis answered: node-redis's (SimpleError and BlobError are ErrorReply's), ioredis's. */
const REPLY_ERRORS = new Set(['ErrorReply', 'SimpleError', 'BlobError', 'ReplyError']);

/** One line an operator can act on, from what node-redis or the socket threw; no address, no secret. */
function reasonOf(error: unknown): string {
  const name = error instanceof Error ? error.constructor.name || error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | undefined)?.code;
  if (error instanceof RequestDeadlineError) return error.message;
  if (error instanceof ReplicaAckError) {
    return `only ${error.acknowledged} of ${error.required} replica(s) confirmed the write within ${error.timeoutMs} ms, so it might not survive a failover (retrying is safe)`;
  }
  if (error instanceof RedisNotConnectedError) return `${NOT_CONNECTED} (${RECONNECTING}); ${connectFailureOf(error.cause)}`;
  if (/^NOPERM/.test(message)) return `Redis's ACL refused a command to this user: ${firstLine(message)} (see the ACL Kura needs in its Redis docs)`;
  // Inside a script Redis 7.0 and Valkey 8 refuse with ERR, and only Valkey names the command; ACL LOG names it on both.
  const inScript = /^ERR (ACL failure in script: |(?=The user executing the script ))(.*?)(?: script: \w+, on @user_script:\d+\.)?$/m.exec(message);
  if (inScript) return `Redis's ACL refused this user a command one of Kura's scripts runs: ${inScript[2]!.slice(0, 200)} (ACL LOG names it; see the ACL Kura needs in its Redis docs)`;
  if (/^NOAUTH|^WRONGPASS/.test(message)) return 'Redis refused the credentials (check the user and password in the connection URL)';
  // ioredis's and node-redis's own refusals while slots move (before "closed" below: ioredis names the last error).
  if (/^Too many Cluster redirections/.test(message)) return 'Redis Cluster redirected the command more times than the client follows (slots are moving, or a node left): retrying is safe';
  if (/^Cannot find node /.test(message)) return 'Redis Cluster redirected the command to a node the client does not know yet (a slot is moving to a new master): retrying is safe';
  if (isNotConnected(name, message)) return `${NOT_CONNECTED} (${RECONNECTING})`;
  // Before the command timeout's test below, whose /timeout/ its message ("Connection timeout") matches too: a connect
  // that timed out was said as a command Redis did not answer.
  if (name === 'ConnectionTimeoutError') return 'Redis could not be reached within the connect timeout';
  if (name === 'TimeoutError' || name === 'CommandTimeoutDuringMaintenanceError' || /timeout/i.test(message)) {
    return 'Redis did not answer within the command timeout';
  }
  if (typeof code === 'string') {
    if (/^ERR_SSL_.*(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|HANDSHAKE_FAILURE)/.test(code)) {
      return `Redis refused the TLS handshake (${code}): it asks for a client certificate it trusts`;
    }
    if (code === 'CERT_HAS_EXPIRED') return `Redis's TLS certificate was not accepted (${code}): it has expired, so Redis must be given a renewed one`;
    if (code === 'CERT_NOT_YET_VALID') return `Redis's TLS certificate was not accepted (${code}): it is not valid yet (check this machine's clock, or wait for its start date)`;
    if (/CERT|SELF_SIGNED|UNABLE_TO_(VERIFY|GET_ISSUER)/.test(code)) {
      return `Redis's TLS certificate was not accepted (${code}): trust the authority that signed it, and use a host name the certificate names`;
    }
    if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') return `the TLS handshake with Redis failed (${code}): a port that speaks plain TCP needs a redis:// URL`;
    if (code.startsWith('ERR_SSL')) return `the TLS handshake with Redis failed (${code})`;
    if (code === 'ECONNRESET') return 'the connection to Redis was reset (ECONNRESET)';
    if (code === 'ECONNREFUSED') return "nothing accepts connections at the address tried (connection refused): the URL's host and port, or a node the sentinels or the cluster named";
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `the host name in the URL does not resolve (${code})`;
  }
  if (/^OOM/.test(message)) return 'Redis is out of memory (maxmemory reached)';
  // A Sentinel asked for a master it does not monitor (node-redis's sentinel client, a wrong masterName).
  if (/No such master with that name/.test(message)) return "the sentinels know no master by that name (masterName, KURA_REDIS_SENTINEL_MASTER): SENTINEL MASTERS on a sentinel lists theirs";
  if (/^READONLY/.test(message)) return 'Redis answered from a read-only replica (a failover is under way, or the URL names a replica)';
  if (/^LOADING/.test(message)) return 'Redis is still loading its dataset';
  if (/^CROSSSLOT|^MOVED|^ASK/.test(message)) return 'Redis Cluster redirected a command: use a cluster-aware client';
  // Any other error Redis itself answered (REPLY_ERRORS): Redis is reachable, so "could not be reached" would send
  // an operator to the network (an outside review, 2026-12-07: a WRONGTYPE).
  const refusal = refusalOf(message);
  if (refusal) return refusal;
  if (REPLY_ERRORS.has(name)) return `Redis answered an error Kura does not expect: ${firstLine(message)}`;
  return 'the store could not be reached';
}

/**
 * What Redis answered, where it answered with a refusal of its own (a setting or a state of the server, not an
 * outage): each names the setting to look at. Redis is reachable then, so "could not be reached" would mislead.
 */
function refusalOf(message: string): string | undefined {
  if (/^ERR max (number of )?clients reached/i.test(message)) {
    return 'Redis refused the connection: it has reached its maxclients limit (raise maxclients, or find the clients holding connections: CLIENT LIST)';
  }
  if (/^NOREPLICAS/.test(message)) {
    return 'Redis refuses writes: fewer replicas are connected and in sync than its min-replicas-to-write asks (check the replicas, or min-replicas-to-write and min-replicas-max-lag)';
  }
  if (/^MISCONF/.test(message)) {
    return "Redis refuses writes: its last snapshot to disk failed and stop-writes-on-bgsave-error is on (Redis's log says why: the disk, or its dir)";
  }
  if (/^BUSY/.test(message)) {
    return 'Redis is busy running a script or function past busy-reply-threshold and answers nothing else until it ends (SCRIPT KILL or FUNCTION KILL stops one that wrote nothing)';
  }
  if (/^CLUSTERDOWN/.test(message)) {
    return 'Redis Cluster refuses commands while it is down (CLUSTERDOWN): a master failed with no replica promoted yet, or a slot has no master (CLUSTER INFO and CLUSTER NODES say which)';
  }
  if (/^WRONGTYPE/.test(message)) {
    return "Redis holds a key of another type where Kura keeps one of its own (WRONGTYPE): another app writes under Kura's key prefix (give each its own, KURA_REDIS_KEY_PREFIX)";
  }
  if (/^MASTERDOWN/.test(message)) {
    return 'Redis answered from a replica that lost its master and serves no stale data (replica-serve-stale-data no): point the URL at the master';
  }
  // Redis 7 and Valkey quote the name with '…', Redis 6 with `…` (and says "from Lua script" inside one).
  const unknown = /^ERR unknown command ['`]([^'`]*)['`]/i.exec(message);
  if (unknown || /^ERR .*Unknown (Redis )?command called from (Lua )?script/i.test(message)) {
    const command = unknown ? `the command ${unknown[1]!.toUpperCase()}` : "a command one of Kura's scripts calls";
    return `Redis does not know ${command}: it is renamed or disabled (rename-command), or Redis is older than 7.0 (Kura needs every command of the ACL in its Redis docs)`;
  }
  return undefined;
}

/**
 * A Redis at its maxclients limit writes its refusal and closes the connection at once: a client that sent no AUTH
 * (no password in the URL) reads it as the reply to its greeting, which node-redis drops, and sees only the close.
 */
const AT_MAXCLIENTS = '; so does a Redis at its maxclients limit, to a client that sends no password';

/** Why the last connection attempt failed, as `reasonOf` words it, without repeating that Redis is not connected. */
function connectFailureOf(failure: unknown): string {
  if (failure instanceof DroppedConnectionError) {
    return "the connection was closed after it was up, by Redis (its timeout for idle clients, CLIENT KILL, a restart or a failover) or the network; the client is connecting again";
  }
  if (failure instanceof TlsUnansweredError) {
    return "the last attempt (TLS) got no answer within the connect timeout: nothing answering at that address (a firewall dropping packets, a host down), or a port of plain Redis, which answers no TLS handshake (is the URL meant to be redis://?)";
  }
  if (failure instanceof TlsCutOffError) {
    return `the last attempt was cut off as its TLS connection opened (a Redis that asks for a client certificate does that when it gets none it trusts: give one and its key, tls.cert and tls.key, or KURA_REDIS_TLS_CERT_FILE and KURA_REDIS_TLS_KEY_FILE${AT_MAXCLIENTS})`;
  }
  const cause = unwrapped(failure);
  if (isCutOff(cause)) {
    return `the last attempt was cut off as it opened (a server that takes only TLS does that to plain connections: is the URL rediss://?${AT_MAXCLIENTS})`;
  }
  const reason = reasonOf(cause);
  return reason.startsWith(NOT_CONNECTED) ? 'the last attempt did not connect' : `the last attempt failed: ${reason}`;
}

/** node-redis's Sentinel client wraps a node's error in a plain Error naming the node: the reason is the cause's. */
function unwrapped(error: unknown): unknown {
  while (error instanceof Error && error.constructor === Error && error.cause !== undefined) error = error.cause;
  return error;
}

/** A connection the server closed or reset before it was ready. */
function isCutOff(error: unknown): boolean {
  return (error instanceof Error && error.constructor.name === 'SocketClosedUnexpectedlyError') || (error as { code?: unknown } | undefined)?.code === 'ECONNRESET';
}

/**
 * A TLS connection cut off as it opened. With TLS 1.3 the client's handshake ends before the server checks the
 * client's certificate; Redis then sends an alert and closes. node-redis 5 reported the alert
 * (`ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED`), node-redis 6 only the closed socket.
 */
class TlsCutOffError extends Error {
  constructor(cause: unknown) {
    super('The TLS connection to Redis was cut off as it opened', { cause });
  }
}

/**
 * A TLS connection that got no answer in time: what a rediss:// URL to a port of plain Redis gets, which reads the
 * TLS greeting as a command still arriving (a newcomer's review: "not connected", no reason given), and what an
 * address nothing answers at gets (node-redis's connect timeout covers both the TCP connect and the handshake).
 */
class TlsUnansweredError extends Error {
  constructor(cause: unknown) {
    super('The TLS handshake with Redis got no answer', { cause });
  }
}

/** A connection that was up (ready) until Redis or the network closed or reset it: not a failed attempt. */
class DroppedConnectionError extends Error {
  constructor(cause: unknown) {
    super('The connection to Redis was closed after it was up', { cause });
  }
}

const firstLine = (text: string) => text.split('\n', 1)[0]!.slice(0, 200);

/** Any failure to use Redis, as the domain error every store throws. */
export function storeUnavailable(operation: string, error: unknown): StoreUnavailableError {
  if (error instanceof StoreUnavailableError) return error;
  return new StoreUnavailableError(operation, { cause: error, reason: reasonOf(error) });
}

/**
 * Whether this connection may not send the command at all: the user's ACL does not allow it (`NOPERM`), or the server
 * renamed or disabled it (`rename-command`, which hardened servers do to `INFO` and `CONFIG`). Sending it again
 * changes nothing.
 */
export function isCommandUnavailable(error: unknown): boolean {
  return error instanceof Error && /^(NOPERM|ERR unknown command )/i.test(error.message);
}

/** A durable write that fewer replicas than required acknowledged within the WAIT timeout. */
export class ReplicaAckError extends Error {
  constructor(
    readonly acknowledged: number,
    readonly required: number,
    readonly timeoutMs: number,
  ) {
    super(`WAIT: ${acknowledged} of ${required} replica(s) acknowledged the write within ${timeoutMs} ms`);
  }
}

/** A command refused because the client is not connected, with why its last attempt to connect failed. */
export class RedisNotConnectedError extends Error {
  constructor(cause: unknown) {
    super('Redis is not connected', { cause });
  }
}

/**
 * Why each client or connection last failed to connect, so that a command refused meanwhile can say why (wrong
 * password, a certificate not trusted, nothing listening) instead of only "not connected". Keyed by the object
 * the stores are given; forgotten once it connects.
 */
const connectFailures = new WeakMap<object, unknown>();

/** Records (or, with `undefined`, forgets) why `owner` last failed to connect (`overTls`: over a rediss:// URL). */
export function noteConnectFailure(owner: object, error: unknown, overTls = false, wasUp = false): void {
  if (error === undefined) connectFailures.delete(owner);
  // A connection closed once it was up is not an attempt cut off as it opened: said as "cut off", an idle client
  // closed by Redis's timeout, or a CLIENT KILL, sent the operator to check rediss:// and maxclients (an outside
  // review, 2026-12-07). The next failed attempt, if any, says why that one failed.
  else if (wasUp && isCutOff(unwrapped(error))) connectFailures.set(owner, new DroppedConnectionError(error));
  else if (overTls && isCutOff(unwrapped(error))) connectFailures.set(owner, new TlsCutOffError(error));
  // A plain Redis reads the TLS greeting as a command still arriving and answers nothing: the connect times out.
  else if (overTls && (unwrapped(error) as Error | undefined)?.constructor?.name === 'ConnectionTimeoutError') connectFailures.set(owner, new TlsUnansweredError(error));
  else connectFailures.set(owner, error);
}

/**
 * `error` as the stores should see it: a "not connected" refusal from `owner` carries the reason its last
 * connection attempt failed, when one is known; anything else is returned as it is.
 */
export function withConnectFailure(owner: object, error: unknown): unknown {
  const failure = connectFailures.get(owner);
  if (failure === undefined || !(error instanceof Error) || !isNotConnected(error.constructor.name || error.name, error.message)) return error;
  return new RedisNotConnectedError(failure);
}
