// A counting proxy in front of the DynamoDB engine: every system under test talks to the engine through it, so
// DynamoDB calls and consumed capacity are counted at the engine boundary, not taken from any library's word.
// - counts each call by operation (the X-Amz-Target header: GetItem, PutItem, UpdateItem, ...);
// - asks the engine for the capacity each call consumed (adds ReturnConsumedCapacity=TOTAL to operations that
//   accept it; the engine computes the units from the item sizes and the read consistency) and sums it;
// - can add a fixed delay per call (`delayMs`), so a local engine behaves more like a network hop to DynamoDB.
// The request is re-sent unsigned-body-safe: DynamoDB Local and dynalite do not verify SigV4 signatures.
import { createServer, request as httpRequest, Agent } from 'node:http';

const CAPACITY_OPERATIONS = new Set([
  'GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'Scan', 'BatchGetItem', 'BatchWriteItem',
  'TransactGetItems', 'TransactWriteItems',
]);
const READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

export function newCounters() {
  return { calls: {}, reads: 0, writes: 0, readUnits: 0, writeUnits: 0, other: 0, connections: 0 };
}

export async function startCountingProxy({ target, host = '127.0.0.1', delayMs = 0 }) {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  let counters = newCounters();
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', async () => {
      const operation = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
      let body = Buffer.concat(chunks);
      if (CAPACITY_OPERATIONS.has(operation)) {
        const parsed = JSON.parse(body.toString('utf8'));
        parsed.ReturnConsumedCapacity = 'TOTAL';
        body = Buffer.from(JSON.stringify(parsed));
      }
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      const headers = { ...req.headers, host: upstream.host, 'content-length': String(body.length) };
      const forward = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent },
        (answer) => {
          const parts = [];
          answer.on('data', (chunk) => parts.push(chunk));
          answer.on('end', () => {
            const payload = Buffer.concat(parts);
            count(operation, answer.statusCode, payload);
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(payload);
          });
        },
      );
      forward.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      forward.end(body);
    });
  });

  function count(operation, status, payload) {
    counters.calls[operation] = (counters.calls[operation] ?? 0) + 1;
    if (READS.has(operation)) counters.reads += 1;
    else if (WRITES.has(operation)) counters.writes += 1;
    else counters.other += 1;
    if (status !== 200 || !CAPACITY_OPERATIONS.has(operation)) return;
    const answer = JSON.parse(payload.toString('utf8'));
    const consumed = [answer.ConsumedCapacity ?? []].flat();
    const units = consumed.reduce((sum, entry) => sum + (entry?.CapacityUnits ?? 0), 0);
    if (READS.has(operation)) counters.readUnits += units;
    else counters.writeUnits += units;
  }

  server.on('connection', () => (counters.connections += 1)); // new TCP connections from the system under test
  await new Promise((resolve) => server.listen(0, host, resolve));
  return {
    endpoint: `http://${host}:${server.address().port}`,
    /** Returns the counts since the last call and starts new ones. */
    take() {
      const taken = counters;
      counters = newCounters();
      return taken;
    },
    close: () => new Promise((resolve) => { agent.destroy(); server.closeAllConnections(); server.close(resolve); }),
  };
}

// Run as its own process (so that counting never competes with the load generator's event loop):
//   fork('counting-proxy.mjs', [target, delayMs]) → sends { endpoint }, answers 'take' with the counters.
if (process.send && process.argv[2]) {
  const proxy = await startCountingProxy({ target: process.argv[2], delayMs: Number(process.argv[3] ?? 0) });
  process.on('message', (message) => {
    if (message === 'take') process.send({ counters: proxy.take() });
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ endpoint: proxy.endpoint });
}
