import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { requestDeadline } from '@kura/common';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { DynamoDbCallLog } from './dynamodb-call-log.js';
import { markCredentialsFailure } from './dynamodb-errors.js';
import { RequestSigningSha256 } from './request-signing-sha256.js';

export interface DynamoDbConnectionOptions {
  /** Region for signing and routing. */
  region: string;
  /**
   * An endpoint other than AWS's own (DynamoDB Local, LocalStack, dynalite).
   * @default AWS's regional endpoint
   */
  endpoint?: string;
  /**
   * Upper bound for connecting, for each attempt's wait for an answer, and for each pause in the answer's body, in
   * milliseconds. Without it a black-holed connection hangs a request for as long as the socket lives, and an answer
   * cut mid-body on a connection left open for the SDK's own socket timeout (5 minutes).
   * @default 1000
   */
  timeoutMs?: number;
  /**
   * Attempts per call, the first included (the SDK retries throttling and transient errors with backoff).
   * @default 3
   */
  maxAttempts?: number;
  /**
   * Static credentials. Leave unset on AWS to use the default provider chain (IAM role, IRSA, Pod Identity).
   * @default the SDK's default credential provider chain
   */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /**
   * Counts every call and the capacity it consumed.
   * @default no counting
   */
  callLog?: DynamoDbCallLog;
}

/** The clients Kura's adapters use: the low-level one (tables, TTL) and the document one (items). */
export interface DynamoDbClients {
  readonly client: DynamoDBClient;
  readonly documents: DynamoDBDocumentClient;
}

/** Builds clients whose every call is bounded in time and attempts. */
export function createDynamoDbClients(options: DynamoDbConnectionOptions): DynamoDbClients {
  const timeoutMs = options.timeoutMs ?? 1000;
  const client = new DynamoDBClient({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    maxAttempts: options.maxAttempts ?? 3,
    // The SDK's own hashing, less Node 24's cost for an HMAC keyed by bytes (about 10 µs per request).
    sha256: RequestSigningSha256,
    requestHandler: new DeadlineBoundHandler({
      connectionTimeout: timeoutMs,
      requestTimeout: timeoutMs,
      throwOnRequestTimeout: true,
      // The request timeout ends when the answer's headers arrive: what bounds the body after them is the socket's.
      socketTimeout: timeoutMs,
    }),
  });
  if (!options.credentials) {
    // What fails while the SDK fetches a role's credentials (from STS for IRSA, from the Pod Identity agent) is marked
    // as such: a refused connection there was said as "nothing listens at the DynamoDB endpoint" (an operator's review).
    // The setter keeps the SDK's caching and refreshing of what this returns.
    const fetch = client.config.credentials;
    client.config.credentials = (identity) => fetch(identity).catch(markCredentialsFailure);
  }
  options.callLog?.attachTo(client);
  const documents = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { client, documents };
}

/**
 * Each attempt also ends at the deadline of the request it serves, where one is set (`withRequestDeadline`, Kura's
 * Lambda handler): one begun after it fails at once, one under way is cut, and the SDK does not retry either (the
 * error is no transient one), so the call fails with the adapter's `StoreUnavailableError` in time for a 503.
 */
class DeadlineBoundHandler extends NodeHttpHandler {
  override handle(...[request, options]: Parameters<NodeHttpHandler['handle']>): ReturnType<NodeHttpHandler['handle']> {
    const deadline = requestDeadline();
    return super.handle(request, deadline && !options?.abortSignal ? { ...options, abortSignal: deadline } : options);
  }
}
