// The baseline: a minimal plain-Fastify Lambda handler doing the same work as Kura's GET /auth/me on its
// hot path — one strongly consistent GetItem of the session by the token's hash — and nothing else.
import { createHash } from 'node:crypto';
import awsLambdaFastify from '@fastify/aws-lambda';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import Fastify from 'fastify';

const client = new DynamoDBClient({
  region: 'us-east-1',
  endpoint: process.env.DYNAMODB_ENDPOINT,
  credentials: { accessKeyId: 'kuralocal', secretAccessKey: 'kuralocal' },
});
// Configured like Kura's Fastify: no route schemas, so no schema compilers (the shared bundle leaves them out).
const noRouteSchemas = () => {
  throw new Error('no route schemas');
};
const app = Fastify({ schemaController: { compilersFactory: { buildValidator: noRouteSchemas, buildSerializer: noRouteSchemas } } });
app.get('/auth/me', async (request, reply) => {
  const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
  if (!token) return reply.code(401).send({ status: 401 });
  const id = createHash('sha256').update(token).digest('base64url');
  const { Item } = await client.send(
    new GetItemCommand({ TableName: process.env.KURA_SESSIONS_TABLE, Key: { id: { S: id } }, ConsistentRead: true }),
  );
  return Item ? { user: { id: Item.userId.S, email: Item.email.S } } : reply.code(401).send({ status: 401 });
});
export const handler = awsLambdaFastify(app);
