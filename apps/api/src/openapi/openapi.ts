import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

export const DOCS_PATH = 'docs';

/**
 * Serves the OpenAPI explorer at `/docs` and the document at `/docs/openapi.json`. Both security schemes are
 * declared: the session cookie (set by login, sent by the browser) and a bearer token (pasted into Authorize).
 * With `ui` off, only the document is served.
 */
export function setupOpenApi(app: INestApplication, cookieName: string, ui: boolean): void {
  const config = new DocumentBuilder()
    .setTitle('Kura')
    .setDescription(
      'Web sessions kept outside the machine. Register, log in (cookie or bearer), call `/auth/me`, log out. ' +
        'Every replica and every Lambda invocation sees the same sessions.',
    )
    .setVersion('0.1.0')
    .addCookieAuth(cookieName, { type: 'apiKey', in: 'cookie', name: cookieName })
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'The `token` from a login with `transport: "bearer"`.' })
    .build();
  // A factory, not a document: the routes are scanned on the first request for the document, not at boot, so a
  // Lambda cold start or a replica's start does not pay for an explorer nobody has asked for yet.
  // (SwaggerModule builds it once and keeps it.)
  SwaggerModule.setup(DOCS_PATH, app, () => SwaggerModule.createDocument(app, config), {
    jsonDocumentUrl: `${DOCS_PATH}/openapi.json`,
    // Without the UI no static assets are served: the Lambda bundle ships the document only.
    ui,
    raw: ['json'],
    customSiteTitle: 'Kura API',
    swaggerOptions: { withCredentials: true, persistAuthorization: false, tryItOutEnabled: true },
  });
}
