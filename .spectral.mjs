// Spectral's ruleset for Kura's OpenAPI document: Spectral's own OpenAPI rules and the OWASP API Security
// Top 10 (2023) rules. A JavaScript ruleset, because a YAML one that `extends` a package name makes Spectral
// fetch that package from a CDN; imported here, both come from node_modules. Run it with `npm run lint:api`.
//
// Every rule turned off below says why in one line, true of Kura; everything else must pass with no warning.
import { oas } from '@stoplight/spectral-rulesets';
import owasp from '@stoplight/spectral-owasp-ruleset';

/**
 * The document location of an operation or a schema, as Spectral's overrides name it: a glob for the file, then
 * a JSON pointer in a URI fragment, so `{id}` is written `%7Bid%7D` (Spectral compares the encoded forms).
 */
const operation = (method, path) => `**#/paths/${encodeURIComponent(path.replaceAll('~', '~0').replaceAll('/', '~1'))}/${method}`;
const schema = (pointer) => `**#/components/schemas/${pointer}`;

const HEALTH = [operation('get', '/health/live'), operation('get', '/health/ready'), operation('get', '/health/store')];
/** Every route Kura does not rate-limit: all but login and the two password checks. */
const NOT_RATE_LIMITED = [
  operation('post', '/auth/register'),
  operation('get', '/auth/me'),
  operation('post', '/auth/logout'),
  operation('get', '/auth/sessions'),
  operation('delete', '/auth/sessions/{id}'),
  operation('post', '/auth/logout-all'),
  operation('delete', '/auth/account'),
  operation('get', '/session/data'),
  operation('patch', '/session/data'),
  ...HEALTH,
];

export default {
  extends: [oas, owasp],
  rules: {
    // By default Kura sends no CORS headers: no other origin may read its answers (the explorer is same-origin). A
    // deployment may name other origins of its site (KURA_TRUSTED_ORIGINS), and only those get CORS answers, its own
    // setting, which docs/configuration.md describes; the document, the same for every deployment, names none.
    'owasp:api8:2023-define-cors-origin': 'off',
    // No quota to announce: most routes are not limited, and the password checks' per-account count must stay private.
    'owasp:api4:2023-rate-limit': 'off',
  },
  overrides: [
    {
      files: NOT_RATE_LIMITED,
      // Kura limits only password checks (login, re-authentication, password change) and registrations; a 429 here
      // would be a lie. How many requests anyone may send is the ingress's to limit (docs/operations.md).
      rules: { 'owasp:api4:2023-rate-limit-responses-429': 'off' },
    },
    {
      files: [operation('post', '/auth/register'), operation('post', '/auth/login')],
      // Registering and logging in are how a client gets credentials: they cannot require them.
      rules: { 'owasp:api2:2023-write-restricted': 'off' },
    },
    {
      files: [operation('post', '/auth/register'), operation('post', '/auth/logout'), ...HEALTH],
      // These never answer 401: they take no credentials (logout without a session is a 204, not an error).
      rules: { 'owasp:api8:2023-define-error-responses-401': 'off' },
    },
    {
      files: HEALTH,
      // Probes (kubelet, load balancers) carry no credentials; the answers say only up or down, and why.
      rules: { 'owasp:api2:2023-read-restricted': 'off' },
    },
    {
      files: [operation('get', '/auth/me'), operation('get', '/auth/sessions'), operation('get', '/session/data'), ...HEALTH],
      // A GET here takes no body, query or path parameter: there is nothing to be invalid, so no 400.
      rules: { 'owasp:api8:2023-define-error-validation': 'off' },
    },
    {
      files: [
        schema('RegisterRequest/properties/password'),
        schema('LoginRequest/properties/password'),
        schema('ReauthenticateRequest/properties/password'),
        schema('PasswordChangeRequest/properties/currentPassword'),
        schema('PasswordChangeRequest/properties/newPassword'),
      ],
      // A password may hold any character (NIST SP 800-63B: no composition rules); only its length is limited.
      rules: { 'owasp:api4:2023-string-restricted': 'off' },
    },
    {
      files: [
        schema('Problem/properties/title'),
        schema('Problem/properties/detail'),
        schema('Problem/properties/errors/items/properties/detail'),
        schema('HealthChecks/properties/lifecycle/properties/message'),
        schema('HealthChecks/properties/store/properties/message'),
        schema('SessionList/properties/sessions/items/properties/userAgent'),
      ],
      // Text for people (or a user agent as the client sent it): any characters, its length limited.
      rules: { 'owasp:api4:2023-string-restricted': 'off' },
    },
    {
      files: [schema('SessionData/properties/data'), schema('SessionDataPatch')],
      // Session data is any JSON object by design, limited in bytes (KURA_SESSION_DATA_LIMIT, 413 beyond), not keys.
      rules: { 'owasp:api3:2023-no-additionalProperties': 'off', 'owasp:api3:2023-constrained-additionalProperties': 'off' },
    },
  ],
};
