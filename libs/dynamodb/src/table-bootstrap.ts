import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  type TableDescription,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { storeUnavailable } from './dynamodb-errors.js';
import { type KuraTableNames, kuraTableDefinitions, SESSION_TTL_ATTRIBUTE } from './kura-tables.js';

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
 * Creates Kura's tables, index and TTL setting where they are missing. Idempotent and safe to run from
 * several processes at once. Throws `StoreUnavailableError` (`@kura/common`), its `reason` in one line. Meant for `npm run db:init`, the embedded engine and tests; production tables
 * come from infrastructure code.
 */
export async function ensureKuraTables(client: DynamoDBClient, names: KuraTableNames): Promise<TableBootstrapStep[]> {
  const steps: TableBootstrapStep[] = [];
  for (const definition of kuraTableDefinitions(names)) {
    try {
      steps.push(await ensureTable(client, definition, definition.TableName === names.sessions ? SESSION_TTL_ATTRIBUTE : undefined));
    } catch (error) {
      // The SDK's error (connection refused, no credentials, access denied) as the domain error, its reason in one
      // line: `npm run db:init` and a start that creates tables say why, not a stack.
      throw storeUnavailable(`ensure table ${definition.TableName}`, error, definition.TableName);
    }
  }
  return steps;
}

/**
 * Creates one table where it is missing, waits until it is active and turns TTL on for `ttlAttribute`.
 * Idempotent and safe to run from several processes at once.
 */
export async function ensureTable(client: DynamoDBClient, definition: CreateTableCommandInput, ttlAttribute: string | undefined): Promise<TableBootstrapStep> {
  const table = definition.TableName!;
  const existing = await describeIfThere(client, table);
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
    const current = await client.send(new DescribeTimeToLiveCommand({ TableName: table }));
    const status = current.TimeToLiveDescription?.TimeToLiveStatus;
    if (status === 'ENABLED' || status === 'ENABLING') return 'enabled';
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: table,
        TimeToLiveSpecification: { AttributeName: attribute, Enabled: true },
      }),
    );
    return 'enabled';
  } catch (error) {
    if (hasName(error, 'UnknownOperationException')) return 'unsupported';
    throw error;
  }
}
