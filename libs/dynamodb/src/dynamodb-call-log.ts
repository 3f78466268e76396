import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export type DynamoDbCallKind = 'read' | 'write' | 'other';

/** Totals for one DynamoDB operation (GetItem, UpdateItem, ...). */
export interface OperationTotals {
  calls: number;
  /** Calls DynamoDB could not answer (after the SDK's retries): timeouts, throttling, server errors, ... */
  failures: number;
  /**
   * Conditional writes DynamoDB refused (`ConditionalCheckFailedException`): answers, not failures. Kura's rules
   * expect them (a race lost, an email taken, a session already ended), so they are counted apart from failures.
   */
  refusals: number;
  capacityUnits: number;
}

/** What the store has asked of DynamoDB since the last reset. */
export interface DynamoDbCallTotals {
  reads: number;
  writes: number;
  readCapacityUnits: number;
  writeCapacityUnits: number;
  byOperation: Record<string, OperationTotals>;
}

const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'TransactGetItems']);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

export function kindOf(operation: string): DynamoDbCallKind {
  return READS.has(operation) ? 'read' : WRITES.has(operation) ? 'write' : 'other';
}

/**
 * Counts every DynamoDB call a client makes (one per command, however many retries it took) and the capacity
 * DynamoDB reports for it (`ReturnConsumedCapacity`). Aggregates only, so it can stay on in production; tests
 * assert per-request counts with it and benchmarks report cost.
 */
/**
 * Told of every call as it completes: for metrics (Prometheus counters, CloudWatch EMF). `failed`: DynamoDB could
 * not answer; `refused`: a condition was not met (an answer, see {@link OperationTotals.refusals}).
 */
export type DynamoDbCallListener = (call: { operation: string; kind: DynamoDbCallKind; capacityUnits: number; failed: boolean; refused: boolean }) => void;

export class DynamoDbCallLog {
  private totals: DynamoDbCallTotals = DynamoDbCallLog.empty();
  private readonly listeners: DynamoDbCallListener[] = [];

  /** Adds a listener told of every call from now on. */
  onCall(listener: DynamoDbCallListener): void {
    this.listeners.push(listener);
  }

  private static empty(): DynamoDbCallTotals {
    return { reads: 0, writes: 0, readCapacityUnits: 0, writeCapacityUnits: 0, byOperation: {} };
  }

  record(operation: string, capacityUnits: number, failed: boolean, refused = false): void {
    const kind = kindOf(operation);
    if (kind === 'read') {
      this.totals.reads += 1;
      this.totals.readCapacityUnits += capacityUnits;
    } else if (kind === 'write') {
      this.totals.writes += 1;
      this.totals.writeCapacityUnits += capacityUnits;
    }
    const entry = (this.totals.byOperation[operation] ??= { calls: 0, failures: 0, refusals: 0, capacityUnits: 0 });
    entry.calls += 1;
    entry.capacityUnits += capacityUnits;
    if (failed) entry.failures += 1;
    if (refused) entry.refusals += 1;
    for (const listener of this.listeners) listener({ operation, kind, capacityUnits, failed, refused });
  }

  /** A copy of the totals. */
  snapshot(): DynamoDbCallTotals {
    return structuredClone(this.totals);
  }

  reset(): void {
    this.totals = DynamoDbCallLog.empty();
  }

  /** Installs the counting middleware on a client (its document client shares the same stack). */
  attachTo(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = String(context.commandName ?? 'Unknown').replace(/Command$/, '');
        try {
          const result = await next(args);
          this.record(operation, capacityOf((result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity), false);
          return result;
        } catch (error) {
          const refused = error instanceof Error && error.name === 'ConditionalCheckFailedException';
          this.record(operation, 0, !refused, refused);
          throw error;
        }
      },
      { step: 'initialize', name: 'kuraDynamoDbCallLog', override: true },
    );
  }
}

function capacityOf(consumed: unknown): number {
  const entries = Array.isArray(consumed) ? consumed : consumed ? [consumed] : [];
  return entries.reduce((sum: number, entry: { CapacityUnits?: number }) => sum + (entry.CapacityUnits ?? 0), 0);
}
