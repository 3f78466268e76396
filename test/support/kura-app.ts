import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../apps/api/src/app.factory.js';
import { loadConfig } from '../../apps/api/src/config/app-config.js';

/** Kura in this process, listening on a real loopback socket. */
export async function startKuraInProcess(env: Record<string, string>): Promise<{ app: NestFastifyApplication; baseUrl: string }> {
  const app = await createApp(loadConfig({ HOST: '127.0.0.1', PORT: '0', ...env }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.getHttpServer().address() as { port: number };
  return { app, baseUrl: `http://127.0.0.1:${address.port}` };
}
