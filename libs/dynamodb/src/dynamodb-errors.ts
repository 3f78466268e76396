import { StoreUnavailableError } from '@kura/common';

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'LimitExceededException',
]);
const CREDENTIALS_REFUSED = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'MissingAuthenticationTokenException',
]);

export function isConditionalCheckFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/**
 * DynamoDB refused a write that would take an item past 400 KB (`Item size has exceeded the maximum allowed size`,
 * `Item size to update has exceeded …`), as thrown or seen through the `StoreUnavailableError` the adapter wraps it in. Only its message tells it from
 * other ValidationExceptions.
 */
export function isItemTooLarge(error: unknown): boolean {
  const cause = error instanceof StoreUnavailableError ? error.cause : error;
  return cause instanceof Error && cause.name === 'ValidationException' && /item size.*exceeded|maximum allowed size/i.test(cause.message);
}

/**
 * Every failure the adapter does not turn into a domain answer becomes `StoreUnavailableError`: network
 * errors, timeouts, throttling after the SDK's retries, server errors, a missing table. The store could not
 * decide, so nothing may be treated as absent or denied. Its `reason` says why in one line (`table`, when
 * given, names the table the call was on).
 */
export function storeUnavailable(operation: string, error: unknown, table?: string, wording: StoreErrorWording = LIBRARY_WORDING): StoreUnavailableError {
  if (error instanceof StoreUnavailableError) return error;
  const throttled = error instanceof Error && THROTTLING.has(error.name);
  return new StoreUnavailableError(operation, { cause: error, retryAfterSeconds: throttled ? 2 : 1, reason: reasonFor(error, table, wording) });
}

/**
 * How a reason names its remedies. An app's own stores name this package's functions and options (the default);
 * the Kura service speaks of its own command and environment (`KURA_SERVICE_WORDING`), and a library built on this
 * adapter (`@kura/connect`) names its own options.
 */
export interface StoreErrorWording {
  /** What creates a missing table (`run npm run db:init`). */
  createTable: string;
  /**
   * What says how an existing table differs from the one Kura's items need (`npm run db:init lists what differs`).
   * @default `compare it with kuraTableDefinitions() (@kura/dynamodb), or call ensureKuraTables(), which lists what differs`
   */
  checkTable?: string;
  /** The setting that bounds each call (`KURA_DYNAMODB_TIMEOUT_MS`). */
  timeoutSetting: string;
  /** The setting that points at a local engine (`DYNAMODB_ENDPOINT`). */
  endpointSetting: string;
  /**
   * How a local engine gets credentials, when setting the endpoint does not give them (any will do, but the SDK
   * needs some to sign with). @default `set ${endpointSetting} for a local engine` (the Kura service then uses its own)
   */
  localCredentials?: string;
  /**
   * The setting that bounds a user's sessions, named when the user's session register is full.
   * @default `SessionModule's maxSessionsPerUser (@kura/session)`
   */
  sessionLimitSetting?: string;
}

/**
 * The default: what an app that uses this package's stores and clients itself has. Not Kura's service's variables
 * and commands, which such an app does not have (a stranger's Nest app logged "no answer within
 * KURA_DYNAMODB_TIMEOUT_MS" and "run npm run db:init" before 2026-12-05).
 */
const LIBRARY_WORDING: StoreErrorWording = {
  createTable: 'create it with ensureKuraTables() (@kura/dynamodb), or from kuraTableDefinitions() in your infrastructure code',
  timeoutSetting: "the client's timeoutMs (createDynamoDbClients)",
  endpointSetting: 'the endpoint of createDynamoDbClients',
  localCredentials: 'for a local engine give createDynamoDbClients credentials (any will do)',
  sessionLimitSetting: "SessionModule's maxSessionsPerUser (@kura/session)",
};

