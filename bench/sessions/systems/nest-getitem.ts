// A reference between the limit and Kura: the smallest NestJS-on-Fastify app doing the same one consistent
// GetItem per request (bench/shared/nest-me.ts, also the cold-start benchmark's); with REDIS_URL, one Redis GET.
// Kura minus this is Kura's own cost; this minus the limit is what NestJS costs. Bundled by run.mjs with esbuild (local files only).
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { meModule, meModuleWith } from '../../shared/nest-me.ts';
import { announce, client, redisClient, redisUrl, referenceKey, settings } from './common.mjs';

/** With REDIS_URL: one Redis GET per request instead (the reference for Kura on Redis). */
async function oneRedisGet() {
  const redis = await redisClient();
  return meModuleWith(async (id) => {
    const user = await redis.get(referenceKey(id));
    return user === null ? undefined : (JSON.parse(user) as { id: string; email: string });
  });
}
const module = redisUrl ? await oneRedisGet() : meModule(client, process.env.KURA_SESSIONS_TABLE);
const app = await NestFactory.create(module, new FastifyAdapter(), { logger: ['error'] });
await app.listen(settings.port, settings.host);
announce(`${settings.host}:${(app.getHttpServer().address() as { port: number }).port}`);
