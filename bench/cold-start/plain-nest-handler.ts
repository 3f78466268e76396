// A second baseline: the smallest NestJS-on-Fastify Lambda handler doing the same work as Kura's GET /auth/me on
// its hot path (one strongly consistent GetItem by the token's hash), bundled with Kura's options. The distance
// from plain Fastify to this is what NestJS itself costs at a cold start; the distance from this to Kura is
// Kura's own code.
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { Controller, Get, Headers, Module, UnauthorizedException } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import awsLambdaFastify from '@fastify/aws-lambda';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';

const client = new DynamoDBClient({
  region: 'us-east-1',
  endpoint: process.env.DYNAMODB_ENDPOINT,
  credentials: { accessKeyId: 'kuralocal', secretAccessKey: 'kuralocal' },
});

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

const noRouteSchemas = (): never => {
  throw new Error('no route schemas');
};
type Proxy = (event: unknown, context: unknown) => Promise<unknown>;
let proxy: Promise<Proxy> | undefined;
async function boot() {
  const adapter = new FastifyAdapter({ schemaController: { compilersFactory: { buildValidator: noRouteSchemas, buildSerializer: noRouteSchemas } } });
  const app = await NestFactory.create(MeModule, adapter, { logger: ['error'] });
  await app.init();
  return awsLambdaFastify(app.getHttpAdapter().getInstance() as never) as unknown as Proxy;
}
export async function handler(event: unknown, context: unknown) {
  proxy ??= boot();
  return (await proxy)(event, context);
}
