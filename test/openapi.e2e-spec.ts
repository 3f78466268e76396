import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { etagOf } from '../apps/api/src/http/etag.js';
import { EXPLORER_CONTENT_SECURITY_POLICY } from '../apps/api/src/http/security-headers.js';
import { HttpClient } from './support/http-client.js';
import { startKuraInProcess } from './support/kura-app.js';

/** The OpenAPI document is complete enough to drive the API from the explorer alone. */
let app: NestFastifyApplication;
let doc: any;
let http: HttpClient;

beforeAll(async () => {
  let baseUrl: string;
  ({ app, baseUrl } = await startKuraInProcess({ KURA_STORE: 'memory', KURA_LOG_LEVEL: 'warn' }));
  http = new HttpClient(baseUrl);
  doc = (await http.get('/docs/openapi.json')).body;
});
afterAll(() => app.close());

describe('GET /docs/openapi.json', () => {
  it.each([
    ['post', '/auth/register', ['201', '400', '409', '503']],
    ['post', '/auth/login', ['200', '400', '401', '429', '503']],
    ['get', '/auth/me', ['200', '401', '503']],
    ['post', '/auth/logout', ['204', '503']],
    ['get', '/auth/sessions', ['200', '401', '503']],
    ['delete', '/auth/sessions/{id}', ['204', '401', '404', '503']],
    ['post', '/auth/logout-all', ['200', '401', '503']],
    ['post', '/auth/password', ['200', '401', '403', '503']],
    ['get', '/session/data', ['200', '401', '503']],
    ['patch', '/session/data', ['200', '401', '412', '413', '503']],
    ['get', '/health/live', ['200']],
    ['get', '/health/ready', ['200', '503']],
    ['get', '/health/store', ['200', '503']],
  ])('describes %s %s with its responses', (method, path, statuses) => {
    const operation = doc.paths[path]?.[method];

    expect(operation).toBeDefined();
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(statuses));
  });

  it('gives request bodies their schemas, with the rules the server enforces', () => {
    const schemas = doc.components.schemas;
    const register = doc.paths['/auth/register'].post.requestBody.content['application/json'].schema;

    expect(register).toEqual({ $ref: '#/components/schemas/RegisterRequest' });
    expect(schemas.RegisterRequest).toMatchObject({
      required: ['email', 'password'],
      properties: { password: { minLength: 8, maxLength: 128 }, email: { format: 'idn-email', maxLength: 254 } },
      additionalProperties: false,
    });
    expect(schemas.LoginRequest.properties.transport).toMatchObject({ enum: ['cookie', 'bearer'], default: 'cookie' });
    expect(schemas.Problem.required).toEqual(expect.arrayContaining(['type', 'title', 'status']));
  });

  it('declares both security schemes and applies them to the protected routes', () => {
    expect(doc.components.securitySchemes).toEqual({
      cookie: expect.objectContaining({ type: 'apiKey', in: 'cookie', name: '__Host-kura_session' }),
      // An opaque token the server looks up, not a JWT: a JWT rule would not apply, and a client must not parse it.
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'opaque' }),
    });
    for (const [path, method] of [
      ['/auth/me', 'get'],
      ['/auth/sessions', 'get'],
      ['/auth/password', 'post'],
      ['/session/data', 'patch'],
    ] as const) {
      expect(doc.paths[path][method].security).toEqual(expect.arrayContaining([{ cookie: [] }, { bearer: [] }]));
    }
  });

  it('declares every error response as the problem document Kura sends, and no other response as one', () => {
    const wrong: string[] = [];
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, operation] of Object.entries<any>(item)) {
        for (const [status, response] of Object.entries<any>(operation.responses)) {
          const problem = Object.keys(response.content ?? {}).join() === 'application/problem+json';
          if (problem !== Number(status) >= 400) wrong.push(`${method} ${path} ${status}`);
        }
      }
    }

    expect(wrong).toEqual([]);
  });

  // The OpenAPI review: the route's own 413 was printed after the one every body route has, the body limit said twice.
  it('describes the 413 of PATCH /session/data once, with both limits', () => {
    const { description } = doc.paths['/session/data'].patch.responses['413'];

    expect(description.match(/KURA_BODY_LIMIT/g)).toHaveLength(1);
    expect(description).toContain('KURA_SESSION_DATA_LIMIT');
  });

  // The OpenAPI review: the pattern allowed 15 digits, and the version goes up to 2^53 - 1, 16 of them.
  it("declares an ETag every version of the data has: the largest version's ETag passes the header's schema", () => {
    const { maximum } = doc.components.schemas.SessionData.properties.version;
    const { schema } = doc.paths['/session/data'].get.responses['200'].headers.ETag;
    const largest = etagOf(maximum);

    expect(maximum).toBe(Number.MAX_SAFE_INTEGER);
    expect(largest).toMatch(new RegExp(schema.pattern));
    expect(largest.length).toBeLessThanOrEqual(schema.maxLength);
  });

  // The OpenAPI review: docs/http-api.md said the document lists X-Request-Id, and it did not; nor Kura-Instance, nor the
  // signed session cache's header, which a bearer client must send back.
  it('declares X-Request-Id and Kura-Instance on every response, and X-Request-Id as a request header of every operation', () => {
    const missing: string[] = [];
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, operation] of Object.entries<any>(item)) {
        if (!operation.parameters?.some((parameter: any) => parameter.$ref === '#/components/parameters/X-Request-Id')) missing.push(`${method} ${path} X-Request-Id parameter`);
        for (const [status, response] of Object.entries<any>(operation.responses)) {
          for (const name of ['X-Request-Id', 'Kura-Instance']) {
            if (response.headers?.[name]?.$ref !== `#/components/headers/${name}`) missing.push(`${method} ${path} ${status} ${name}`);
          }
        }
      }
    }

    expect(missing).toEqual([]);
    expect(doc.components.headers).toMatchObject({ 'X-Request-Id': { required: true }, 'Kura-Instance': { required: true } });
  });

  it('declares headers the answers really carry: an id the caller gave is echoed, a malformed one replaced', async () => {
    const header = (name: string) => new RegExp(doc.components.headers[name].schema.pattern);
    const given = await http.get('/auth/me', { headers: { 'x-request-id': 'trace-0123456789' } });
    const replaced = await http.get('/auth/me', { headers: { 'x-request-id': 'no spaces allowed' } });

    expect(given.headers.get('x-request-id')).toBe('trace-0123456789');
    expect(replaced.headers.get('x-request-id')).toMatch(header('X-Request-Id'));
    expect(replaced.headers.get('x-request-id')).not.toBe('no spaces allowed');
    expect(new RegExp(doc.components.parameters['X-Request-Id'].schema.pattern).test('no spaces allowed')).toBe(false);
    expect(given.headers.get('kura-instance')).toMatch(header('Kura-Instance'));
  });

  it('declares the signed session cache header on the routes it answers, both ways, and a real one fits it', async () => {
    for (const [path, statuses] of [['/auth/me', ['200']], ['/session/data', ['200', '304']]] as const) {
      const operation = doc.paths[path].get;
      expect(operation.parameters).toContainEqual({ $ref: '#/components/parameters/Kura-Session-Cache' });
      for (const status of statuses) expect(operation.responses[status].headers['Kura-Session-Cache']).toEqual({ $ref: '#/components/headers/Kura-Session-Cache' });
    }
    const { schema } = doc.components.headers['Kura-Session-Cache'];
    expect(doc.components.parameters['Kura-Session-Cache'].schema).toEqual(schema);

    const cached = await startKuraInProcess({
      KURA_STORE: 'memory',
      KURA_LOG_LEVEL: 'warn',
      KURA_SESSION_CACHE_SECONDS: '30',
      KURA_SESSION_CACHE_KEYS: `k1:${randomBytes(32).toString('base64url')}`,
    });
    try {
      const client = new HttpClient(cached.baseUrl);
      // The longest email and name an account may have, the name in four-byte characters: the largest claims.
      const email = `${'e'.repeat(64)}@${'d'.repeat(63)}.${'d'.repeat(63)}.${'d'.repeat(57)}.com`;
      expect((await client.post('/auth/register', { email, password: 'correct horse battery', name: '🔑'.repeat(100) })).status).toBe(201);
      const { token } = (await client.post('/auth/login', { email, password: 'correct horse battery', transport: 'bearer' })).body;
      const me = await client.get('/auth/me', { headers: { authorization: `Bearer ${token}` } });
      const cache = me.headers.get('kura-session-cache');

      expect(cache).toMatch(new RegExp(schema.pattern));
      expect(cache!.length).toBeLessThanOrEqual(schema.maxLength);
      const reread = await client.get('/auth/me', { headers: { authorization: `Bearer ${token}`, 'kura-session-cache': cache! } });
      expect(reread.status).toBe(200);
    } finally {
      await cached.app.close();
    }
  });

  it('names a relative server, so the explorer calls the origin that served it', () => {
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/', 'x-internal': false })]);
  });

  it('serves the explorer page', async () => {
    const page = await http.get('/docs');

    expect(page.status).toBe(200);
    expect(page.text).toContain('swagger-ui');
  });

  // The security review of 2026-12-05: the explorer sends the session cookie with its requests, and no answer of it
  // refused framing or sniffing (ASVS 5.0 V3.4), so any site could frame it under a logged-in user's clicks.
  it.each(['/docs', '/docs/swagger-ui-init.js', '/docs/swagger-ui.css', '/docs/openapi.json'])('serves %s unframable and unsniffable', async (path) => {
    const answer = await http.get(path);

    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-frame-options')).toBe('DENY');
    expect(answer.headers.get('content-security-policy')).toBe(EXPLORER_CONTENT_SECURITY_POLICY);
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('runs no hook of the explorer on the API: its answers are JSON', async () => {
    const answer = await http.get('/health/live');

    expect(answer.headers.get('x-frame-options')).toBeNull();
  });
});

