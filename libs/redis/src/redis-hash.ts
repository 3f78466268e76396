/**
 * An `HGETALL` reply as RESP2 gives it: a flat list of field, value. A client speaking RESP3 (node-redis v6's
 * default, for a client of your own) answers a map instead: a plain object, or a `Map` with a type mapping.
 */
export function flatHashOf(reply: unknown): readonly string[] {
  if (Array.isArray(reply)) return reply as string[];
  if (reply === null || reply === undefined) return [];
  return (reply instanceof Map ? [...(reply as Map<string, string>)] : Object.entries(reply as Record<string, string>)).flat();
}

/** An `HGETALL` reply (either protocol) as an object. */
export function hashOf(reply: unknown): Record<string, string> {
  const flat = flatHashOf(reply);
  const hash: Record<string, string> = {};
  for (let index = 0; index + 1 < flat.length; index += 2) hash[flat[index]!] = flat[index + 1]!;
  return hash;
}
