// The smallest NestJS module doing what Kura's GET /auth/me does on its hot path: one lookup of the session by the
// token's hash (one strongly consistent GetItem, or one Redis GET). The reference for NestJS's own cost, in both
// benchmarks (cold start as a Lambda handler, throughput as a server).
import 'reflect-metadata';
import { createHash, randomUUID } from 'node:crypto';
import { Controller, Get, Header, Headers, Module, UnauthorizedException } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { answerSecurityHeaders } from '../../apps/api/src/http/security-headers.js';
import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';

/** The session's user by the token's hash, or nothing. */
export type FindSessionUser = (id: string) => Promise<{ id?: string; email?: string } | undefined>;

/** The module doing one consistent GetItem of Kura's session item per request. */
export function meModule(client: DynamoDBClient, table: string | undefined) {
  return meModuleWith(async (id) => {
    const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: { id: { S: id } }, ConsistentRead: true }));
    return Item ? { id: Item.userId?.S, email: Item.email?.S } : undefined;
  });
}

/** `meModule` answering as Kura does (`meModuleAnswering`): the same GetItem, of Kura's session item. */
export function meModuleAnsweringFrom(client: DynamoDBClient, table: string | undefined) {
  return meModuleAnswering(async (id) => {
    const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: { id: { S: id } }, ConsistentRead: true }));
    if (!Item?.userId?.S) return undefined;
    return {
      user: { id: Item.userId.S, email: Item.email?.S, name: Item.name?.S ?? null },
      createdAt: Number(Item.createdAt?.N),
      idleExpiresAt: Number(Item.idleExpiresAt?.N),
      absoluteExpiresAt: Number(Item.absoluteExpiresAt?.N),
    };
  });
}

/** The session id a bearer token stands for (its SHA-256, as Kura keys sessions); 401 without one. */
function sessionIdFrom(authorization: string): string {
  const token = /^Bearer (\S+)$/.exec(authorization)?.[1];
  if (!token) throw new UnauthorizedException();
  return createHash('sha256').update(token).digest('base64url');
}

/** The module doing one lookup per request, `find`. */
export function meModuleWith(find: FindSessionUser) {
  @Controller('auth')
  class MeController {
    @Get('me')
    async me(@Headers('authorization') authorization = '') {
      const id = sessionIdFrom(authorization);
      const user = await find(id);
      if (!user) throw new UnauthorizedException();
      return { user };
    }
  }

  @Module({ controllers: [MeController] })
  class MeModule {}
  return MeModule;
}

/** What a session lookup returns for `meModuleAnswering`: the user and the three times Kura reports. */
export interface SessionOfReference {
  user: { id: string; email?: string; name: string | null };
  createdAt: number;
  idleExpiresAt: number;
  absoluteExpiresAt: number;
}

/**
 * `new Date(ms).toISOString()`, remembered, as Kura remembers it: a session's times seldom change, and V8 formats
 * a date in C++ at about 8,000 instructions a call (valgrind), three calls per answer. Until 2026-12-01 this
 * reference formatted them on every request, which made it about 25,000 instructions per request dearer than Kura
 * at the same answer, and Kura's session handling look almost free beside it (BENCHMARKS.md).
 */
function isoTimes(): (ms: number) => string {
  const kept = new Map<number, string>();
  return (ms) => {
    let text = kept.get(ms);
    if (text === undefined) {
      if (kept.size >= 16_384) kept.clear();
      text = new Date(ms).toISOString();
      kept.set(ms, text);
    }
    return text;
  };
}

/**
 * The same lookup answering exactly what Kura answers to GET /auth/me: the user and the session's view (its id
 * and three ISO times, remembered as Kura remembers them) in the body, `Cache-Control: no-store`;
 * `withKuraHeaders` adds the instance header and a request id. Kura's answer is part of the API it documents, so
 * this is the reference that compares like with like; the bare `meModuleWith` shows what that answer costs.
 */
export function meModuleAnswering(find: (id: string) => Promise<SessionOfReference | undefined>) {
  const iso = isoTimes();
  @Controller('auth')
  class MeController {
    @Get('me')
    @Header('Cache-Control', 'no-store')
    async me(@Headers('authorization') authorization = '') {
      const id = sessionIdFrom(authorization);
      const session = await find(id);
      if (!session) throw new UnauthorizedException();
      return {
        user: session.user,
        session: {
          id,
          createdAt: iso(session.createdAt),
          expiresAt: iso(session.absoluteExpiresAt),
          idleExpiresAt: iso(session.idleExpiresAt),
        },
      };
    }
  }

  @Module({ controllers: [MeController] })
  class MeModule {}
  return MeModule;
}

/**
 * Kura's per-response headers, set in one `onSend` hook: the instance and the request id, and (since session 53) the
 * security headers of every answer over plain HTTP, as the bench runs Kura (an outside review found the references
 * no longer answered all that Kura answers).
 */
export function withKuraHeaders(fastify: FastifyInstance): void {
  const instance = randomUUID();
  const security = answerSecurityHeaders(false);
  fastify.addHook('onSend', (request, reply, _payload, done) => {
    reply.header('kura-instance', instance);
    reply.header('x-request-id', request.id);
    reply.headers(security);
    done();
  });
}

/** Fastify's options for `withKuraHeaders`: a request id per request, as Kura makes it (a new UUID). */
export const kuraRequestIds = { genReqId: () => randomUUID() };

/**
 * The references' FastifyAdapter settings that Kura's own app has too, so neither side runs what the other does
 * not: no Nest middleware, hence no @fastify/middie hook on every request (and none in a bundle, which leaves it
 * out: scripts/lambda-bundle-options.mjs).
 */
export const referenceAdapterOptions = { skipMiddie: true } as const;
