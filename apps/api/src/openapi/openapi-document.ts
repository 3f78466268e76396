import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, type ResponseObject, type StandardSchemaConverter, SwaggerModule } from '@nestjs/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as z from 'zod/mini';
import { DOCS_PATH } from './openapi.js';
import { EXPLORER_CONTENT_SECURITY_POLICY } from '../http/security-headers.js';
import { DeferredSchema } from './schema-meta.js';
import { EVERY_ANSWER, HEADER_COMPONENTS, PARAMETER_COMPONENTS, SESSION_CACHE } from './response-headers.js';

/** What every error is sent as (`sendProblem`); @nestjs/swagger would say `application/json`. */
const PROBLEM_JSON = 'application/problem+json';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/**
 * Kura's OpenAPI document, built from the routes' decorators. Both security schemes are declared: the session
 * cookie (set by login, sent by the browser) and a bearer token (pasted into Authorize). Loaded only when the
 * document is first asked for (see `setupOpenApi`): @nestjs/swagger's scanner and schema converters are not part of
 * a cold start. `npm run lint:api` checks the document with Spectral (OWASP API Security Top 10) and Redocly.
 */
export function buildOpenApiDocument(app: INestApplication, cookieName: string): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Kura')
    .setDescription(
      'Web sessions kept outside the machine. Register, log in (cookie or bearer), call `/auth/me`, log out. ' +
        'Every replica and every Lambda invocation sees the same sessions. Errors are RFC 9457 problem documents.',
    )
    .setVersion('0.1.0')
    .setLicense('MIT', 'https://spdx.org/licenses/MIT.html')
    // Relative: the document is served by the API it describes, at the root of the same origin, wherever that is.
    .addServer('/', 'The origin serving this document: Kura serves the same API at its root in every environment (local, staging, production).', undefined, {
      // OWASP API9 asks each server to say whether it is internal: this is the API clients use.
      'x-internal': false,
    })
    .addTag('auth', 'Accounts, login and logout.')
    .addTag('sessions', "The caller's own sessions, and password changes.")
    .addTag('session data', 'A small JSON document per login, safe under concurrent writes.')
    .addTag('health', 'Probes for Kubernetes and load balancers, and the store for dashboards; they take no credentials.')
    .addCookieAuth(cookieName, {
      type: 'apiKey',
      in: 'cookie',
      name: cookieName,
      description: 'The HttpOnly session cookie a login with `transport: "cookie"` sets; browsers send it by themselves.',
    })
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      // Not a JWT: a random token the server looks up (by its SHA-256) on every request, revocable at once.
      bearerFormat: 'opaque',
      description:
        'The `token` from a login with `transport: "bearer"`: 256 random bits in 43 base64url characters, not a JWT. ' +
        'The server stores only its SHA-256 and checks it on every request, so logout and revocation are immediate.',
    })
    .build();
  return withKuraHeaders(withProblemMediaType(SwaggerModule.createDocument(app, config, { standardSchemaConverter: zodJsonSchema })));
}

/**
 * The JSON Schema of a zod schema, as zod's classic API offers it through `~standard.jsonSchema` and
 * @nestjs/swagger reads it. Kura's schemas are `zod/mini` ones (see `schema-meta.ts`), which leave the JSON Schema
 * generator out of their prototypes: it is loaded here, with the document builder, not at a cold start. Named
 * schemas (`.register(z.globalRegistry, { id })`) come back as definitions, which become components. A deferred
 * schema is built here, with what it registers, if no request has built it yet.
 */
const zodJsonSchema: StandardSchemaConverter = (given, { schemaType }) => {
  const schema = given instanceof DeferredSchema ? given.schema : given;
  if (typeof schema !== 'object' || schema === null || !('_zod' in schema)) return undefined;
  const { definitions, $schema: _dialect, ...root } = z.toJSONSchema(schema as z.core.$ZodType, { target: 'openapi-3.0', io: schemaType }) as {
    definitions?: Record<string, unknown>;
    $schema?: string;
  };
  return { schema: root, components: definitions ?? {} };
};

/**
 * Serves the explorer at `/docs` and the document at `documentPath`, both from @nestjs/swagger. A factory, not a
 * document: SwaggerModule builds it on its first request and keeps it.
 */
export function serveExplorer(app: INestApplication, documentPath: string, cookieName: string): void {
  withExplorerHeaders(app);
  SwaggerModule.setup(DOCS_PATH, app, () => buildOpenApiDocument(app, cookieName), {
    jsonDocumentUrl: documentPath,
    ui: true,
    raw: ['json'],
    customSiteTitle: 'Kura API',
    swaggerOptions: { withCredentials: true, persistAuthorization: false, tryItOutEnabled: true },
  });
}

/**
 * The headers a page with credentials must carry (ASVS 5.0 V3.4: no framing; scripts from Kura alone): the explorer
 * sends the session cookie with every request it makes (`withCredentials`), so a page that framed it could have a
 * logged-in user press its buttons, and a script injected into it could make them. Set by a hook on the explorer's
 * own routes only (Fastify's `onRoute`, as they are registered), after the policy every answer gets
 * (http/security-headers.ts), which would not let the page run.
 */
function withExplorerHeaders(app: INestApplication): void {
  const prefix = `/${DOCS_PATH}`;
  const headers = { 'x-frame-options': 'DENY', 'content-security-policy': EXPLORER_CONTENT_SECURITY_POLICY };
  const setHeaders = async (_request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    reply.headers(headers);
    return payload;
  };
  (app.getHttpAdapter().getInstance() as FastifyInstance).addHook('onRoute', (route) => {
    if (route.url !== prefix && !route.url.startsWith(`${prefix}/`)) return;
    route.onSend = [...(route.onSend === undefined ? [] : Array.isArray(route.onSend) ? route.onSend : [route.onSend]), setHeaders];
  });
}

/** Declares every error response (4xx, 5xx) as `application/problem+json`, the media type Kura sends. */
function withProblemMediaType(document: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      for (const [status, response] of Object.entries(item[method]?.responses ?? {})) {
        if (Number(status) < 400 || !response || '$ref' in response) continue;
        const json = response.content?.['application/json'];
        if (json) response.content = { [PROBLEM_JSON]: json };
      }
    }
  }
  return document;
}

const [SESSION_CACHE_HEADER] = Object.keys(SESSION_CACHE) as [string];

/**
 * Declares the headers of Kura's own a client acts on, which no route's decorators name: `X-Request-Id` and
 * `Kura-Instance` on every response (set by a hook, not by the routes), and the `X-Request-Id` a request may
 * carry; an operation whose answers carry `Kura-Session-Cache` (`SESSION_CACHE`) also takes it back as a request
 * header. Each is declared once, in `components`, and referenced.
 */
function withKuraHeaders(document: OpenAPIObject): OpenAPIObject {
  document.components = { ...document.components, headers: { ...document.components?.headers, ...HEADER_COMPONENTS }, parameters: { ...document.components?.parameters, ...PARAMETER_COMPONENTS } };
  const parameter = (name: keyof typeof PARAMETER_COMPONENTS & string) => ({ $ref: `#/components/parameters/${name}` });
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const responses = Object.values(operation.responses).filter((response): response is ResponseObject => response !== undefined && !('$ref' in response));
      const readsCache = responses.some((response) => SESSION_CACHE_HEADER in (response.headers ?? {}));
      operation.parameters = [...(operation.parameters ?? []), parameter('X-Request-Id'), ...(readsCache ? [parameter('Kura-Session-Cache')] : [])];
      for (const response of responses) response.headers = { ...response.headers, ...EVERY_ANSWER };
    }
  }
  return document;
}
