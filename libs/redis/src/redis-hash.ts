/** A RESP2 HGETALL reply (a flat list) as an object. */
export function hashOf(reply: unknown): Record<string, string> {
  const flat = (reply ?? []) as string[];
  const hash: Record<string, string> = {};
  for (let index = 0; index + 1 < flat.length; index += 2) hash[flat[index]!] = flat[index + 1]!;
  return hash;
}
