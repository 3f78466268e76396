import {
  type AttributeDefinition,
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  type KeySchemaElement,
  type TableDescription,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { type StoreErrorWording, storeUnavailable } from './dynamodb-errors.js';
import { type KuraTableNamesToEnsure, kuraTableDefinitions, SESSION_TTL_ATTRIBUTE } from './kura-tables.js';

/** What `ensureKuraTables` did to each table, for the log. */
export interface TableBootstrapStep {
  table: string;
  created: boolean;
  /** `enabled` (now or before), `unsupported` (the engine has no TTL API: dynalite), or `n/a`. */
  ttl: 'enabled' | 'unsupported' | 'n/a';
  /**
   * Where the table is a DynamoDB global table: its replicas' Regions and its consistency mode. `eventual` (MREC)
   * does not keep Kura's guarantees across Regions (docs/concurrency.md, "Across AWS Regions").
   */
  global?: { consistency: 'eventual' | 'strong'; regions: string[] };
}

const hasName = (error: unknown, ...names: string[]) => error instanceof Error && names.includes(error.name);

/**
 * A table that exists but is not the one Kura's items need (made by other infrastructure code with another key,
 * without the index, or with TTL on another attribute): every difference, each in one line. Nothing was changed.
 * Kura would otherwise fail on its first call to the table, every time, with DynamoDB's `ValidationException`.
 */
export class TableMismatchError extends Error {
  constructor(
    readonly table: string,
    readonly differences: readonly string[],
  ) {
    super(`table ${table} is not as Kura needs it (nothing was changed): ${differences.join('; ')}`);
    this.name = 'TableMismatchError';
  }
}

/** The parts of a table that Kura's items depend on: a table's description, or a CloudFormation table's properties. */
export interface TableShape {
  readonly KeySchema?: readonly KeySchemaElement[];
  readonly AttributeDefinitions?: readonly AttributeDefinition[];
  readonly GlobalSecondaryIndexes?: readonly { readonly IndexName?: string; readonly KeySchema?: readonly KeySchemaElement[]; readonly Projection?: { readonly ProjectionType?: string } }[];
}

const TYPES: Record<string, string> = { S: 'string', N: 'number', B: 'binary' };

/** `id (string, partition key), createdAt (number, sort key)`: a key as the table's attribute definitions type it. */
function keyText(key: readonly KeySchemaElement[] | undefined, attributes: readonly AttributeDefinition[] | undefined): string {
  if (!key || key.length === 0) return 'none';
  const typeOf = (name: string | undefined) => TYPES[attributes?.find((attribute) => attribute.AttributeName === name)?.AttributeType ?? ''] ?? 'of no declared type';
  return [...key]
    .sort((a, b) => (a.KeyType === b.KeyType ? 0 : a.KeyType === 'HASH' ? -1 : 1))
    .map((element) => `${element.AttributeName} (${typeOf(element.AttributeName)}, ${element.KeyType === 'HASH' ? 'partition' : 'sort'} key)`)
    .join(', ');
}

/**
 * How `actual` differs from `wanted` where Kura's items depend on it, each difference in one line: the key, and
 * each of Kura's indexes (its key, and every attribute projected). Other indexes, billing and the rest are the
 * operator's. Empty when the table will do.
 */
export function tableDifferences(wanted: CreateTableCommandInput, actual: TableShape): string[] {
  const differences: string[] = [];
  const wantedKey = keyText(wanted.KeySchema, wanted.AttributeDefinitions);
  const actualKey = keyText(actual.KeySchema, actual.AttributeDefinitions);
  if (wantedKey !== actualKey) differences.push(`its key is ${actualKey}, Kura's items have ${wantedKey}`);
  for (const index of wanted.GlobalSecondaryIndexes ?? []) {
    const wantedIndexKey = keyText(index.KeySchema, wanted.AttributeDefinitions);
    const found = actual.GlobalSecondaryIndexes?.find((one) => one.IndexName === index.IndexName);
    if (!found) {
      differences.push(`it has no index ${index.IndexName} (${wantedIndexKey}, every attribute projected), which lists a user's sessions`);
      continue;
    }
    const foundKey = keyText(found.KeySchema, actual.AttributeDefinitions);
    if (foundKey !== wantedIndexKey) differences.push(`its index ${index.IndexName} is keyed ${foundKey}, Kura needs ${wantedIndexKey}`);
    const projection = found.Projection?.ProjectionType ?? 'none';
    if (projection !== index.Projection?.ProjectionType) {
      differences.push(`its index ${index.IndexName} projects ${projection}, Kura needs ${index.Projection?.ProjectionType} (a session's listing reads it from the index)`);
    }
  }
  return differences;
}

/**
 * Creates Kura's tables, index and TTL setting where they are missing. Idempotent and safe to run from
 * several processes at once. Throws `StoreUnavailableError` (`@kura/common`), its `reason` in one line. Meant for `npm run db:init`, the embedded engine and tests; production tables
 * come from infrastructure code. `options.wording`: how failure reasons name their remedies (default: this package's).
 */
export async function ensureKuraTables(client: DynamoDBClient, names: KuraTableNamesToEnsure, options: { readonly wording?: StoreErrorWording } = {}): Promise<TableBootstrapStep[]> {
  const steps: TableBootstrapStep[] = [];
  for (const definition of kuraTableDefinitions(names)) {
    try {
      steps.push(await ensureTable(client, definition, definition.TableName === names.sessions ? SESSION_TTL_ATTRIBUTE : undefined));
    } catch (error) {
      if (error instanceof TableMismatchError) throw error;
      // The SDK's error (connection refused, no credentials, access denied) as the domain error, its reason in one
      // line: `npm run db:init` and a start that creates tables say why, not a stack.
      throw storeUnavailable(`ensure table ${definition.TableName}`, error, definition.TableName, options.wording);
    }
  }
  return steps;
}

/**
 * Creates one table where it is missing, waits until it is active and turns TTL on for `ttlAttribute`; a table
 * that exists is checked first, and one Kura's items cannot live in is a `TableMismatchError`, with nothing
 * changed. Idempotent and safe to run from several processes at once.
 */
export async function ensureTable(client: DynamoDBClient, definition: CreateTableCommandInput, ttlAttribute: string | undefined): Promise<TableBootstrapStep> {
  const table = definition.TableName!;
  const existing = await describeIfThere(client, table);
  const differences = existing ? tableDifferences(definition, existing) : [];
  if (differences.length > 0) throw new TableMismatchError(table, differences);
  const created = existing ? false : await create(client, definition);
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1 }, { TableName: table });
  const ttl = ttlAttribute ? await enableTtl(client, table, ttlAttribute) : 'n/a';
  const replicas = existing?.Replicas ?? [];
  const global =
    replicas.length > 0
      ? { consistency: existing?.MultiRegionConsistency === 'STRONG' ? ('strong' as const) : ('eventual' as const), regions: replicas.map((replica) => replica.RegionName ?? '?') }
      : undefined;
  return { table, created, ttl, ...(global ? { global } : {}) };
}

