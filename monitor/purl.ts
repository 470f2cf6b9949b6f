// Package URLs as namespaces (github.com/package-url/purl-spec). The matcher compares a package,
// never a version: "pkg:npm/%40scope/name@1.0.0?x=y#sub" is the namespace "pkg:npm/@scope/name".
//
// Canonical matching form, applied to subjects and to patterns alike:
// - scheme and type lowercased (the spec: both are case-insensitive);
// - percent-escapes decoded (so "%40scope" and "@scope" are one scope), then '%', '/', '?', '#' and
//   any '@' but a leading one encoded again, so that the form parses back to itself;
// - namespace and name lowercased for the types whose definition says they are case-insensitive
//   (purl-spec types/<type>-definition.json: npm, github, bitbucket, golang, composer, hex, pub),
//   plus nuget, which the spec keeps case-preserving but whose registry resolves names
//   case-insensitively; pypi names get PEP 503 normalisation (runs of -, _, . become one -).
//
// Parsing is lenient and total for subjects (attacker-controlled): whatever follows the first '?'
// or '#', or the first '@' after the start of the last segment, is not part of the package name.
// Cutting at the first such character, not the last as the spec's parser does, means a crafted
// "pkg:npm/foo#a#b" still counts as pkg:npm/foo, so a policy cannot be dodged that way.
import { lowerCase } from './lower-case.ts';

/** PurlParts is a lenient parse of a purl, as much as the matcher needs. */
export interface PurlParts {
  /** type is the lowercased package type, e.g. "npm". */
  type: string;
  /** segments are the namespace segments then the name, decoded and type-normalised. */
  segments: string[];
  hasVersion: boolean;
  hasQualifiers: boolean;
  hasSubpath: boolean;
}

const LOWERCASE_TYPES: ReadonlySet<string> = new Set(['npm', 'github', 'bitbucket', 'golang', 'composer', 'hex', 'pub', 'nuget']);

/**
 * parsePurl parses text leniently, or returns undefined when it is not a purl with a type and at
 * least one segment after it.
 */
export function parsePurl(text: string): PurlParts | undefined {
  if (!hasPurlScheme(text)) return undefined;
  let end = text.length;
  const hash = text.indexOf('#', 4);
  const question = text.indexOf('?', 4);
  const hasSubpath = hash >= 0;
  const hasQualifiers = question >= 0 && (!hasSubpath || question < hash);
  if (hasSubpath) end = hash;
  if (hasQualifiers) end = question;
  const parts = text.slice(4, end).split('/').filter((p) => p !== ''); // tolerates "pkg://npm/x"
  const type = parts.shift();
  const last = parts.at(-1);
  if (type === undefined || last === undefined) return undefined;
  const at = last.indexOf('@', 1); // a leading '@' is an npm scope written without %40
  const hasVersion = at >= 0;
  if (hasVersion) parts[parts.length - 1] = last.slice(0, at);
  const lowerType = lowerCase(type);
  const segments = parts.map((p, i) => normaliseSegment(lowerType, p, i === parts.length - 1));
  return { type: lowerType, segments, hasVersion, hasQualifiers, hasSubpath };
}

function hasPurlScheme(text: string): boolean {
  return text.startsWith('pkg:') || (text.length >= 4 && text.slice(0, 4).toLowerCase() === 'pkg:');
}

/**
 * normalisePurl returns the canonical matching form "pkg:<type>/<segments>" of a purl, without
 * version, qualifiers or subpath; text that is not a purl comes back with only its scheme lowercased.
 */
export function normalisePurl(text: string): string {
  const parts = parsePurl(text);
  if (parts === undefined) return hasPurlScheme(text) ? 'pkg:' + text.slice(4) : text;
  return `pkg:${parts.type}/${parts.segments.join('/')}`;
}

// normaliseSegment decodes a segment, applies its type's rules and encodes what must be encoded.
function normaliseSegment(type: string, segment: string, isName: boolean): string {
  let s = segment.includes('%') ? decodeSegment(segment) : segment;
  if (type === 'pypi') s = isName ? lowerCase(s).replace(PEP_503_SEPARATORS, '-') : lowerCase(s);
  else if (LOWERCASE_TYPES.has(type)) s = lowerCase(s);
  return NEEDS_ENCODING.test(s) ? encodeReserved(s) : s;
}

const PEP_503_SEPARATORS = /[-_.]+/g;
const NEEDS_ENCODING = /[%/?#]|[^]@/;

const UTF8 = new TextDecoder('utf-8'); // not fatal: see decodeSegment
const RESERVED = /[%/?#@]/g;
const ENCODED: Record<string, string> = { '%': '%25', '/': '%2F', '?': '%3F', '#': '%23', '@': '%40' };

// decodeSegment decodes each run of percent-escapes as UTF-8. Bytes that are not UTF-8 become
// U+FFFD, so two such names can compare equal: that errs towards matching, never away from it, and
// keeps "%E2%82%41" and "%E2%82A" equal. A '%' not followed by two hex digits stays as it is.
function decodeSegment(segment: string): string {
  let out = '';
  let i = 0;
  for (let p = segment.indexOf('%'); p >= 0; p = segment.indexOf('%', i)) {
    out += segment.slice(i, p);
    const bytes: number[] = [];
    let j = p;
    while (j + 2 < segment.length && segment[j] === '%' && isHex(segment, j + 1) && isHex(segment, j + 2)) {
      bytes.push(parseInt(segment.slice(j + 1, j + 3), 16));
      j += 3;
    }
    if (bytes.length === 0) {
      out += '%';
      i = p + 1;
      continue;
    }
    out += bytes.every((b) => b < 0x80) ? String.fromCharCode(...bytes) : UTF8.decode(Uint8Array.from(bytes));
    i = j;
  }
  return out + segment.slice(i);
}

function isHex(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

// encodeReserved percent-encodes the characters that would change how the output parses, except
// a leading '@' (an npm scope), so that normalisePurl(normalisePurl(x)) === normalisePurl(x).
function encodeReserved(segment: string): string {
  return segment.replace(RESERVED, (c, offset: number) => (c === '@' && offset === 0 ? c : ENCODED[c]!));
}
