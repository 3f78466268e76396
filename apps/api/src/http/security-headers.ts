/**
 * The headers every answer of Kura's carries (OWASP's REST Security Cheat Sheet; ASVS 5.0 V3.4): never sniffed as
 * another type than it says (3.4.4), no Referer sent from it (3.4.5), and a content security policy that lets
 * nothing load and nothing frame it (3.4.3: the API answers JSON, which no page of Kura's needs to run). The
 * explorer's pages get a policy of their own (`EXPLORER_CONTENT_SECURITY_POLICY`). With Secure cookies (Kura behind
 * TLS), HSTS too (3.4.1): a browser that has seen Kura over HTTPS never tries plain HTTP on its host again, where a
 * network attacker could answer in its place; browsers ignore it on an answer that came over plain HTTP.
 */
export function answerSecurityHeaders(https: boolean): Readonly<Record<string, string>> {
  return {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'content-security-policy': API_CONTENT_SECURITY_POLICY,
    ...(https ? { 'strict-transport-security': 'max-age=31536000' } : {}),
  };
}

/** For JSON and problem documents: nothing to load, run or frame. */
const API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'";

/**
 * For the explorer (Swagger UI): its scripts, styles and images from Kura itself (its page has one inline style
 * block, and the UI sets inline styles and `data:` images), requests to Kura only, and no framing.
 */
export const EXPLORER_CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
