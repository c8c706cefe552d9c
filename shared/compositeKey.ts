/**
 * Keys made of several ids, unambiguous whatever the ids contain. Ids may contain `:` (the id
 * pattern allows it), so `${account}:${key}` lets account "a:b" with key "c" collide with
 * account "a" and key "b:c". Each part has `%` and `:` percent-escaped before the parts are
 * joined with `:`, so different parts always give different keys — and a key whose parts hold
 * neither character is the same as before, so stored keys and experiment buckets do not move.
 * @example compositeKey('upgrade', 'a:b', 'c') // 'upgrade:a%3Ab:c' (≠ compositeKey('upgrade', 'a', 'b:c'))
 */
export function compositeKey(...parts: (string | number)[]): string {
  return parts.map((p) => String(p).replace(/%/g, '%25').replace(/:/g, '%3A')).join(':');
}
