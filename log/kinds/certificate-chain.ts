// certificate-chain.ts decides whether a signer's certificate is trusted: a path from the leaf
// through intermediates to one of the operator's CA roots, every certificate valid at the
// integration time (Fulcio leaves live 10 minutes, so "now" when the entry is accepted), and the
// leaf fit for code signing (EKU codeSigning, KU digitalSignature if present, not a CA). Signature
// checks and issuer/subject linking (names, AKI/SKI, keyCertSign) are OpenSSL's, through
// node:crypto's X509Certificate; extensions are read by certificate-der.ts.
import { errorMessage, LogError } from '../errors.ts';
import { KEY_USAGE_DIGITAL_SIGNATURE, OID_BASIC_CONSTRAINTS, OID_EXT_KEY_USAGE, OID_KEY_USAGE, OID_SUBJECT_ALT_NAME } from './certificate-der.ts';
import { OID_EKU_ANY, OID_EKU_CODE_SIGNING, parseCertificate, type ParsedCertificate } from './certificate.ts';

/** CertificateTrustConfig is the operator's CA material, DER encoded. */
export interface CertificateTrustConfig {
  /** roots are the trust anchors (usually one self-signed root). */
  readonly roots: readonly Uint8Array[];
  /** intermediates are CA certificates that may sit between a leaf and a root. */
  readonly intermediates?: readonly Uint8Array[];
}

/** CertificateTrust is parsed CA material, loaded once at start-up by loadCertificateTrust. */
export interface CertificateTrust {
  readonly roots: readonly ParsedCertificate[];
  readonly intermediates: readonly ParsedCertificate[];
  /**
   * issuers maps each configured intermediate to the configured CAs whose key signed it, checked
   * once at load, so that per entry only the leaf's signature costs a verification (P-384: ~0.75 ms).
   */
  readonly issuers: ReadonlyMap<ParsedCertificate, ReadonlySet<ParsedCertificate>>;
}

/** MAX_CHAIN_INTERMEDIATES bounds the intermediates in a path (Fulcio uses one). */
export const MAX_CHAIN_INTERMEDIATES = 4;

// Extensions whose meaning this validator enforces; any other critical extension (name or policy
// constraints, a CT precertificate poison) makes the certificate unusable rather than half-checked.
const UNDERSTOOD_CRITICAL = new Set([OID_KEY_USAGE, OID_SUBJECT_ALT_NAME, OID_BASIC_CONSTRAINTS, OID_EXT_KEY_USAGE]);

function isCa(cert: ParsedCertificate): boolean {
  return cert.fields.basicConstraints?.ca === true;
}

function unknownCriticalExtension(cert: ParsedCertificate): string | null {
  return cert.fields.extensions.find((e) => e.critical && !UNDERSTOOD_CRITICAL.has(e.oid))?.oid ?? null;
}

function isValidAt(cert: ParsedCertificate, at: Date): boolean {
  return cert.notBefore.getTime() <= at.getTime() && at.getTime() <= cert.notAfter.getTime();
}

/** issuedBy reports whether issuer's name and key identifiers link to child and its key signed child. */
function issuedBy(child: ParsedCertificate, issuer: ParsedCertificate): boolean {
  try {
    return child.node.checkIssued(issuer.node) && child.node.verify(issuer.publicKey.key);
  } catch {
    return false;
  }
}

function usableCa(cert: ParsedCertificate, at: Date, intermediatesBelow: number): boolean {
  if (!isCa(cert) || !isValidAt(cert, at) || unknownCriticalExtension(cert) !== null) return false;
  const pathLength = cert.fields.basicConstraints?.pathLength;
  if (pathLength !== undefined && intermediatesBelow > pathLength) return false;
  // EKU chaining, as Go's x509 and Fulcio's intermediate (EKU codeSigning) expect.
  const eku = cert.fields.extendedKeyUsages;
  return eku === null || eku.includes(OID_EKU_CODE_SIGNING) || eku.includes(OID_EKU_ANY);
}

function linked(child: ParsedCertificate, issuer: ParsedCertificate, trust: CertificateTrust): boolean {
  const known = trust.issuers.get(child);
  return known !== undefined ? known.has(issuer) : issuedBy(child, issuer);
}

