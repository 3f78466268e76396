// A reference between the limit and Kura: the smallest NestJS-on-Fastify app doing the same one consistent
// GetItem per request (bench/shared/nest-me.ts, also the cold-start benchmark's). Kura minus this is Kura's own
// cost; this minus the limit is what NestJS costs. Bundled by run.mjs with esbuild (local files only).
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { meModule } from '../../shared/nest-me.ts';
import { announce, client, settings } from './common.mjs';

const app = await NestFactory.create(meModule(client, process.env.KURA_SESSIONS_TABLE), new FastifyAdapter(), { logger: ['error'] });
await app.listen(settings.port, settings.host);
announce(`${settings.host}:${(app.getHttpServer().address() as { port: number }).port}`);
