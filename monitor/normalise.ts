// Normalisation puts identities, issuers, namespaces and key fingerprints into the one form that
// both rules and signing events are compared in, so that matching is plain string equality (exact),
// or a glob or regex over the normalised value.
//
// The form is chosen by the value's shape, never by what a parser or rule author says it is, so a
// value and a pattern for it are always normalised alike:
// - contains "://": a URI. Scheme and host are case-insensitive (RFC 3986 §3.1, §3.2.2) and are
//   lowercased; the path is case-sensitive, except that on hosts whose owner and repository names
//   are case-insensitive (github.com) the first two path segments are lowercased too, so
//   "https://github.com/Org/Repo/.github/workflows/x.yml@refs/heads/main" is one identity however a
//   subscriber capitalises the organisation.
// - otherwise contains '@': an email, lowercased whole (domains are case-insensitive, RFC 5321
//   §2.4; local parts are in practice, and erring towards matching is the safe side for a monitor).
// - "pkg:" prefix (namespaces): a purl, see monitor/purl.ts.
// - anything else: a domain (namespaces: lowercased, one trailing dot dropped) or a key fingerprint
//   (lowercased hex); other identities are left as they are.
//
// Erring towards equality is the safe direction everywhere except the allowlist side of an
// expected-signer policy; the folds above only merge spellings of one principal (nobody can own
// "Org/repo" and "org/repo" on GitHub), so they cannot let a stranger pass as an allowed signer.
import { hasUpperCase, lowerCase } from './lower-case.ts';
import { normalisePurl } from './purl.ts';

/** CASE_INSENSITIVE_OWNER_HOSTS are forges whose /owner/repository path segments ignore case. */
export const CASE_INSENSITIVE_OWNER_HOSTS: ReadonlySet<string> = new Set(['github.com']);

/** HEX_64 matches a hex SHA-256 fingerprint in either case. */
export const HEX_64 = /^[0-9A-Fa-f]{64}$/;

/** normaliseUri lowercases a URI's scheme and host, and /owner/repo on case-insensitive forges. */
export function normaliseUri(uri: string): string {
  const sep = uri.indexOf('://');
  if (sep <= 0 || !isScheme(uri, sep)) return uri;
  const hostStart = sep + 3;
  let hostEnd = hostStart;
  while (hostEnd < uri.length && !isHostEnd(uri.charCodeAt(hostEnd))) hostEnd++;
  let end = hostEnd; // uri[0, end) is case-insensitive
  if (isOwnerCaseInsensitive(uri, hostStart, hostEnd) && uri.charCodeAt(hostEnd) === SLASH) {
    const first = uri.indexOf('/', hostEnd + 1);
    const second = first < 0 ? -1 : uri.indexOf('/', first + 1);
    end = first < 0 || second < 0 ? uri.length : second;
  }
  return hasUpperCase(uri, end) ? uri.slice(0, end).toLowerCase() + uri.slice(end) : uri;
}

const SLASH = 0x2f;

// isScheme reports whether uri[0, end) is an RFC 3986 scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
function isScheme(uri: string, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const c = uri.charCodeAt(i) | 0x20; // folds ASCII letters to lowercase
    const letter = c >= 0x61 && c <= 0x7a;
    if (!letter && (i === 0 || !'0123456789+-.'.includes(uri.charAt(i)))) return false;
  }
  return true;
}

function isHostEnd(c: number): boolean {
  return c === SLASH || c === 0x3f || c === 0x23; // '/', '?', '#'
}

function isOwnerCaseInsensitive(uri: string, start: number, end: number): boolean {
  for (const host of CASE_INSENSITIVE_OWNER_HOSTS) {
    if (end - start === host.length && uri.slice(start, end).toLowerCase() === host) return true;
  }
  return false;
}

/** normaliseIdentity normalises a SAN (email or URI) or key fingerprint by its shape. */
export function normaliseIdentity(san: string): string {
  if (san.includes('://')) return normaliseUri(san);
  if (san.includes('@')) return lowerCase(san);
  if (HEX_64.test(san)) return lowerCase(san);
  return san;
}

/** normaliseIssuer normalises an OIDC issuer URL (scheme and host lowercased; nothing else). */
export function normaliseIssuer(issuer: string): string {
  return normaliseUri(issuer);
}

/** normaliseNamespace normalises a purl, repository URI or email domain by its shape. */
export function normaliseNamespace(value: string): string {
  if (value.length >= 4 && value.slice(0, 4).toLowerCase() === 'pkg:') return normalisePurl(value);
  if (value.includes('://')) return normaliseUri(value);
  const lower = lowerCase(value);
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** normaliseKeyFingerprint lowercases a hex key fingerprint. */
export function normaliseKeyFingerprint(fingerprint: string): string {
  return lowerCase(fingerprint);
}