/** How Kura's own service names the remedies: its `npm run db:init` and its environment variables. */
export const KURA_SERVICE_WORDING: StoreErrorWording = {
  createTable: 'run npm run db:init',
  checkTable: 'npm run db:init lists what differs',
  timeoutSetting: 'KURA_DYNAMODB_TIMEOUT_MS',
  endpointSetting: 'DYNAMODB_ENDPOINT',
  localCredentials: "for a local engine set DYNAMODB_ENDPOINT (Kura's service) or give createDynamoDbClients credentials (any will do)",
  sessionLimitSetting: 'KURA_MAX_SESSIONS_PER_USER',
};

/** The setting `wording` names for a user's session limit. */
export function sessionLimitSettingOf(wording: StoreErrorWording = LIBRARY_WORDING): string {
  return wording.sessionLimitSetting ?? LIBRARY_WORDING.sessionLimitSetting!;
}

/** Set on an error the SDK met while fetching the AWS credentials to sign with, not while calling DynamoDB. */
const FETCHING_CREDENTIALS = Symbol('kura.fetchingCredentials');

/** Marks an error thrown while the client fetched its credentials (createDynamoDbClients), and throws it again. */
export function markCredentialsFailure(error: unknown): never {
  if (typeof error === 'object' && error !== null && Object.isExtensible(error)) {
    Object.defineProperty(error, FETCHING_CREDENTIALS, { value: true });
  }
  throw error;
}

/**
 * Where a client without static credentials fetches a role's: named by what the SDK's default chain reaches over the
 * network, not read from the environment (the app validates its configuration; this only names the places).
 */
const ROLE_CREDENTIALS_SOURCE = "the credentials' source (STS for a web identity role, as IRSA's; the container's endpoint for EKS Pod Identity or ECS)";

/**
 * A connection closed under a request. The SDK names such an error `TimeoutError` too (ECONNRESET, EPIPE), so the code
 * comes first: "no answer within KURA_DYNAMODB_TIMEOUT_MS" for a reset (a proxy closing the connection after 100 ms)
 * sent an operator to raise a timeout that was never reached (an outside review).
 */
const isReset = (code: string | undefined) => code === 'ECONNRESET' || code === 'EPIPE';

/** A connection's failure in a few words, or nothing when the error is no connection's. */
function connectionFailure(name: string, code: string | undefined, where: string, timeoutSetting: string): string | undefined {
  if (isReset(code)) return `connection reset by ${where}`;
  if (name === 'TimeoutError' || code === 'ETIMEDOUT') return `no answer from ${where} within ${timeoutSetting}`;
  if (code === 'ECONNREFUSED') return `connection refused: nothing listens at ${where}`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `the host name of ${where} does not resolve`;
  return undefined;
}

/**
 * Why a call failed, in one line an operator can act on. Built from error names, codes and statuses; nothing
 * of a message or an address goes into it, since readiness answers show it.
 */
