// canonical-json.ts serialises entry bodies as RFC 8785 (JSON Canonicalization Scheme), the form
// Rekor v1 (jsoncanonicalizer over json.Marshal) and rekor-tiles (jsoncanonicalizer over
// protojson.Marshal) hash into the tree. Entry bodies hold only strings, safe integers, booleans,
// arrays and objects, so this is the RFC's algorithm restricted to those values:
// - object members sorted by their names' UTF-16 code units (RFC 8785 §3.2.3), which is exactly
//   what Array.prototype.sort does with no comparator;
// - strings serialised as ECMAScript JSON.stringify does (RFC 8785 §3.2.2.2), lone surrogates
//   refused (the RFC requires well-formed I-JSON input);
// - integers in their shortest decimal form, which is ECMAScript Number serialisation for safe
//   integers (RFC 8785 §3.2.2.3); other numbers are refused rather than risk a divergent format;
// - no whitespace.
// The tests prove it byte-for-byte against real Rekor v1 and v2 canonical bodies.

/** CanonicalJsonValue is a value canonicalizeJson accepts. */
export type CanonicalJsonValue =
  | string
  | number
  | boolean
  | null
  | readonly CanonicalJsonValue[]
  | { readonly [name: string]: CanonicalJsonValue };

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function formatString(s: string): string {
  if (LONE_SURROGATE.test(s)) throw new TypeError('canonical JSON: string has a lone surrogate');
  return JSON.stringify(s);
}

function formatValue(value: CanonicalJsonValue, depth: number): string {
  if (depth > 32) throw new TypeError('canonical JSON: value nests too deeply');
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return formatString(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value)) throw new TypeError(`canonical JSON: ${value} is not a safe integer`);
      return Object.is(value, -0) ? '0' : String(value);
    case 'object':
      break;
    default:
      throw new TypeError(`canonical JSON: unsupported type ${typeof value}`);
  }
  if (Array.isArray(value)) {
    return `[${value.map((v: CanonicalJsonValue) => formatValue(v, depth + 1)).join(',')}]`;
  }
  const obj = value as { readonly [name: string]: CanonicalJsonValue };
  const names = Object.keys(obj).sort();
  const members = names.map((name) => `${formatString(name)}:${formatValue(obj[name]!, depth + 1)}`);
  return `{${members.join(',')}}`;
}

/**
 * formatCanonicalJson returns the RFC 8785 text of value. It throws TypeError for values outside
 * the supported subset (non-integers, lone surrogates, functions): callers build bodies from
 * validated fields, so that is a programming error, not bad input.
 */
export function formatCanonicalJson(value: CanonicalJsonValue): string {
  return formatValue(value, 0);
}

/** canonicalizeJson returns the UTF-8 bytes of the RFC 8785 text of value. */
export function canonicalizeJson(value: CanonicalJsonValue): Uint8Array {
  return new TextEncoder().encode(formatCanonicalJson(value));
}
