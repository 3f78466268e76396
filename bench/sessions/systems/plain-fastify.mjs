// The ceiling: plain Fastify with no session at all. It answers the same routes with the same shapes, checking
// only that a credential is present.
import Fastify from 'fastify';
import { announce, settings } from './common.mjs';

const app = Fastify();
app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));
const user = { id: 'bench', email: 'bench@example.com' };
const credential = (request) => request.headers.authorization ?? request.headers.cookie;
app.get('/auth/me', async (request, reply) => (credential(request) ? { user } : reply.code(401).send({ status: 401 })));
app.patch('/session/data', async (request, reply) => (credential(request) ? request.body : reply.code(401).send({ status: 401 })));

announce((await app.listen({ host: settings.host, port: settings.port })).replace('http://', ''));
