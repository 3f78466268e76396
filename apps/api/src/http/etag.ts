/** The entity tag of a session data version: a strong validator, `"<version>"`. */
export function etagOf(version: number): string {
  return `"${version}"`;
}

/**
 * Reads an `If-Match` header naming one version. `undefined` when absent or `*` (any current version);
 * `null` when it names no version Kura could have issued (weak tags, lists, garbage), which fails the
 * precondition.
 */
export function versionFromIfMatch(header: string | undefined): number | undefined | null {
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*"(\d{1,15})"\s*$/.exec(header);
  return match ? Number(match[1]) : null;
}