function reasonFor(error: unknown, table: string | undefined, wording: StoreErrorWording): string {
  const chain: ErrorShape[] = [];
  // Not `instanceof Error`: errors from another realm (a VM context, a worker) are errors all the same.
  for (let cause = error; isErrorShaped(cause) && chain.length < 5; cause = cause.cause) chain.push(cause);
  if (chain.some((error) => FETCHING_CREDENTIALS in error) && chain[0]?.name !== 'CredentialsProviderError') {
    const failure = chain.map((error) => connectionFailure(error.name, codeOf(error), ROLE_CREDENTIALS_SOURCE, wording.timeoutSetting)).find(Boolean);
    return `the AWS credentials could not be fetched: ${failure ?? `${ROLE_CREDENTIALS_SOURCE} refused them (${chain[0]!.name})`}`;
  }
  for (const error of chain) {
    const { name, $metadata } = error;
    const code = codeOf(error);
    if (name === 'ResourceNotFoundException') {
      return `${table ? `table ${table}` : 'a table Kura uses'} does not exist: ${wording.createTable}`;
    }
    if (name === 'CredentialsProviderError') {
      // A role given and none fetched (EKS Pod Identity's agent not answering) ends here too: say what to check.
      return `no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, give the process a role (with EKS Pod Identity, its agent must answer and the service account be associated with the role), or ${wording.localCredentials ?? `set ${wording.endpointSetting} for a local engine`}`;
    }
    if (CREDENTIALS_REFUSED.has(name)) return `AWS credentials refused by DynamoDB (${name})`;
    if (name === 'AccessDeniedException') return "access denied: the role lacks one of Kura's DynamoDB actions on its tables";
    if (THROTTLING.has(name)) return `throttled by DynamoDB (${name})`;
    // A global table in multi-Region strong consistency refuses a write that meets one to the same item from another
    // Region. The SDK retries it (its model marks it retryable); this is what outlasted the retries.
    if (name === 'ReplicatedWriteConflictException') {
      return 'a write to the same item in another Region conflicted (ReplicatedWriteConflictException), after retries';
    }
    // Not an outage, though nothing better than 503 can be said: a key or item over DynamoDB's limits (2048-byte
    // keys, 400 KB items) that no check before the call caught. Retrying will not help; the reason says so.
    if (name === 'ValidationException') {
      // A table made by other infrastructure code with another key or without the index: every call fails alike.
      const check = wording.checkTable ?? 'compare it with kuraTableDefinitions() (@kura/dynamodb), or call ensureKuraTables(), which lists what differs';
      const which = table ? `table ${table}` : 'a table Kura uses';
      if (KEY_MISMATCH.test(error.message)) return `${which} has another key than Kura's items (ValidationException): ${check}`;
      if (NO_SUCH_INDEX.test(error.message)) return `${which} lacks the index Kura queries (ValidationException): ${check}`;
      // An index added to a table that holds items: DynamoDB builds it from them (minutes to hours) and refuses reads of it meanwhile.
      if (INDEX_BACKFILLING.test(error.message)) {
        return `the index Kura queries on ${which} is still being built (ValidationException): wait until it is ACTIVE`;
      }
      return 'DynamoDB refused the request as invalid (ValidationException): a key or item over its limits?';
    }
    if (name === 'RequestDeadlineError') return error.message;
    if ((name === 'TimeoutError' && !isReset(code)) || code === 'ETIMEDOUT') return `no answer within ${wording.timeoutSetting}`;
    const failure = connectionFailure(name, code, 'the DynamoDB endpoint', wording.timeoutSetting);
    if (failure) return failure;
    const status = $metadata?.httpStatusCode;
    if (status !== undefined && status >= 500) return `DynamoDB answered ${status} (${name})`;
  }
  return `the store could not be reached${chain[0] ? ` (${chain[0].name})` : ''}`;
}

/** DynamoDB's words for a key that is not the table's: read to choose a reason, never put into one. */
const KEY_MISMATCH = /does not match the schema|Type mismatch for key|Missing the key|required keys was not given a value/i;
const NO_SUCH_INDEX = /does not have the specified index/i;
const INDEX_BACKFILLING = /backfilling global/i;

interface ErrorShape {
  readonly name: string;
  readonly message: string;
  readonly code?: unknown;
  readonly cause?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

function isErrorShaped(value: unknown): value is ErrorShape {
  return typeof value === 'object' && value !== null && typeof (value as ErrorShape).name === 'string';
}

/**
 * A Node system error's code (`ECONNREFUSED`). The SDK sometimes keeps only the message of an error it wraps
 * (`AWS SDK error wrapper for Error: connect ECONNREFUSED …`), where the code is still readable.
 */
function codeOf(error: { readonly code?: unknown; readonly message?: string }): string | undefined {
  if (typeof error.code === 'string') return error.code;
  return /\b(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|ENOTFOUND|EAI_AGAIN)\b/.exec(error.message ?? '')?.[1];
}
