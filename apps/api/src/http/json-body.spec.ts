import Fastify from 'fastify';
import { parseJsonBodies } from './json-body.js';
import { RequestValidationError } from './request-validation.error.js';

/** What Kura's body parser makes of a body: the value a route gets, or the error it refuses it with. */
async function read(body: string): Promise<{ value?: unknown; error?: string }> {
  const fastify = Fastify();
  parseJsonBodies(fastify);
  fastify.setErrorHandler((error, _request, reply) => reply.code(400).send({ error: error instanceof RequestValidationError ? error.errors[0]!.detail : (error as Error).message }));
  fastify.post('/', async (request) => ({ value: request.body }));
  const response = await fastify.inject({ method: 'POST', url: '/', headers: { 'content-type': 'application/json' }, payload: body });
  await fastify.close();
  return response.json();
}

describe('parseJsonBodies', () => {
  it.each([
    ['a name given twice', '{"email":"a@b.co","email":"c@d.co"}'],
    ['a name given twice in a nested object', '{"data":{"theme":"dark","theme":"light"}}'],
    ['a name given twice in an object in an array', '[{"a":1},{"b":1,"b":2}]'],
    // JSON.parse keeps the last occurrence, which hid the first from the __proto__ check (an outside review, 2026-12-07).
    ['a __proto__ hidden by a later occurrence of its parent', '{"a":{"__proto__":{"admin":true}},"a":0}'],
    ['a constructor.prototype hidden by a later occurrence', '{"constructor":{"prototype":{"x":1}},"constructor":1}'],
    ['the repeat spelt with an escape', '{"ab":1,"a\\u0062":2}'],
  ])('refuses %s', async (_case, body) => {
    expect(await read(body)).toEqual({ error: 'names a member twice in one object' });
  });

  it.each([
    ['the same name in two objects', '{"a":{"x":1},"b":{"x":1}}', { a: { x: 1 }, b: { x: 1 } }],
    ['strings holding quotes, backslashes and colons', '{"k\\"":"v\\\\", "w" : "\\":\\"" ,"x":["y:", "\\\\\\":"]}', { 'k"': 'v\\', w: '":"', x: ['y:', '\\":'] }],
    ['white space of every kind before a colon', '{"a"\t\r\n :1,"b" :{"c"  :2}}', { a: 1, b: { c: 2 } }],
    ['no object at all', '["a","b"]', ['a', 'b']],
    ['deep nesting', `${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}`, undefined],
  ])('takes %s', async (_case, body, value) => {
    const read_ = await read(body);
    expect(read_.error).toBeUndefined();
    if (value !== undefined) expect(read_.value).toEqual(value);
  });

  it('still refuses __proto__ as a key no object may have', async () => {
    expect(await read('{"__proto__":{"admin":true}}')).toEqual({ error: 'uses __proto__ or constructor.prototype' });
  });
});
