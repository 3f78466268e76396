/**
 * The DynamoDB types KuraStore's options and `ensureTable` name, declared here by their shape instead of
 * imported from `@kura/dynamodb`. An app on Redis installs neither `@kura/dynamodb` nor the AWS SDK, and a
 * TypeScript project that checks library declarations (`skipLibCheck: false`) would report every type imported
 * from them as missing. `dynamodb.types.spec.ts` holds these to `@kura/dynamodb`'s and the AWS SDK's own.
 */

/**
 * Where DynamoDB is, for the clients the store makes: `@kura/dynamodb`'s `DynamoDbConnectionOptions`, which
 * documents each field.
 */
export interface DynamoDbConnectionOptions {
  region: string;
  /** DynamoDB Local, LocalStack or dynalite; AWS's regional endpoint when unset. */
  endpoint?: string;
  /** @default 1000 (ms, for connecting and for each attempt) */
  timeoutMs?: number;
  /** @default 3 (attempts per call, the first included) */
  maxAttempts?: number;
  /** Unset on AWS: the default provider chain (IAM role, IRSA, Pod Identity). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** A `DynamoDbCallLog` from `@kura/dynamodb`, counting every call. */
  callLog?: { attachTo(client: never): void };
}

/**
 * The AWS SDK's `DynamoDBClient` (from `@aws-sdk/client-dynamodb`), by the calls KuraStore makes on it. The
 * options check that what is given has a `send` method.
 */
export interface DynamoDbClient {
  send(command: never, options?: never): Promise<unknown>;
  destroy(): void;
}

/** What `ensureTable` did to the table (`@kura/dynamodb`'s `TableBootstrapStep`). */
export interface TableBootstrapStep {
  table: string;
  created: boolean;
  /** `enabled` (now or before), `unsupported` (the engine has no TTL API: dynalite), or `n/a`. */
  ttl: 'enabled' | 'unsupported' | 'n/a';
  /**
   * Where the table is a DynamoDB global table: its Regions and consistency mode. `eventual` does not keep the
   * store's guarantees across Regions: a destroy in one Region can be undone by a write in another (Kura's
   * docs/concurrency.md, "Across AWS Regions").
   */
  global?: { consistency: 'eventual' | 'strong'; regions: string[] };
}

/** What a `DynamoDbCallLog` counted since its last reset (`@kura/dynamodb`'s `DynamoDbCallTotals`). */
export interface DynamoDbCallTotals {
  reads: number;
  writes: number;
  readCapacityUnits: number;
  writeCapacityUnits: number;
  byOperation: Record<string, { calls: number; failures: number; refusals: number; capacityUnits: number }>;
}
