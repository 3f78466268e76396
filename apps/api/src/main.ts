import type { AddressInfo } from 'node:net';
import type { ConsoleLogger } from '@nestjs/common';
import { StoreUnavailableError } from '@kura/common';
import { TableMismatchError } from '@kura/dynamodb';
import { type AppConfig, ConfigError, loadConfig, unknownVariables } from './config/app-config.js';
import { createApp, createLogger } from './app.factory.js';
import { DataDirInUseError } from './embedded/data-dir-in-use.error.js';
import { DataDirUnusableError } from './embedded/data-dir-unusable.error.js';
import { Lifecycle } from './health/lifecycle.js';
import { lastCall } from './http/last-call.js';
import { assertPortFree, listening, ListenRefusedError } from './port-in-use.error.js';
import { readRedisTlsFiles, RedisTlsFileError } from './storage/redis-tls-files.js';
import { initTables } from './storage/tables.js';

/** KURA_CREATE_TABLES could not create the tables: why, in one line. */
class TablesNotCreatedError extends Error {
  constructor(reason: string) {
    super(`could not create the tables (KURA_CREATE_TABLES): ${reason}`);
  }
}

/** How long open connections may carry one more request once new ones are refused (see lastCall). */
const LAST_CALL_MS = 1000;

/** The long-running server (local, containers, Kubernetes). Serves what `createApp` builds; nothing else. */
async function main(): Promise<void> {
  let config = configOrExit();
  const logger = createLogger(config.log);

  // Signals are taken from the start. Without a listener, SIGTERM's default action ends the process at once:
  // a SIGTERM that came right after "listening" (a test under load; an orchestrator scaling down a pod that
  // had just started) left the data folder's endpoint file naming an engine that was gone. One that comes while
  // starting is kept, and the server stops the usual way as soon as it is up, without a drain (nobody has
  // been sent to it yet). Every signal is taken, not only the first: npm passes a signal its process group got on to
  // Kura too (Ctrl-C at `npm start`, a SIGTERM to the group), so Kura often gets two, and with the first one's
  // listener gone the second ended it at once, mid-drain (an outside review, 2026-12-07: 4 Ctrl-Cs in 6). The first
  // one stops it; the stop's own deadline bounds how long that takes. But a Ctrl-C (SIGINT) during a SIGTERM's drain
  // cuts the drain short, as Ctrl-C skips it when it comes first: it was taken in silence, and the drain (up to 120 s)
  // went on (a review, 2026-12-07).
  let stop: ((signal: string, drain?: boolean) => Promise<void>) | undefined;
  let signalled: string | undefined;
  let cutDrain: (() => void) | undefined;
  const onSignal = (signal: string) => {
    if (signalled) {
      if (signal === 'SIGINT' && cutDrain) {
        logger.log('SIGINT: skipping the rest of the drain; closing', 'Main');
        cutDrain();
      }
      return;
    }
    signalled = signal;
    if (stop) return void stop(signal);
    logger.log(`${signal} while starting: stopping as soon as started`, 'Main');
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  await assertPortFree('PORT', { host: config.http.host, variable: 'HOST' }, config.http.port);
  if (config.metrics.port !== undefined) await assertPortFree('KURA_METRICS_PORT', { host: config.metrics.host, variable: 'KURA_METRICS_HOST' }, config.metrics.port);
  if (config.store.redis?.tls) await readRedisTlsFiles(config.store.redis.tls);

  // The embedded engine (dynalite, LevelDB) and the metrics (prom-client) are loaded only when used: a replica
  // on a real store does not carry them in memory.
  const embedded = config.store.kind === 'embedded' ? await (await import('./embedded/embedded-dynamodb.js')).startEmbeddedDynamoDb(config.store.dataDir) : undefined;
  if (embedded) {
    config = { ...config, store: { ...config.store, endpoint: embedded.endpoint } };
    logger.log(`embedded DynamoDB (dynalite) at ${embedded.endpoint}, data in ${config.store.dataDir}`, 'Store');
  }
  if (config.store.warning) logger.warn(config.store.warning, 'Store');
  for (const warning of unknownVariables(process.env)) logger.warn(warning, 'Config');
  const served = await serve(config, logger).catch(async (error: unknown) => {
    await embedded?.close(); // never leave the data folder's endpoint file naming an engine that is gone
    throw error;
  });
  const { app, metricsServer } = served;

  // Graceful shutdown: turn not-ready, keep serving while the load balancer notices, stop accepting connections
  // while open ones carry their last request, then close (Fastify finishes requests in flight and closes idle
  // connections), all within a hard deadline.
  stop = async (signal: string, drain = true) => {
    // A person pressing Ctrl-C wants it gone now; an orchestrator's SIGTERM gets the drain.
    const drainSeconds = signal === 'SIGTERM' && drain ? config.shutdown.drainSeconds : 0;
    const { closeTimeoutSeconds } = config.shutdown;
    logger.log(`${signal}: not ready; draining for ${drainSeconds}s, then closing`, 'Main');
    const lifecycle = app.get(Lifecycle);
    lifecycle.startDraining();
    setTimeout(() => {
      logger.error(`still open ${closeTimeoutSeconds}s after closing began: exiting`, 'Main');
      process.exit(1);
    }, (drainSeconds + closeTimeoutSeconds) * 1000).unref();
    // A drain of 0 s (Ctrl-C first) has nothing to cut: npm's second SIGINT then said it skipped one.
    if (drainSeconds > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, drainSeconds * 1000);
        cutDrain = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      cutDrain = undefined;
    }
    lifecycle.startClosing();
    await lastCall(app.getHttpServer(), LAST_CALL_MS);
    await app.close();
    metricsServer?.close();
    await embedded?.close();
    logger.log('closed', 'Main');
    process.exit(0);
  };
  if (signalled) void stop(signalled, false);
}

