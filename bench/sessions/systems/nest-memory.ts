// A reference for the signed cache: the smallest NestJS-on-Fastify app answering GET /auth/me from memory, with no
// session and no I/O (bench/shared/nest-me.ts's controller, its lookup a constant). Kura with the signed cache
// minus this is what Kura's own work costs when no store is read (issue 17); this minus the plain-Fastify
// ceiling is what NestJS costs.
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { meModuleWith } from '../../shared/nest-me.ts';
import { announce, settings } from './common.mjs';

const user = { id: 'memory', email: 'memory@example.com' };
const app = await NestFactory.create(meModuleWith(async () => user), new FastifyAdapter(), { logger: ['error'] });
await app.listen(settings.port, settings.host);
announce(`${settings.host}:${(app.getHttpServer().address() as { port: number }).port}`);
