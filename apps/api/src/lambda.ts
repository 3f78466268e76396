import awsLambdaFastify, { type PromiseHandler } from '@fastify/aws-lambda';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { createApp } from './app.factory.js';
import { loadConfig } from './config/app-config.js';

/**
 * The AWS Lambda entry (HTTP API, payload 2.0). Serves what `createApp` builds, unchanged. The ready app is
 * kept per execution environment; the first invocation builds it (no network call, no table creation: tables
 * come from `serverless.yml`). Configuration problems fail that invocation with every problem listed.
 */
let proxy: Promise<PromiseHandler<APIGatewayProxyEventV2>> | undefined;

async function boot(): Promise<PromiseHandler<APIGatewayProxyEventV2>> {
  const app = await createApp(loadConfig(process.env));
  return awsLambdaFastify(app.getHttpAdapter().getInstance(), { callbackWaitsForEmptyEventLoop: false });
}

export async function handler(event: APIGatewayProxyEventV2, context: Context) {
  proxy ??= boot().catch((error: unknown) => {
    proxy = undefined; // let the next invocation try again rather than caching a failure
    throw error;
  });
  return (await proxy)(event, context);
}
