import { listenOnLoopback } from './loopback-server.js';
import { type IncomingMessage, type ServerResponse, createServer, request as httpRequest, Agent } from 'node:http';

/**
 * A fault-injecting proxy between Kura and the DynamoDB engine. Modes:
 * - `pass`: forward every call;
 * - `latency`: forward after `delayMs`;
 * - `reset`: cut the connection as soon as a call arrives (ECONNRESET);
 * - `blackhole`: accept the call and never answer;
 * - `http500`: DynamoDB's InternalServerError (HTTP 500);
 * - `throttle`: ProvisionedThroughputExceededException (HTTP 400), what DynamoDB answers when it throttles;
 * - `stall`: forward the call, pass back the engine's headers and half its body, then send nothing more and keep the
 *   connection open (an answer cut mid-body by something between that neither closes nor resets).
 * `calls` counts the calls that arrived (the SDK's attempts), per mode change; `operations` counts them by
 * DynamoDB operation (`GetItem`, `PutItem`, ...), so a test can say what a request cost at the engine boundary.
 */
export type FaultMode = 'pass' | 'latency' | 'reset' | 'blackhole' | 'http500' | 'throttle' | 'stall';

/** Which calls a one-shot fault applies to: the DynamoDB operation (`PutItem`, ...) and its JSON body. */
export type CallFilter = (operation: string, body: string) => boolean;

export interface FaultProxy {
  readonly endpoint: string;
  readonly calls: number;
  /** Calls that arrived since the last `set()`, by operation (the `X-Amz-Target` header). */
  readonly operations: Readonly<Record<string, number>>;
  /**
   * Every operation on every table (and index) since the proxy started, as `Operation table` or `Operation
   * table/index/name` (`GetItem kura-sessions`, `Query kura-sessions/index/byUser`): what an IAM policy must allow.
   */
  readonly accessed: ReadonlySet<string>;
  set(mode: FaultMode, options?: { delayMs?: number }): void;
  /**
   * Holds the next call that matches until `release()`, to force one interleaving: `held` resolves once such a
   * call has arrived (and is being held), `answered` once the engine answered it after the release.
   */
  hold(filter: CallFilter): { held: Promise<void>; release(): void; answered: Promise<void> };
  /**
   * Lets the next `times` matching calls reach the engine, then cuts the connection instead of passing the
   * answer back: the write happened, the client never heard, and its SDK retries.
   */
  loseAnswer(filter: CallFilter, times?: number): { lost: Promise<void> };
  /**
   * Answers the next `times` matching calls with DynamoDB's error `type` (HTTP 400) instead of passing them on,
   * as a global table refuses a write that meets one from another Region (`ReplicatedWriteConflictException`).
   */
  refuse(filter: CallFilter, type: string, times?: number): { refused: Promise<void> };
  /**
   * From now on, passes the engine's JSON answer to every matching call through `rewrite` (what AWS would say that
   * the local engine cannot: a table's global replicas, say).
   */
  amend(filter: CallFilter, rewrite: (answer: Record<string, unknown>) => Record<string, unknown>): void;
  close(): Promise<void>;
}

/** The DynamoDB operation a call asks for (`PutItem`, ...), from its `X-Amz-Target` header. */
const operationOf = (req: IncomingMessage) => String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';

/**
 * The tables (and index) a call's JSON body names: `TableName` (with `IndexName`), or a batch's `RequestItems`. A
 * call that names none in either way (a transaction, say) is noted as `?`, which no IAM statement grants.
 */
function resourcesOf(body: string): string[] {
  let parsed: { TableName?: string; IndexName?: string; RequestItems?: Record<string, unknown> };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    return ['?'];
  }
  if (parsed.TableName) return [parsed.IndexName ? `${parsed.TableName}/index/${parsed.IndexName}` : parsed.TableName];
  return parsed.RequestItems ? Object.keys(parsed.RequestItems) : ['?'];
}

