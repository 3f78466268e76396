import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import * as z from 'zod/mini';
import { createApp } from '../app.factory.js';
import * as authSchemas from '../auth/auth.schemas.js';
import { loadConfig } from '../config/app-config.js';
import * as healthSchemas from '../health/health.schemas.js';
import * as problemSchema from '../http/problem.schema.js';
import { DeferredSchema, deferred } from './schema-meta.js';

describe('deferred schemas', () => {
  it('build their schema once, on first use, and validate as it does', async () => {
    let builds = 0;
    const schema = deferred(() => {
      builds += 1;
      return z.object({ n: z.int() });
    });
    expect(builds).toBe(0);
    expect(schema.isBuilt).toBe(false);

    expect(await schema['~standard'].validate({ n: 1 })).toEqual({ value: { n: 1 } });
    expect(await schema['~standard'].validate({ n: 'one' })).toMatchObject({ issues: [expect.objectContaining({ path: ['n'] })] });
    expect(schema.schema).toBe(schema.schema);
    expect(builds).toBe(1);
    expect(schema.isBuilt).toBe(true);
  });
});

/** The app's shared schemas, by name: the response schemas only describe the document, the bodies are checked on their routes. */
const appSchemas: [string, DeferredSchema<z.ZodMiniType>][] = [];
for (const [name, value] of Object.entries({ ...authSchemas, ...healthSchemas, ...problemSchema })) {
  if (value instanceof DeferredSchema) appSchemas.push([name, value]);
}
const built = () => appSchemas.filter(([, schema]) => schema.isBuilt).map(([name]) => name).sort();

describe("the app's schemas", () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await createApp(loadConfig({ HOST: '127.0.0.1', PORT: '0', KURA_STORE: 'memory', KURA_DOCS_UI: 'false', KURA_LOG_LEVEL: 'error' }));
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(() => app.close());

  it('are not built by a start and a session check (what a Lambda cold start does)', async () => {
    expect(appSchemas.length).toBeGreaterThanOrEqual(10);
    expect((await app.inject({ method: 'GET', url: '/auth/me' })).statusCode).toBe(401);
    expect(built()).toEqual([]);
  });

  it('are built when first needed: a body by its route, the rest by the document, which names each one', async () => {
    const refused = await app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'not an email', password: 'x' } });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ type: expect.stringContaining('invalid-request'), errors: [expect.objectContaining({ pointer: '/email' })] });
    expect(built()).toEqual(['LoginBody']);

    const document = (await app.inject({ method: 'GET', url: '/docs/openapi.json' })).json();
    expect(built()).toEqual(appSchemas.map(([name]) => name).sort());
    expect(Object.keys(document.components.schemas)).toEqual(
      expect.arrayContaining(['RegisterRequest', 'LoginRequest', 'LoginResponse', 'Me', 'User', 'SessionUser', 'Session', 'SessionList', 'Revoked', 'Health', 'HealthChecks', 'Problem', 'SessionData', 'SessionDataPatch']),
    );
  });
});
