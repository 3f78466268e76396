import type { INestApplication } from '@nestjs/common';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';

export const DOCS_PATH = 'docs';
export const DOCUMENT_PATH = `${DOCS_PATH}/openapi.json`;

/**
 * Serves the OpenAPI document at `/docs/openapi.json` and, with `ui`, the explorer at `/docs`. The document is
 * built on its first request, not at boot, so a Lambda cold start or a replica's start does not pay for an
 * explorer nobody has asked for yet; without the UI (the Lambda), @nestjs/swagger's document builder is not even
 * loaded until then (`openapi-document.ts` is a chunk of its own in the bundle).
 */
export async function setupOpenApi(app: INestApplication, cookieName: string, ui: boolean): Promise<void> {
  if (ui) {
    (await import('./openapi-document.js')).serveExplorer(app, DOCUMENT_PATH, cookieName);
    return;
  }
  // What SwaggerModule serves at the same path (its JSON route, the same reply), with the builder loaded lazily.
  let document: Promise<string> | undefined;
  const build = async () => JSON.stringify(((await import('./openapi-document.js')).buildOpenApiDocument(app, cookieName)) satisfies OpenAPIObject);
  app.getHttpAdapter().get(`/${DOCUMENT_PATH}`, async (_request: unknown, reply: FastifyReply) => {
    reply.type('application/json');
    document ??= build().catch((error: unknown) => {
      document = undefined;
      throw error;
    });
    return reply.send(await document);
  });
}