/** The table's description, or undefined where it does not exist. */
async function describeIfThere(client: DynamoDBClient, table: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: table }))).Table ?? {};
  } catch (error) {
    if (!hasName(error, 'ResourceNotFoundException')) throw error;
    return undefined;
  }
}

/** Creates the table; false where another process created it first. */
async function create(client: DynamoDBClient, definition: CreateTableCommandInput): Promise<boolean> {
  try {
    await client.send(new CreateTableCommand(definition));
    return true;
  } catch (error) {
    if (hasName(error, 'ResourceInUseException')) return false;
    throw error;
  }
}

async function enableTtl(client: DynamoDBClient, table: string, attribute: string): Promise<TableBootstrapStep['ttl']> {
  try {
    if (await ttlEnabled(client, table, attribute)) return 'enabled';
    try {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: table,
          TimeToLiveSpecification: { AttributeName: attribute, Enabled: true },
        }),
      );
    } catch (error) {
      // Another process saw TTL off too and turned it on first: DynamoDB refuses the second (`TimeToLive is already
      // enabled`, a ValidationException). Done, if what it turned on is what this call would have.
      if (!hasName(error, 'ValidationException') || !(await ttlEnabled(client, table, attribute))) throw error;
    }
    return 'enabled';
  } catch (error) {
    if (error instanceof TableMismatchError) throw error;
    if (hasName(error, 'UnknownOperationException')) return 'unsupported';
    throw error;
  }
}

/**
 * Whether TTL is on (or turning on) for `attribute`; a `TableMismatchError` when it is on for another attribute, or is
 * still being turned off.
 */
async function ttlEnabled(client: DynamoDBClient, table: string, attribute: string): Promise<boolean> {
  const current = await client.send(new DescribeTimeToLiveCommand({ TableName: table }));
  const status = current.TimeToLiveDescription?.TimeToLiveStatus;
  const on = current.TimeToLiveDescription?.AttributeName;
  if (status === 'DISABLING') {
    // What the operator does when told below to turn another TTL off. DynamoDB takes up to an hour over it and refuses
    // any other UpdateTimeToLive meanwhile (a ValidationException, which would read as an item over its limits).
    throw new TableMismatchError(table, [
      `its TTL${on === undefined ? '' : ` by ${on}`} is still being turned off (DISABLING, up to an hour), and DynamoDB refuses to turn TTL on until then: run this again once it is off`,
    ]);
  }
  if (status !== 'ENABLED' && status !== 'ENABLING') return false;
  if (on !== undefined && on !== attribute) {
    // One TTL attribute per table, and changing it takes turning it off first (then an hour's wait): the operator's call.
    throw new TableMismatchError(table, [`its TTL deletes items by ${on}, Kura's items expire by ${attribute} (turn that TTL off, then run this again)`]);
  }
  return true;
}
