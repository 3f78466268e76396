import type { DynamoDbCallLog } from '@kura/dynamodb';

/**
 * CloudWatch metrics on Lambda, in the embedded metric format: one JSON log line per invocation that CloudWatch
 * turns into metrics (namespace Kura, dimension Service) with no API call and no agent. It carries what Lambda's
 * own metrics do not: the DynamoDB calls and capacity the invocation cost, and its HTTP status.
 * Hand-written (25 lines) rather than Powertools Metrics, which would add to every cold start for four numbers.
 */
export class InvocationMetrics {
  private calls = 0;
  private failures = 0;
  private readUnits = 0;
  private writeUnits = 0;

  constructor(log: DynamoDbCallLog, private readonly write: (line: string) => void = (line) => process.stdout.write(line)) {
    log.onCall(({ kind, capacityUnits, failed }) => {
      this.calls += 1;
      if (failed) this.failures += 1;
      if (kind === 'read') this.readUnits += capacityUnits;
      else if (kind === 'write') this.writeUnits += capacityUnits;
    });
  }

  /** Writes the invocation's line and starts counting the next one. */
  flush(requestId: string, statusCode: number | undefined): void {
    const metrics = { DynamoDbCalls: this.calls, DynamoDbFailures: this.failures, ReadCapacityUnits: this.readUnits, WriteCapacityUnits: this.writeUnits };
    this.calls = this.failures = this.readUnits = this.writeUnits = 0;
    const line = {
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [{ Namespace: 'Kura', Dimensions: [['Service']], Metrics: Object.keys(metrics).map((Name) => ({ Name, Unit: 'Count' })) }],
      },
      Service: 'kura',
      ...metrics,
      requestId,
      statusCode,
    };
    this.write(`${JSON.stringify(line)}\n`);
  }
}
