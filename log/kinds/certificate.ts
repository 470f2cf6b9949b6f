// certificate.ts parses signers' X.509 certificates and reads the identity a monitor indexes: the
// SAN emails and URIs and the Fulcio OIDs (Fulcio's docs/oid-info.md: .1–.6 raw strings, .8–.24
// DER UTF8String; the issuer is .8, falling back to .1). Fields are read by certificate-der.ts
// (@sigstore/core's ASN1Obj held to DER), keys and signatures by node:crypto's X509Certificate
// (OpenSSL), which must parse the certificate too; nothing is parsed by hand. Chain validation is
// in certificate-chain.ts.
import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { errorMessage, LogError } from '../errors.ts';
import { FULCIO_OID_ARC, readCertificateDer, type CertificateDer } from './certificate-der.ts';
import { publicKeyFromKeyObject, type PublicKey } from './public-key.ts';

export { FULCIO_OID_ARC };
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
  /** fields are the certificate's extensions and other parts as read (certificate-der.ts). */
  readonly fields: CertificateDer;
  /** node is the OpenSSL view (signature checks, issuer linking). */
  readonly node: NodeX509Certificate;
}

const IA5 = /^[\x00-\x7f]*$/;

function readIdentity(fields: CertificateDer, path: string): CertificateIdentity {
  for (const [names, kind] of [[fields.emails, 'email'], [fields.uris, 'URI']] as const) {
    // IA5String is ASCII; the reader maps any other byte to a Latin-1 character. Refused, as Go's
    // x509 does: such a name is not what the certificate's issuer could have meant.
    for (const name of names) if (!IA5.test(name)) throw new LogError('malformed_certificate', `${path} has a non-ASCII ${kind} name`);
  }
  const fulcioExtensions = Object.fromEntries(fields.fulcio);
  const oidcIssuer = fulcioExtensions[OID_FULCIO_ISSUER_V2] ?? fulcioExtensions[OID_FULCIO_ISSUER_V1] ?? null;
  return { emails: [...fields.emails], uris: [...fields.uris], oidcIssuer, fulcioExtensions };
}

function parseUnchecked(der: Uint8Array, path: string): ParsedCertificate {
  let fields: CertificateDer;
  try {
    fields = readCertificateDer(der);
  } catch (err) {
    throw new LogError('malformed_certificate', `${path} is not a valid DER X.509 certificate: ${errorMessage(err)}`, { cause: err });
  }
  // RFC 5280 §4.2; Go's x509 refuses these, so Rekor and Fulcio never hold one.
  if (fields.duplicateExtension !== null) throw new LogError('malformed_certificate', `${path} has the extension ${fields.duplicateExtension} more than once`);
  const node = new NodeX509Certificate(der);
  // OpenSSL keeps the bytes it consumed. The reader above already refused trailing bytes, so a
  // difference here means the two parsers disagree on where the certificate ends: refused, so that
  // the key OpenSSL checks signatures with is the certificate the reader read.
  if (!node.raw.equals(der)) throw new LogError('malformed_certificate', `${path}: OpenSSL and the DER reader disagree on the certificate's extent`);
  let publicKey: PublicKey;
  try {
    publicKey = publicKeyFromKeyObject(node.publicKey, `${path} public key`);
  } catch (err) {
    if (err instanceof LogError && err.code === 'unsupported_algorithm') throw err;
    throw new LogError('malformed_certificate', `${path} has an unusable public key: ${errorMessage(err)}`, { cause: err });
  }
  const identity = readIdentity(fields, path);
  return { der, publicKey, notBefore: fields.notBefore, notAfter: fields.notAfter, identity, fields, node };
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
