import { StoreUnavailableError } from '@kura/common';
import { KURA_SERVICE_WORDING, storeUnavailable } from './dynamodb-errors.js';

/** Errors shaped as the AWS SDK and Node raise them (name, code, HTTP status), as seen against dynalite and AWS. */
const sdkError = (name: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(`${name} message`), { name, ...extra });
const nodeError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:8000`), { code });

describe('storeUnavailable', () => {
  it.each([
    ['a missing table, named', sdkError('ResourceNotFoundException', { $metadata: { httpStatusCode: 400 } }), 'kura-sessions', 'table kura-sessions does not exist: run npm run db:init'],
    ['a missing table, unnamed', sdkError('ResourceNotFoundException'), undefined, "a table Kura uses does not exist: run npm run db:init"],
    [
      'no credentials at all',
      sdkError('CredentialsProviderError'),
      undefined,
      'no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, give the process a role (with EKS Pod Identity, its agent must answer and the service account be associated with the role), or for a local engine set DYNAMODB_ENDPOINT (Kura\'s service) or give createDynamoDbClients credentials (any will do)',
    ],
    ['credentials DynamoDB does not know', sdkError('UnrecognizedClientException'), undefined, 'AWS credentials refused by DynamoDB (UnrecognizedClientException)'],
    ['a signature that does not match', sdkError('InvalidSignatureException'), undefined, 'AWS credentials refused by DynamoDB (InvalidSignatureException)'],
    ['expired credentials', sdkError('ExpiredTokenException'), undefined, 'AWS credentials refused by DynamoDB (ExpiredTokenException)'],
    ['a role without the permission', sdkError('AccessDeniedException'), undefined, "access denied: the role lacks one of Kura's DynamoDB actions on its tables"],
    ['throttling', sdkError('ProvisionedThroughputExceededException'), undefined, 'throttled by DynamoDB (ProvisionedThroughputExceededException)'],
    [
      'a write refused by a global table for a concurrent write in another Region',
      sdkError('ReplicatedWriteConflictException', { $metadata: { httpStatusCode: 400 } }),
      undefined,
      'a write to the same item in another Region conflicted (ReplicatedWriteConflictException), after retries',
    ],
    ['a timeout', sdkError('TimeoutError'), undefined, 'no answer within KURA_DYNAMODB_TIMEOUT_MS'],
    ['a refused connection', nodeError('ECONNREFUSED'), undefined, 'connection refused: nothing listens at the DynamoDB endpoint'],
    ['a reset connection', nodeError('ECONNRESET'), undefined, 'connection reset by the DynamoDB endpoint'],
    // The SDK's NodeHttpHandler names ECONNRESET and EPIPE TimeoutError: a reset, not a timeout (an outside review).
    ['a reset connection the SDK calls a timeout', sdkError('TimeoutError', { code: 'ECONNRESET', message: 'socket hang up' }), undefined, 'connection reset by the DynamoDB endpoint'],
    ['a broken pipe the SDK calls a timeout', sdkError('TimeoutError', { code: 'EPIPE' }), undefined, 'connection reset by the DynamoDB endpoint'],
    ['an unknown host', nodeError('ENOTFOUND'), undefined, 'the host name of the DynamoDB endpoint does not resolve'],
    ['a request DynamoDB refuses as invalid', sdkError('ValidationException', { $metadata: { httpStatusCode: 400 } }), undefined, 'DynamoDB refused the request as invalid (ValidationException): a key or item over its limits?'],
    // AWS's words for a key not the table's (GetItem, PutItem) and a missing index (Query), and DynamoDB Local's.
    ...[
      'The provided key element does not match the schema',
      'One or more parameter values were invalid: Missing the key pk in the item',
      'One or more parameter values were invalid: Type mismatch for key id expected: N actual: S',
      'One of the required keys was not given a value',
    ].map((message): [string, Error, string, string] => [
      `a table keyed otherwise ("${message}")`,
      Object.assign(new Error(message), { name: 'ValidationException' }),
      'kura-sessions',
      "table kura-sessions has another key than Kura's items (ValidationException): npm run db:init lists what differs",
    ]),
    [
      'a table without the index',
      Object.assign(new Error('The table does not have the specified index: byUser'), { name: 'ValidationException' }),
      'kura-sessions',
      'table kura-sessions lacks the index Kura queries (ValidationException): npm run db:init lists what differs',
    ],
    // An index added to a table that holds items is built from them first (minutes to hours), and a Query on it is
    // refused meanwhile, in AWS's words (aws-cloudformation/cloudformation-coverage-roadmap#1075).
    [
      'an index still being built',
      Object.assign(new Error('Cannot read from backfilling global secondary index: byUser'), { name: 'ValidationException' }),
      undefined,
      "the index Kura queries on a table Kura uses is still being built (ValidationException): wait until it is ACTIVE",
    ],
    ['a server error', sdkError('InternalServerError', { $metadata: { httpStatusCode: 500 } }), undefined, 'DynamoDB answered 500 (InternalServerError)'],
    ['anything else', new TypeError('boom'), undefined, 'the store could not be reached (TypeError)'],
  ])("gives the reason for %s in one line, in Kura's service's words", (_case, cause, table, reason) => {
    const error = storeUnavailable('session.ping', cause, table, KURA_SERVICE_WORDING);

    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error.reason).toBe(reason);
    expect(error.cause).toBe(cause);
  });

  it('never puts an address or a message from the cause into the reason', () => {
    expect(storeUnavailable('session.get', nodeError('ECONNREFUSED')).reason).not.toContain('127.0.0.1');
    expect(storeUnavailable('session.get', new Error('secret-looking detail')).reason).not.toContain('secret');
  });

  it('reads the code of an error the SDK kept only as a message (an error from another realm)', () => {
    const wrapped = new Error('AWS SDK error wrapper for Error: connect ECONNREFUSED 127.0.0.1:8000');

    expect(storeUnavailable('session.find', wrapped).reason).toBe('connection refused: nothing listens at the DynamoDB endpoint');
  });

  it('looks through wrapping errors for the one that says why', () => {
    const wrapped = new Error('outer', { cause: sdkError('ResourceNotFoundException') });

    expect(storeUnavailable('user.find', wrapped, 'kura-users', KURA_SERVICE_WORDING).reason).toBe('table kura-users does not exist: run npm run db:init');
  });

  // An app's own stores (@kura/session on DynamoDbSessionStore) have neither Kura's npm scripts nor its variables: a
  // stranger's Nest app logged "503: session.insert failed: no answer within KURA_DYNAMODB_TIMEOUT_MS" (2026-12-05).
  it.each([
    ['a missing table', sdkError('ResourceNotFoundException'), 'kura-sessions', 'table kura-sessions does not exist: create it with ensureKuraTables() (@kura/dynamodb), or from kuraTableDefinitions() in your infrastructure code'],
    ['a timeout', sdkError('TimeoutError'), undefined, "no answer within the client's timeoutMs (createDynamoDbClients)"],
    [
      'no credentials at all',
      sdkError('CredentialsProviderError'),
      undefined,
      'no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, give the process a role (with EKS Pod Identity, its agent must answer and the service account be associated with the role), or for a local engine give createDynamoDbClients credentials (any will do)',
    ],
    [
      'a table keyed otherwise',
      Object.assign(new Error('The provided key element does not match the schema'), { name: 'ValidationException' }),
      'kura-sessions',
      "table kura-sessions has another key than Kura's items (ValidationException): compare it with kuraTableDefinitions() (@kura/dynamodb), or call ensureKuraTables(), which lists what differs",
    ],
  ])("names this package's functions and options for %s by default, never Kura's service's npm scripts or variables", (_case, cause, table, reason) => {
    const { reason: said } = storeUnavailable('session.find', cause, table);

    expect(said).toBe(reason);
    expect(said).not.toMatch(/KURA_|npm run|DYNAMODB_ENDPOINT/);
  });
});
