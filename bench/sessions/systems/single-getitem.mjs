// The physical limit of a strict session check: plain Fastify doing exactly one strongly consistent GetItem of
// Kura's session item by the token's hash per request, and nothing else (no expiry check, no cookie handling,
// no validation). Kura in strict mode does this read and everything around it.
import { createHash } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import Fastify from 'fastify';
import { announce, client, settings } from './common.mjs';

const table = process.env.KURA_SESSIONS_TABLE;
const app = Fastify();
app.get('/auth/me', async (request, reply) => {
  const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
  if (!token) return reply.code(401).send({ status: 401 });
  const id = createHash('sha256').update(token).digest('base64url');
  const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: { id: { S: id } }, ConsistentRead: true }));
  return Item ? { user: { id: Item.userId.S, email: Item.email.S } } : reply.code(401).send({ status: 401 });
});

announce((await app.listen({ host: settings.host, port: settings.port })).replace('http://', ''));
