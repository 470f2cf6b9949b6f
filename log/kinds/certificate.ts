// certificate.ts parses signers' X.509 certificates and reads the identity a monitor indexes: the
// SAN emails and URIs and the Fulcio OIDs (docs/oid-info.md: .1–.6 raw strings, .8–.24 DER
// UTF8String; the issuer is .8, falling back to .1). Parsing is @peculiar/x509 (extensions) and
// node:crypto's X509Certificate (OpenSSL: signatures, issuer linking); nothing is parsed by hand.
// Chain validation is in certificate-chain.ts.
import { fromBER, Utf8String } from 'asn1js';
import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { errorMessage, LogError } from '../errors.ts';
import { publicKeyFromKeyObject, type PublicKey } from './public-key.ts';
import { x509 } from './peculiar-x509.ts';

/** FULCIO_OID_ARC is the arc of Fulcio's certificate extensions (1.3.6.1.4.1.57264.1.N). */
export const FULCIO_OID_ARC = '1.3.6.1.4.1.57264.1';
/** OID_FULCIO_ISSUER_V1 is the deprecated OIDC issuer extension (raw string). */
export const OID_FULCIO_ISSUER_V1 = `${FULCIO_OID_ARC}.1`;
/** OID_FULCIO_ISSUER_V2 is the OIDC issuer extension (DER UTF8String). */
export const OID_FULCIO_ISSUER_V2 = `${FULCIO_OID_ARC}.8`;
/** OID_EKU_CODE_SIGNING is id-kp-codeSigning (RFC 5280 §4.2.1.12). */
export const OID_EKU_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
/** OID_EKU_ANY is anyExtendedKeyUsage. */
export const OID_EKU_ANY = '2.5.29.37.0';

/** CertificateIdentity is who a certificate names: what search and watch rules match on. */
export interface CertificateIdentity {
  /** emails are the rfc822Name SANs, as written in the certificate. */
  readonly emails: readonly string[];
  /** uris are the URI SANs (a CI workflow identity, for example). */
  readonly uris: readonly string[];
  /** oidcIssuer is the Fulcio issuer extension (.8, else .1), or null if absent. */
  readonly oidcIssuer: string | null;
  /** fulcioExtensions maps each Fulcio OID present (1.3.6.1.4.1.57264.1.N) to its decoded value. */
  readonly fulcioExtensions: Readonly<Record<string, string>>;
}

/** ParsedCertificate is a structurally valid certificate; it is not trusted yet. */
export interface ParsedCertificate {
  readonly der: Uint8Array;
  readonly publicKey: PublicKey;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly identity: CertificateIdentity;
  /** peculiar is the @peculiar/x509 view (extensions). */
  readonly peculiar: x509.X509Certificate;
  /** node is the OpenSSL view (signature checks, issuer linking). */
  readonly node: NodeX509Certificate;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const IA5 = /^[\x00-\x7f]*$/;

function decodeDerUtf8String(value: ArrayBuffer): string | null {
  const parsed = fromBER(value);
  if (parsed.offset !== value.byteLength || !(parsed.result instanceof Utf8String)) return null;
  return parsed.result.getValue();
}

function readFulcioExtensions(cert: x509.X509Certificate, path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const ext of cert.extensions) {
    if (!ext.type.startsWith(`${FULCIO_OID_ARC}.`)) continue;
    const arc = Number(ext.type.slice(FULCIO_OID_ARC.length + 1));
    if (!Number.isSafeInteger(arc)) continue; // a deeper arc, not one of Fulcio's extensions
    let value: string | null;
    if (arc >= 1 && arc <= 6) {
      try {
        value = UTF8.decode(ext.value);
      } catch {
        value = null;
      }
    } else {
      value = decodeDerUtf8String(ext.value);
    }
    if (value === null) {
      // .1–.24 are defined; an undecodable one makes the identity unreliable. Later arcs may use
      // other types, so they are left out rather than refused.
      if (arc <= 24) throw new LogError('malformed_certificate', `${path} has an undecodable Fulcio extension ${ext.type}`);
      continue;
    }
    out[ext.type] = value;
  }
  return out;
}

function readIdentity(cert: x509.X509Certificate, path: string): CertificateIdentity {
  const emails: string[] = [];
  const uris: string[] = [];
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  for (const name of san?.names.items ?? []) {
    if (name.type !== 'email' && name.type !== 'url') continue;
    // IA5String is ASCII; the decoder maps any other byte to a Latin-1 character. Refused, as Go's
    // x509 does: such a name is not what the certificate's issuer could have meant.
    if (!IA5.test(name.value)) throw new LogError('malformed_certificate', `${path} has a non-ASCII ${name.type === 'email' ? 'email' : 'URI'} name`);
    (name.type === 'email' ? emails : uris).push(name.value);
  }
  const fulcioExtensions = readFulcioExtensions(cert, path);
  const oidcIssuer = fulcioExtensions[OID_FULCIO_ISSUER_V2] ?? fulcioExtensions[OID_FULCIO_ISSUER_V1] ?? null;
  return { emails, uris, oidcIssuer, fulcioExtensions };
}

function parseUnchecked(der: Uint8Array, path: string): ParsedCertificate {
  const node = new NodeX509Certificate(der);
  // OpenSSL keeps the bytes it consumed; anything after the certificate would be stored in the
  // entry but covered by nothing, so it is refused.
  if (!node.raw.equals(der)) throw new LogError('malformed_certificate', `${path} has trailing bytes after the certificate`);
  const peculiar = new x509.X509Certificate(der);
  let publicKey: PublicKey;
  try {
    // node's KeyObject, not @peculiar's publicKey.rawData, which re-serialises the SPKI (~0.9 ms).
    publicKey = publicKeyFromKeyObject(node.publicKey, `${path} public key`);
  } catch (err) {
    if (err instanceof LogError && err.code === 'unsupported_algorithm') throw err;
    throw new LogError('malformed_certificate', `${path} has an unusable public key: ${errorMessage(err)}`, { cause: err });
  }
  const identity = readIdentity(peculiar, path);
  return { der, publicKey, notBefore: peculiar.notBefore, notAfter: peculiar.notAfter, identity, peculiar, node };
}

/**
 * parseCertificate parses der (attacker-controlled) as one X.509 certificate with no trailing
 * bytes, and reads its key and identity. It checks structure only; verifyCertificateChain decides
 * trust. Throws malformed_certificate, or unsupported_algorithm for a key type the log refuses.
 */
export function parseCertificate(der: Uint8Array, path: string): ParsedCertificate {
  try {
    return parseUnchecked(der, path);
  } catch (err) {
    if (err instanceof LogError) throw err;
    throw new LogError('malformed_certificate', `${path} is not a valid DER X.509 certificate: ${errorMessage(err)}`, { cause: err });
  }
}
