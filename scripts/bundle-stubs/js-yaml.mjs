// Stands in for js-yaml in the Lambda bundle. @nestjs/swagger imports it for the YAML form of the OpenAPI
// document; Kura serves only the JSON form (see apps/api/src/openapi/openapi.ts), so this is never called.
export function dump() {
  throw new Error('Kura serves the OpenAPI document as JSON only');
}
export default { dump };
