// Writes Kura's OpenAPI document, as the app built in dist/ serves it at /docs/openapi.json, to a file: the
// document the Lambda bundle carries (scripts/lambda-bundle-options.mjs, `prebuiltOpenApi`). The cookie name is the
// one given (the Lambda puts its own in at run time); everything else in the document comes from the routes.
// Usage: node scripts/openapi-document.mjs OUT.json COOKIE_NAME   (after `npm run build`)
import { writeFile } from 'node:fs/promises';

const [out, cookieName] = process.argv.slice(2);
if (!out || !cookieName) {
  console.error('usage: node scripts/openapi-document.mjs OUT.json COOKIE_NAME');
  process.exit(2);
}
const dist = new URL('../dist/apps/api/src/', import.meta.url);
const { createApp } = await import(new URL('app.factory.js', dist).href);
const { loadConfig } = await import(new URL('config/app-config.js', dist).href);
const { buildOpenApiDocument } = await import(new URL('openapi/openapi-document.js', dist).href);
const app = await createApp(loadConfig({ KURA_STORE: 'memory', KURA_DOCS_UI: 'false', KURA_LOG_LEVEL: 'error' }));
await writeFile(out, JSON.stringify(buildOpenApiDocument(app, cookieName)));
await app.close();