function findPath(
  cert: ParsedCertificate,
  below: readonly ParsedCertificate[],
  trust: CertificateTrust,
  candidates: readonly ParsedCertificate[],
  at: Date,
): ParsedCertificate[] | null {
  for (const root of trust.roots) {
    if (usableCa(root, at, below.length) && linked(cert, root, trust)) return [...below, root];
  }
  if (below.length === MAX_CHAIN_INTERMEDIATES) return null;
  for (const candidate of candidates) {
    if (candidate === cert || below.includes(candidate)) continue;
    if (!usableCa(candidate, at, below.length) || !linked(cert, candidate, trust)) continue;
    const path = findPath(candidate, [...below, candidate], trust, candidates, at);
    if (path !== null) return path;
  }
  return null;
}

function checkLeafProfile(leaf: ParsedCertificate, at: Date, path: string): void {
  if (at.getTime() < leaf.notBefore.getTime()) {
    throw new LogError('untrusted_certificate', `${path} is not valid until ${leaf.notBefore.toISOString()} (integration time ${at.toISOString()})`);
  }
  if (at.getTime() > leaf.notAfter.getTime()) {
    throw new LogError('untrusted_certificate', `${path} expired at ${leaf.notAfter.toISOString()} (integration time ${at.toISOString()})`);
  }
  if (isCa(leaf)) throw new LogError('untrusted_certificate', `${path} is a CA certificate, not a signing certificate`);
  const critical = unknownCriticalExtension(leaf);
  if (critical !== null) throw new LogError('untrusted_certificate', `${path} has an unsupported critical extension ${critical}`);
  if (!(leaf.fields.extendedKeyUsages ?? []).includes(OID_EKU_CODE_SIGNING)) {
    throw new LogError('untrusted_certificate', `${path} lacks the code-signing extended key usage`);
  }
  const ku = leaf.fields.keyUsage;
  if (ku !== null && (ku & KEY_USAGE_DIGITAL_SIGNATURE) === 0) {
    throw new LogError('untrusted_certificate', `${path} key usage does not allow digital signatures`);
  }
}

/**
 * verifyCertificateChain checks leaf (attacker-supplied) for code signing at time `at` and finds a
 * path to a root in trust, using trust's intermediates and any `extraIntermediates` the entry
 * carried (untrusted candidates: they count only if they chain to a root). Returns the path
 * [leaf, ...intermediates, root]; throws untrusted_certificate with the reason otherwise.
 */
export function verifyCertificateChain(
  leaf: ParsedCertificate,
  trust: CertificateTrust,
  at: Date,
  path: string,
  extraIntermediates: readonly ParsedCertificate[] = [],
): readonly ParsedCertificate[] {
  let found: ParsedCertificate[] | null;
  try {
    checkLeafProfile(leaf, at, path);
    found = findPath(leaf, [], trust, [...trust.intermediates, ...extraIntermediates], at);
  } catch (err) {
    if (err instanceof LogError) throw err;
    throw new LogError('untrusted_certificate', `${path} chain could not be checked: ${errorMessage(err)}`, { cause: err });
  }
  if (found === null) throw new LogError('untrusted_certificate', `${path} does not chain to a trusted root valid at ${at.toISOString()}`);
  return [leaf, ...found];
}

/**
 * loadCertificateTrust parses the operator's roots and intermediates (DER). Every one must be a CA
 * certificate (basicConstraints cA) with no unsupported critical extension; at least one root is
 * required. Throws invalid_config naming the bad certificate.
 */
export function loadCertificateTrust(config: CertificateTrustConfig): CertificateTrust {
  const load = (ders: readonly Uint8Array[], what: string): ParsedCertificate[] =>
    ders.map((der, i) => {
      let cert: ParsedCertificate;
      try {
        cert = parseCertificate(der, `${what}[${i}]`);
      } catch (err) {
        throw new LogError('invalid_config', `couldn't load CA ${what}[${i}]: ${errorMessage(err)}`, { cause: err });
      }
      if (!isCa(cert)) throw new LogError('invalid_config', `CA ${what}[${i}] is not a CA certificate (basicConstraints cA is not set)`);
      const critical = unknownCriticalExtension(cert);
      if (critical !== null) throw new LogError('invalid_config', `CA ${what}[${i}] has an unsupported critical extension ${critical}`);
      return cert;
    });
  if (config.roots.length === 0) throw new LogError('invalid_config', 'certificate trust needs at least one root');
  const roots = load(config.roots, 'roots');
  const intermediates = load(config.intermediates ?? [], 'intermediates');
  const cas = [...roots, ...intermediates];
  const issuers = new Map(intermediates.map((c) => [c, new Set(cas.filter((ca) => ca !== c && issuedBy(c, ca)))] as const));
  return { roots, intermediates, issuers };
}