async function serve(config: AppConfig, logger: ConsoleLogger) {
  if (config.store.kind === 'memory') {
    logger.warn('KURA_STORE=memory: sessions live in this process only and die with it (demonstration only)', 'Store');
  }
  if (config.store.createTables) {
    await initTables(config.store, logger).catch((error: unknown) => {
      if (error instanceof StoreUnavailableError) throw new TablesNotCreatedError(`the store could not answer: ${error.reason}`);
      throw error instanceof TableMismatchError ? new TablesNotCreatedError(error.message) : error;
    });
  }

  const metrics = config.metrics.port === undefined ? undefined : new (await import('./observability/metrics.js')).KuraMetrics();
  const app = await createApp(config, logger, undefined, metrics);
  await listening('PORT', config.http.port, () => app.listen({ host: config.http.host, port: config.http.port }), { host: config.http.host, variable: 'HOST' });
  const metricsPort = config.metrics.port;
  const metricsServer =
    metrics && metricsPort !== undefined
      ? await listening('KURA_METRICS_PORT', metricsPort, () => metrics.serve(config.metrics.host, metricsPort), { host: config.metrics.host, variable: 'KURA_METRICS_HOST' })
      : undefined;
  if (metricsServer) logger.log(`Prometheus metrics on http://${config.metrics.host}:${(metricsServer.address() as AddressInfo).port}/metrics`, 'Main');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const base = `http://${config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host}:${port}`;
  logger.log(`Kura is listening on ${base} — explorer at ${base}/docs`, 'Main');
  return { app, metricsServer };
}

function configOrExit(): AppConfig {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    refuseToStart(error.message, { problems: error.problems });
  }
}

/**
 * Says why Kura did not start, on stderr, and exits with 1: a line of text, or with `KURA_LOG_FORMAT=json` one JSON
 * object like every other line the server writes (`level`, `pid`, `timestamp`, `message`, `context`), so that a log
 * pipeline that parses JSON (CloudWatch, Loki, a Kubernetes log agent) keeps it whole instead of splitting it into
 * lines of plain text. Read from the environment as given: the configuration itself may be what failed.
 */
function refuseToStart(message: string, details: Record<string, unknown> = {}): never {
  if (process.env.KURA_LOG_FORMAT?.trim() === 'json') {
    process.stderr.write(`${JSON.stringify({ level: 'fatal', pid: process.pid, timestamp: Date.now(), message: message.split('\n')[0]!.replace(/:$/, ''), context: 'Main', ...details })}\n`);
  } else {
    process.stderr.write(`${message}\n`);
  }
  process.exit(1);
}

try {
  await main();
} catch (error) {
  // What a newcomer can meet at start (the data folder or a port taken by another process, a host or port it may not
  // listen on, a data folder that cannot be made, tables that could not be created with KURA_CREATE_TABLES, a Redis
  // TLS file that cannot be read): one line, no stack.
  if (!(error instanceof DataDirInUseError || error instanceof DataDirUnusableError || error instanceof ListenRefusedError || error instanceof TablesNotCreatedError || error instanceof RedisTlsFileError)) throw error;
  refuseToStart(error.message);
}
