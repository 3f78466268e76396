import type { AddressInfo } from 'node:net';
import { type AppConfig, ConfigError, loadConfig } from './config/app-config.js';
import { createApp, createLogger } from './app.factory.js';
import { startEmbeddedDynamoDb } from './embedded/embedded-dynamodb.js';
import { initTables } from './storage/tables.js';

/** The long-running server (local, containers, Kubernetes). Serves what `createApp` builds; nothing else. */
async function main(): Promise<void> {
  let config = configOrExit();
  const logger = createLogger(config.log);

  const embedded = config.store.kind === 'embedded' ? await startEmbeddedDynamoDb(config.store.dataDir) : undefined;
  if (embedded) {
    config = { ...config, store: { ...config.store, endpoint: embedded.endpoint } };
    logger.log(`embedded DynamoDB (dynalite) at ${embedded.endpoint}, data in ${config.store.dataDir}`, 'Store');
  }
  if (config.store.kind === 'memory') {
    logger.warn('KURA_STORE=memory: sessions live in this process only and die with it (demonstration only)', 'Store');
  }
  if (config.store.createTables) await initTables(config.store, logger);

  const app = await createApp(config, logger);
  await app.listen({ host: config.http.host, port: config.http.port });
  const { port } = app.getHttpServer().address() as AddressInfo;
  const base = `http://${config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host}:${port}`;
  logger.log(`Kura is listening on ${base} — explorer at ${base}/docs`, 'Main');

  const stop = async (signal: string) => {
    logger.log(`${signal}: shutting down`, 'Main');
    await app.close();
    await embedded?.close();
    process.exit(0);
  };
  process.once('SIGTERM', (signal) => void stop(signal));
  process.once('SIGINT', (signal) => void stop(signal));
}

function configOrExit(): AppConfig {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

await main();
