import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { createDynamoDbClients, DynamoDbSessionStore, ensureKuraTables } from '@kura/dynamodb';
import { AppModule } from './app.module.js';

const env = process.env;
const tables = { sessions: env.SESSIONS_TABLE ?? 'kura-example-sessions', users: env.USERS_TABLE ?? 'kura-example-users' };
const { client, documents } = createDynamoDbClients({ region: env.AWS_REGION ?? 'us-east-1', endpoint: env.DYNAMODB_ENDPOINT });
if (env.KURA_CREATE_TABLES === 'true') await ensureKuraTables(client, tables);

const store = new DynamoDbSessionStore(documents, { tableName: tables.sessions });
const app = await NestFactory.create(AppModule.register(store), new ExpressAdapter(), { logger: ['warn', 'error'] });
app.enableShutdownHooks();
await app.listen(Number(env.PORT ?? 3000), env.HOST ?? '127.0.0.1');
console.log(`listening on ${await app.getUrl()}`);
