// A second baseline: the smallest NestJS-on-Fastify Lambda handler doing the same work as Kura's GET /auth/me on
// its hot path (one strongly consistent GetItem by the token's hash), bundled with Kura's options. The distance
// from plain Fastify to this is what NestJS itself costs at a cold start; the distance from this to Kura is
// Kura's own code.
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import awsLambdaFastify from '@fastify/aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { meModule, referenceAdapterOptions } from '../shared/nest-me.ts';

const client = new DynamoDBClient({
  region: 'us-east-1',
  endpoint: process.env.DYNAMODB_ENDPOINT,
  credentials: { accessKeyId: 'kuralocal', secretAccessKey: 'kuralocal' },
});
const noRouteSchemas = (): never => {
  throw new Error('no route schemas');
};
type Proxy = (event: unknown, context: unknown) => Promise<unknown>;
let proxy: Promise<Proxy> | undefined;
async function boot() {
  const adapter = new FastifyAdapter({ ...referenceAdapterOptions, schemaController: { compilersFactory: { buildValidator: noRouteSchemas, buildSerializer: noRouteSchemas } } });
  const app = await NestFactory.create(meModule(client, process.env.KURA_SESSIONS_TABLE), adapter, { logger: ['error'] });
  await app.init();
  return awsLambdaFastify(app.getHttpAdapter().getInstance() as never) as unknown as Proxy;
}
export async function handler(event: unknown, context: unknown) {
  proxy ??= boot();
  return (await proxy)(event, context);
}