const DYNAMODB_ERROR = (type: string, message: string) =>
  JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message });

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const held = new Set<ServerResponse>();
  const delayed = new Set<NodeJS.Timeout>();
  let mode: FaultMode = 'pass';
  let delayMs = 0;
  let calls = 0;
  let operations: Record<string, number> = {};
  const accessed = new Set<string>();
  const holds: { filter: CallFilter; arrived: () => void; released: Promise<void>; answered: () => void }[] = [];
  const losses: { filter: CallFilter; left: number; lost: () => void }[] = [];
  const refusals: { filter: CallFilter; type: string; left: number; refused: () => void }[] = [];
  const amendments: { filter: CallFilter; rewrite: (answer: Record<string, unknown>) => Record<string, unknown> }[] = [];

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer, loseAnswer = false, answered?: () => void, stall = false) => {
    const operation = operationOf(req);
    const amendment = amendments.find((candidate) => candidate.filter(operation, body.toString()));
    const out = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        answer.once('end', () => answered?.());
        if (stall) {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => {
            const whole = Buffer.concat(chunks);
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.write(whole.subarray(0, Math.floor(whole.length / 2)));
            held.add(res); // the rest never comes; closed with the proxy
          });
          return;
        }
        if (loseAnswer) {
          answer.resume();
          answer.on('end', () => req.socket.destroy());
          return;
        }
        if (amendment && answer.statusCode === 200) {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => {
            const amended = Buffer.from(JSON.stringify(amendment.rewrite(JSON.parse(Buffer.concat(chunks).toString()))));
            // The body's checksum and length were the engine's: the amended body goes without the one, with its own other.
            const { 'x-amz-crc32': _crc, 'content-length': _length, ...headers } = answer.headers;
            res.writeHead(200, { ...headers, 'content-length': String(amended.length) });
            res.end(amended);
          });
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    out.end(body);
  };

  /** One-shot faults first: they apply whatever the mode. True when the call was taken care of. */
  const oneShot = (req: IncomingMessage, res: ServerResponse, body: Buffer): boolean => {
    const operation = operationOf(req);
    const text = body.toString();
    const hold = holds.find((candidate) => candidate.filter(operation, text));
    if (hold) {
      holds.splice(holds.indexOf(hold), 1);
      hold.arrived();
      void hold.released.then(() => forward(req, res, body, false, hold.answered));
      return true;
    }
    const refusal = refusals.find((candidate) => candidate.left > 0 && candidate.filter(operation, text));
    if (refusal) {
      refusal.left -= 1;
      if (refusal.left === 0) refusals.splice(refusals.indexOf(refusal), 1);
      refusal.refused();
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(DYNAMODB_ERROR(refusal.type, 'The request was rejected because one or more items in the request are being modified by a request in another Region.'));
      return true;
    }
    const loss = losses.find((candidate) => candidate.left > 0 && candidate.filter(operation, text));
    if (loss) {
      loss.left -= 1;
      if (loss.left === 0) losses.splice(losses.indexOf(loss), 1);
      loss.lost();
      forward(req, res, body, true);
      return true;
    }
    return false;
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      calls += 1;
      const operation = operationOf(req);
      operations[operation] = (operations[operation] ?? 0) + 1;
      const body = Buffer.concat(chunks);
      for (const resource of resourcesOf(body.toString())) accessed.add(`${operation} ${resource}`);
      if (oneShot(req, res, body)) return;
      switch (mode) {
        case 'pass':
          return forward(req, res, body);
        case 'latency': {
          const timer = setTimeout(() => {
            delayed.delete(timer);
            forward(req, res, body);
          }, delayMs);
          delayed.add(timer);
          return;
        }
        case 'reset':
          return req.socket.destroy();
        case 'blackhole':
          held.add(res); // answered never; closed with the proxy
          return;
        case 'http500':
          res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
          return res.end(DYNAMODB_ERROR('InternalServerError', 'Internal server error'));
        case 'stall':
          return forward(req, res, body, false, undefined, true);
        case 'throttle':
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
          return res.end(DYNAMODB_ERROR('ProvisionedThroughputExceededException', 'The level of configured provisioned throughput for the table was exceeded.'));
      }
    });
  });
  const listening = await listenOnLoopback(server);
  const { port } = listening;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    get calls() {
      return calls;
    },
    get operations() {
      return { ...operations };
    },
    get accessed() {
      return new Set(accessed);
    },
    hold(filter) {
      let arrived!: () => void;
      let release!: () => void;
      const held = new Promise<void>((resolve) => (arrived = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      let answered!: () => void;
      const answeredPromise = new Promise<void>((resolve) => (answered = resolve));
      holds.push({ filter, arrived, released, answered });
      return { held, release, answered: answeredPromise };
    },
    loseAnswer(filter, times = 1) {
      let lost!: () => void;
      const promise = new Promise<void>((resolve) => (lost = resolve));
      losses.push({ filter, left: times, lost });
      return { lost: promise };
    },
    amend(filter, rewrite) {
      amendments.push({ filter, rewrite });
    },
    refuse(filter, type, times = 1) {
      let refused!: () => void;
      const promise = new Promise<void>((resolve) => (refused = resolve));
      refusals.push({ filter, type, left: times, refused });
      return { refused: promise };
    },
    set(next, options = {}) {
      mode = next;
      delayMs = options.delayMs ?? 0;
      calls = 0;
      operations = {};
      // A black hole holds what it has; leaving it lets those calls fail over to the next mode's behaviour.
      for (const res of held) res.destroy();
      held.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of delayed) clearTimeout(timer);
        for (const res of held) res.destroy();
        agent.destroy();
        void listening.close().then(resolve);
      }),
  };
}
