import { DynamoDbCallLog } from '@kura/dynamodb';
import { RedisCommandLog } from '@kura/redis';
import { InvocationMetrics } from './emf.js';

/** One line per invocation, whatever the store: on Lambda at `warn` it is the only line a request leaves. */
describe('InvocationMetrics', () => {
  const ids = { requestId: 'trace-0123456789abcdef', awsRequestId: '5f0b0c1e-6e2f-4f7e-9d1a-0c7a2b1f3e4d' };
  const linesOf = (stores: ConstructorParameters<typeof InvocationMetrics>[0]) => {
    const lines: Record<string, unknown>[] = [];
    return { lines, metrics: new InvocationMetrics(stores, (line) => lines.push(JSON.parse(line))) };
  };
  /** What CloudWatch requires of an EMF line: each metric and dimension a member of the line, its value a number. */
  const validEmf = (line: Record<string, any>) => {
    const [directive] = line._aws.CloudWatchMetrics;
    for (const { Name, Unit } of directive.Metrics) {
      expect(typeof line[Name]).toBe('number');
      expect(Unit).toBe('Count');
    }
    for (const key of directive.Dimensions.flat()) expect(typeof line[key]).toBe('string');
    expect(typeof line._aws.Timestamp).toBe('number');
  };

  it("counts DynamoDB's calls and capacity, then starts again", () => {
    const calls = new DynamoDbCallLog();
    const { lines, metrics } = linesOf({ calls });
    calls.record('GetItem', 0.5, false);
    calls.record('PutItem', 0, true);

    metrics.flush(ids, 200);
    metrics.flush(ids, 204);

    expect(lines[0]).toMatchObject({ Service: 'kura', DynamoDbCalls: 2, DynamoDbFailures: 1, ReadCapacityUnits: 0.5, WriteCapacityUnits: 0, ...ids, statusCode: 200 });
    expect(lines[1]).toMatchObject({ DynamoDbCalls: 0, statusCode: 204 });
    validEmf(lines[0]!);
  });

  it("counts Redis's commands on Redis (the line was missing there, and with it every line of a request at warn)", () => {
    const redisCommands = new RedisCommandLog();
    const { lines, metrics } = linesOf({ redisCommands });
    redisCommands.record('HGETALL', false, 0.001);
    redisCommands.record('EVALSHA', true, 0.5);

    metrics.flush(ids, 503);

    expect(lines).toEqual([expect.objectContaining({ Service: 'kura', RedisCommands: 2, RedisFailures: 1, ...ids, statusCode: 503 })]);
    expect((lines[0] as any)._aws.CloudWatchMetrics[0].Metrics.map(({ Name }: { Name: string }) => Name)).toEqual(['RedisCommands', 'RedisFailures']);
    validEmf(lines[0]!);
  });
});
