// A reference between the limit and Kura: the smallest NestJS-on-Fastify app doing the same one consistent
// GetItem per request (bench/shared/nest-me.ts, also the cold-start benchmark's); with REDIS_URL, one Redis GET.
// Kura minus this is Kura's own cost; this minus the limit is what NestJS costs. With BENCH_KURA_ANSWER=1
// it answers exactly what Kura answers (the session's view, Kura's headers): Kura minus that is what Kura's session
// handling costs, its documented answer aside. Bundled by run.mjs with esbuild (local files only).
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { kuraRequestIds, referenceAdapterOptions, meModule, meModuleAnswering, meModuleAnsweringFrom, meModuleWith, type SessionOfReference, withKuraHeaders } from '../../shared/nest-me.ts';
import { announce, client, redisClient, redisUrl, referenceKey, settings } from './common.mjs';

const kuraAnswer = process.env.BENCH_KURA_ANSWER === '1';

/** With REDIS_URL: one Redis GET per request instead (the reference for Kura on Redis). */
async function oneRedisGet() {
  const redis = await redisClient();
  const read = async (id: string) => {
    const value = await redis.get(referenceKey(id));
    return value === null ? undefined : JSON.parse(value);
  };
  return kuraAnswer ? meModuleAnswering(read as (id: string) => Promise<SessionOfReference | undefined>) : meModuleWith(read);
}
const table = process.env.KURA_SESSIONS_TABLE;
const module = redisUrl ? await oneRedisGet() : kuraAnswer ? meModuleAnsweringFrom(client, table) : meModule(client, table);
const app = await NestFactory.create(module, new FastifyAdapter({ ...referenceAdapterOptions, ...(kuraAnswer ? kuraRequestIds : {}) }), { logger: ['error'] });
if (kuraAnswer) withKuraHeaders(app.getHttpAdapter().getInstance());
await app.listen(settings.port, settings.host);
announce(`${settings.host}:${(app.getHttpServer().address() as { port: number }).port}`);