describe('docs/http-api.md, "every route, its answers and errors"', () => {
  const page = readFileSync(new URL('../docs/http-api.md', import.meta.url), 'utf8');
  const statusesIn = (text: string) => new Set([...text.matchAll(/`(\d{3})\b/g)].map(([, status]) => status!));
  /** Each route's row of the table: `| \`METHOD /path\` | body | answers |`. */
  const rows = new Map(
    [...page.matchAll(/^\| `(GET|POST|PATCH|DELETE) ([^`]+)` \|[^|]*\|(.*)\|$/gm)].map(([, method, path, answers]) => [`${method!.toLowerCase()} ${path}`, answers!]),
  );
  /** What the page says of every route, below the table. */
  const everyRoute = statusesIn(page.slice(page.lastIndexOf('\n|') + 1));

  it('has a row for every route of the API document', () => {
    const routes = Object.entries(doc.paths).flatMap(([path, operations]) => Object.keys(operations as object).map((method) => `${method} ${path}`));

    expect(routes.filter((route) => !rows.has(route))).toEqual([]);
  });

  it("names every status a route can answer, in the route's row or in what it says of every route", () => {
    const unsaid = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.entries(operations as Record<string, { responses: object }>).flatMap(([method, operation]) => {
        const said = statusesIn(rows.get(`${method} ${path}`) ?? '');
        return Object.keys(operation.responses).filter((status) => !said.has(status) && !everyRoute.has(status)).map((status) => `${method} ${path} ${status}`);
      }),
    );

    expect(unsaid).toEqual([]);
  });
});
