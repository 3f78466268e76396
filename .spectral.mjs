// Spectral's ruleset for Kura's OpenAPI document: Spectral's own OpenAPI rules and the OWASP API Security
// Top 10 (2023) rules. A JavaScript ruleset, because a YAML one that `extends` a package name makes Spectral
// fetch that package from a CDN; imported here, both come from node_modules. Run it with `npm run lint:api`.
import { oas } from '@stoplight/spectral-rulesets';
import owasp from '@stoplight/spectral-owasp-ruleset';

export default {
  extends: [oas, owasp],
};
