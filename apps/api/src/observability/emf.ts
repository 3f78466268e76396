import type { DynamoDbCallLog } from '@kura/dynamodb';
import type { RedisCommandLog } from '@kura/redis';

/**
 * CloudWatch metrics on Lambda, in the embedded metric format: one JSON log line per invocation that CloudWatch
 * turns into metrics (namespace Kura, dimension Service) with no API call and no agent. It carries what Lambda's
 * own metrics do not: the store calls the invocation cost (DynamoDB's calls and capacity, or Redis's commands), and
 * its HTTP status and ids; at `warn`, it is the only line a request leaves (on Redis there was none before
 * 2026-12-07, an outside review). Hand-written (35 lines) rather than Powertools Metrics, which would add to every
 * cold start for a few numbers.
 */
export class InvocationMetrics {
  private counts: Record<string, number>;
  private readonly zero: Record<string, number>;

  constructor(
    /** The store's log: DynamoDB's calls, or else Redis's commands. */
    stores: { calls?: DynamoDbCallLog; redisCommands?: RedisCommandLog },
    private readonly write: (line: string) => void = (line) => process.stdout.write(line),
  ) {
    const { calls, redisCommands } = stores;
    this.zero = calls ? { DynamoDbCalls: 0, DynamoDbFailures: 0, ReadCapacityUnits: 0, WriteCapacityUnits: 0 } : { RedisCommands: 0, RedisFailures: 0 };
    this.counts = { ...this.zero };
    calls?.onCall(({ kind, capacityUnits, failed }) => {
      this.counts.DynamoDbCalls! += 1;
      if (failed) this.counts.DynamoDbFailures! += 1;
      if (kind === 'read') this.counts.ReadCapacityUnits! += capacityUnits;
      else if (kind === 'write') this.counts.WriteCapacityUnits! += capacityUnits;
    });
    redisCommands?.onCommand(({ failed }) => {
      this.counts.RedisCommands! += 1;
      if (failed) this.counts.RedisFailures! += 1;
    });
  }

  /**
   * Writes the invocation's line and starts counting the next one. `requestId` is the request's (the caller's
   * `X-Request-Id` when well formed, as in its access line and answer), `awsRequestId` Lambda's (its START and
   * REPORT lines'): the line is found by either.
   */
  flush(ids: { requestId: string; awsRequestId: string }, statusCode: number | undefined): void {
    const metrics = this.counts;
    this.counts = { ...this.zero };
    const line = {
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [{ Namespace: 'Kura', Dimensions: [['Service']], Metrics: Object.keys(metrics).map((Name) => ({ Name, Unit: 'Count' })) }],
      },
      Service: 'kura',
      ...metrics,
      requestId: ids.requestId,
      awsRequestId: ids.awsRequestId,
      statusCode,
    };
    this.write(`${JSON.stringify(line)}\n`);
  }
}
