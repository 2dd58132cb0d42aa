/** A short stable identifier of a policy config, without node:crypto (core stays runnable anywhere). */
export function canonicalJsonForPolicy(value: unknown): string {
  const text = JSON.stringify(sort(value));
  // FNV-1a 64-bit over the canonical JSON: identifies, does not protect (provenance signs the decision).
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return `fnv1a64:${h.toString(16).padStart(16, '0')}`;
}

function sort(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sort);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]));
  return v;
}
