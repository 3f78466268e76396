/** The entity tag of a session data version: a strong validator, `"<version>"`. */
export function etagOf(version: number): string {
  return `"${version}"`;
}

/**
 * Reads an `If-Match` header naming one version. `undefined` when absent or `*` (any current version);
 * `null` when it names no version Kura could have issued (weak tags, lists, garbage), which fails the
 * precondition.
 *
 * RFC 9110 compares strong entity tags character by character, so `"0001"` is not `"1"`: only the digits
 * `etagOf` writes (no leading zero) name a version.
 */
export function versionFromIfMatch(header: string | undefined): number | undefined | null {
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*"(0|[1-9]\d{0,14})"\s*$/.exec(header);
  return match ? Number(match[1]) : null;
}
