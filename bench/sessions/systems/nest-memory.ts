// A reference for the signed cache: the smallest NestJS-on-Fastify app answering GET /auth/me from memory, with no
// session and no I/O (bench/shared/nest-me.ts's controller, its lookup a constant). Kura with the signed cache
// minus this is what Kura's own work costs when no store is read (issue 17); this minus the plain-Fastify
// ceiling is what NestJS costs.
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { kuraRequestIds, referenceAdapterOptions, meModuleAnswering, meModuleWith, withKuraHeaders } from '../../shared/nest-me.ts';
import { announce, referenceSession, settings } from './common.mjs';

// With BENCH_KURA_ANSWER=1 it answers exactly what Kura answers (the session's view, Kura's headers).
const kuraAnswer = process.env.BENCH_KURA_ANSWER === '1';
const user = { id: 'memory', email: 'memory@example.com' };
const session = referenceSession(user);
const module = kuraAnswer ? meModuleAnswering(async () => session) : meModuleWith(async () => user);
const app = await NestFactory.create(module, new FastifyAdapter({ ...referenceAdapterOptions, ...(kuraAnswer ? kuraRequestIds : {}) }), { logger: ['error'] });
if (kuraAnswer) withKuraHeaders(app.getHttpAdapter().getInstance());
await app.listen(settings.port, settings.host);
announce(`${settings.host}:${(app.getHttpServer().address() as { port: number }).port}`);
