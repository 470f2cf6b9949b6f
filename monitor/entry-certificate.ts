// entry-certificate.ts reads a signer's identity out of the certificate a log entry carries: the
// SAN (email or URI, verbatim), the OIDC issuer and the Fulcio CI claims, the key fingerprint and
// notBefore. It does not decide trust: the log chained the certificate when it accepted the entry,
// and the monitor matches on what the entry says, whoever issued it.
//
// Reading is the log's (log/kinds/certificate-der.ts: @sigstore/core's ASN1Obj held to DER, and
// checked against @peculiar/asn1-x509). Where the log refuses and the monitor reads on: a name
// that is not ASCII (read as Latin-1: the signing happened, and an alert that shows odd characters
// beats none), a key type Vigil's log would not accept, and an extension that appears twice (RFC
// 5280 forbids it and Go's x509 refuses the certificate; the first one is read, as sigstore-js
// reads it, so the monitor sees the identity a JavaScript verifier would accept).
import { errorMessage } from '../log/errors.ts';
import { FULCIO_OID_ARC, readCertificateDer, type CertificateDer } from '../log/kinds/certificate-der.ts';
import { OID_FULCIO_ISSUER_V1, OID_FULCIO_ISSUER_V2 } from '../log/kinds/certificate.ts';
import { encodeHex } from '../tlog/base64.ts';
import { sha256 } from '../tlog/sha256.ts';
import { MonitorError } from './errors.ts';
import type { CiClaims, SignerIdentity } from './signing-event.ts';

/** CertificateSigner is what a certificate says about its holder, ready for a SigningEvent. */
export interface CertificateSigner {
  identity: SignerIdentity;
  /** keyFingerprint is lowercase hex SHA-256 of the certificate's DER SubjectPublicKeyInfo. */
  keyFingerprint: string;
  notBeforeSec: number;
}

/** MAX_CLAIM_LENGTH bounds each SAN and Fulcio extension value kept, in UTF-16 units (URLs, refs). */
export const MAX_CLAIM_LENGTH = 4096;

const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

/**
 * readCertificateSigner parses der (attacker-controlled: whoever logged the entry chose it) and
 * returns its signer. Throws MonitorError 'unparseable_entry' with a reason, and nothing else, on
 * anything that is not a certificate, on an undecodable Fulcio extension .1–.24 and on a claim
 * longer than MAX_CLAIM_LENGTH. A certificate with no email or URI SAN (a username otherName,
 * say) is identified by its key, as a bare key is.
 */
export function readCertificateSigner(der: Uint8Array): CertificateSigner {
  let fields: CertificateDer;
  try {
    fields = readCertificateDer(der);
  } catch (err) {
    throw new MonitorError('unparseable_entry', errorMessage(err), { cause: err });
  }
  for (const [oid, value] of fields.fulcio) bound(value, oid);
  const keyFingerprint = encodeHex(sha256(fields.spki));
  const notBeforeSec = Math.floor(fields.notBefore.getTime() / 1000);
  // sigstore-js and cosign take the URI SAN, else the email; Fulcio issues exactly one.
  const uri = fields.uris[0];
  const email = fields.emails[0];
  const san = uri ?? email;
  if (san === undefined) return { identity: { kind: 'key', san: keyFingerprint }, keyFingerprint, notBeforeSec };
  const issuer = fields.fulcio.get(OID_FULCIO_ISSUER_V2) ?? fields.fulcio.get(OID_FULCIO_ISSUER_V1) ?? '';
  const identity: SignerIdentity = { kind: uri !== undefined ? 'uri' : 'email', san: bound(san, 'SAN'), issuer, ci: ciClaims(fields.fulcio, issuer) };
  return { identity, keyFingerprint, notBeforeSec };
}

function bound(value: string, what: string): string {
  if (value.length > MAX_CLAIM_LENGTH) throw new MonitorError('unparseable_entry', `certificate ${what} is longer than ${MAX_CLAIM_LENGTH} characters`);
  return value;
}

// FULCIO_OIDS[n] is the Fulcio extension 1.3.6.1.4.1.57264.1.n, for the arcs ciClaims reads.
const FULCIO_OIDS = Array.from({ length: 25 }, (_, n) => `${FULCIO_OID_ARC}.${n}`);

// setClaim sets ci[name] from Fulcio extension .current, else from its deprecated .deprecated,
// unless the value is empty. (A top-level function, not a closure in ciClaims: tsx names every
// closure it creates, which cost ~5% of reading an entry.)
function setClaim(ci: CiClaims, ext: ReadonlyMap<string, string>, name: keyof CiClaims, current: number, deprecated?: number): void {
  const v = ext.get(FULCIO_OIDS[current]!) ?? (deprecated === undefined ? undefined : ext.get(FULCIO_OIDS[deprecated]!));
  if (v !== undefined && v !== '') ci[name] = v;
}

// ciClaims maps the Fulcio extensions onto CiClaims: each from its current OID, else from the
// deprecated GitHub-only one (signing-event.ts). Before .12 existed, GitHub certificates named the
// repository only as owner/name (.5); the URI is then rebuilt for GitHub's issuer alone.
function ciClaims(ext: ReadonlyMap<string, string>, issuer: string): CiClaims {
  const ci: CiClaims = {};
  setClaim(ci, ext, 'sourceRepositoryUri', 12);
  setClaim(ci, ext, 'workflowTrigger', 20, 2);
  setClaim(ci, ext, 'sha', 13, 3);
  setClaim(ci, ext, 'ref', 14, 6);
  setClaim(ci, ext, 'buildSignerUri', 9);
  setClaim(ci, ext, 'runnerEnvironment', 11);
  setClaim(ci, ext, 'runInvocationUri', 21);
  const legacyRepo = ext.get(FULCIO_OIDS[5]!);
  if (ci.sourceRepositoryUri === undefined && legacyRepo && issuer === GITHUB_ACTIONS_ISSUER) {
    ci.sourceRepositoryUri = `https://github.com/${legacyRepo}`;
  }
  const repo = ci.sourceRepositoryUri === undefined ? undefined : pathOf(ci.sourceRepositoryUri);
  if (repo) ci.repository = repo;
  else if (legacyRepo) ci.repository = legacyRepo;
  const buildConfig = ext.get(FULCIO_OIDS[18]!);
  const workflowRef = buildConfig === undefined ? undefined : pathOf(buildConfig);
  if (workflowRef) {
    ci.workflowRef = workflowRef;
    const at = workflowRef.indexOf('@');
    ci.workflow = at > 0 ? workflowRef.slice(0, at) : workflowRef;
  }
  return ci;
}

// pathOf returns a URI without its scheme, host and leading '/': "https://github.com/o/r" → "o/r".
// A value that is not scheme://host/path gives undefined.
function pathOf(uri: string): string | undefined {
  const sep = uri.indexOf('://');
  if (sep <= 0) return undefined;
  const slash = uri.indexOf('/', sep + 3);
  if (slash < 0 || slash === uri.length - 1) return undefined;
  return uri.slice(slash + 1);
}
