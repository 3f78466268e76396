import { createServer, type Server } from 'node:http';
import type { DynamoDbCallLog } from '@kura/dynamodb';
import type { RedisCommandLog } from '@kura/redis';
import type { SessionEvent } from '@kura/session';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { Answered } from './request-log.js';

/**
 * Prometheus metrics (prom-client) for operators on Kubernetes: HTTP requests by route and status with their
 * duration, every DynamoDB call by operation and outcome with the capacity it consumed (or, on Redis, every
 * command by name and outcome with its round trip), and the process's own
 * (event loop lag, heap, GC). Served on a port of their own, so the Ingress never exposes them.
 */
export class KuraMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'kura_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'kura_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly storeCalls = new Counter({
    name: 'kura_dynamodb_calls_total',
    help: 'DynamoDB calls (one per command, retries included), by operation and outcome: ok, condition_failed (a conditional write refused, as Kura\'s rules expect: a race lost, an email taken), error (no answer)',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly capacity = new Counter({
    name: 'kura_dynamodb_consumed_capacity_units_total',
    help: 'Capacity units DynamoDB reported as consumed, by operation (the basis of the on-demand bill)',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });
  private readonly redisCommands = new Counter({
    name: 'kura_redis_commands_total',
    help: 'Redis commands sent (a script counts once, as EVALSHA), by command and outcome: ok, error (failed, or answered after KURA_REDIS_TIMEOUT_MS, when the request had been answered 503)',
    labelNames: ['command', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly redisDuration = new Histogram({
    name: 'kura_redis_command_duration_seconds',
    help: "A Redis command's round trip (a durable write's WAIT for replicas included), by command",
    labelNames: ['command'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  private readonly sessions = new Counter({
    name: 'kura_session_events_total',
    help: 'Session events: created, authenticated (by store or cache), rejected (by reason: unknown includes sessions that ended or expired, which the store reads as absent), extended, extension-failed (an idle extension the store could not take: the request went on, the session unextended), reauthenticated, revoked, evicted (ended by a login past the sessions-per-user limit)',
    labelNames: ['event', 'detail'] as const,
    registers: [this.registry],
  });

  /** Counts session events; give it to the session module (`events`). */
  readonly sessionEvents = (event: SessionEvent): void => {
    const detail = event.type === 'authenticated' ? event.source : event.type === 'rejected' ? event.reason : '';
    this.sessions.inc({ event: event.type, detail }, event.type === 'revoked' || event.type === 'evicted' ? event.count : 1);
  };

  constructor() {
    this.registry.setDefaultLabels({ service: 'kura' });
    collectDefaultMetrics({ register: this.registry, prefix: 'kura_' });
  }

  /** Counts an answered request, with its duration (an observer of every response, see `createApp`). */
  readonly observeHttp = ({ method, route, status, seconds }: Answered): void => {
    this.requests.inc({ method, route, status: String(status) });
    if (seconds !== undefined) this.duration.observe({ method, route }, seconds);
  };

  /** Counts every call the stores make to DynamoDB. */
  observeStore(calls: DynamoDbCallLog): void {
    calls.onCall(({ operation, capacityUnits, failed, refused }) => {
      this.storeCalls.inc({ operation, outcome: failed ? 'error' : refused ? 'condition_failed' : 'ok' });
      if (capacityUnits > 0) this.capacity.inc({ operation }, capacityUnits);
    });
  }

  /** Counts every command the stores send to Redis, with its round trip. */
  observeRedis(commands: RedisCommandLog): void {
    commands.onCommand(({ name, failed, seconds }) => {
      this.redisCommands.inc({ command: name, outcome: failed ? 'error' : 'ok' });
      this.redisDuration.observe({ command: name }, seconds);
    });
  }

  /** Serves `GET /metrics` in the Prometheus text format on its own port. */
  async serve(host: string, port: number): Promise<Server> {
    const server = createServer((request, response) => {
      if (request.method !== 'GET' || request.url !== '/metrics') {
        response.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        () => response.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, resolve);
    });
    return server;
  }
}
