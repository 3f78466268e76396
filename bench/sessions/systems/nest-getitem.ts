// A reference between the limit and Kura: the smallest NestJS-on-Fastify app doing the same one consistent
// GetItem per request. Kura minus this is Kura's own cost; this minus the limit is what NestJS costs.
// Bundled with esbuild by run.mjs (it compiles the decorators; no dependency injection here needs metadata).
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { Controller, Get, Headers, Module, UnauthorizedException } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { announce, client, settings } from './common.mjs';

@Controller('auth')
class MeController {
  @Get('me')
  async me(@Headers('authorization') authorization = '') {
    const token = /^Bearer (\S+)$/.exec(authorization)?.[1];
    if (!token) throw new UnauthorizedException();
    const id = createHash('sha256').update(token).digest('base64url');
    const { Item } = await client.send(
      new GetItemCommand({ TableName: process.env.KURA_SESSIONS_TABLE, Key: { id: { S: id } }, ConsistentRead: true }),
    );
    if (!Item) throw new UnauthorizedException();
    return { user: { id: Item.userId?.S, email: Item.email?.S } };
  }
}

@Module({ controllers: [MeController] })
class MeModule {}

const app = await NestFactory.create(MeModule, new FastifyAdapter(), { logger: ['error'] });
await app.listen(settings.port, settings.host);
announce(`${settings.host}:${(app.getHttpServer().address() as { port: number }).port}`);
