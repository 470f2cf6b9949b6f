// verifier-material.ts reads the key or certificate an entry names as its verifier, in the two
// wire forms: v1's base64 PEM text (hashedrekord publicKey.content, dsse verifiers[]) and v2's
// protobuf-JSON Verifier ({publicKey|x509Certificate: {rawBytes}, keyDetails}). A certificate is
// accepted only if it chains to the operator's CA at the integration time; a bare key as-is.
import { encodeBase64 } from '../../tlog/base64.ts';
import { LogError } from '../errors.ts';
import type { CanonicalJsonValue } from './canonical-json.ts';
import { parseCertificate, type ParsedCertificate } from './certificate.ts';
import { verifyCertificateChain } from './certificate-chain.ts';
import { parseKeyDetails, type KeyDetails } from './key-details.ts';
import { formatPem, parsePem } from './pem.ts';
import { parsePublicKey, type PublicKey } from './public-key.ts';
import { fieldPath, readBase64, readObject } from './request-json.ts';
import type { EntryContext, VerifierMaterial } from './verified-entry.ts';

/** ResolvedVerifier is a trusted verification key and the material that vouched for it. */
export interface ResolvedVerifier {
  readonly key: PublicKey;
  readonly material: VerifierMaterial;
}

/** resolvePublicKey accepts a bare key (attacker-supplied DER SPKI) as its own identity. */
export function resolvePublicKey(spki: Uint8Array, path: string): ResolvedVerifier {
  const key = parsePublicKey(spki, path);
  return { key, material: { type: 'public_key', spki: key.spki, keyFingerprint: key.fingerprint, keyAlgorithm: key.algorithm } };
}

/**
 * resolveCertificates parses ders (attacker-supplied, leaf first, then candidate intermediates) and
 * verifies the leaf's chain to ctx.trust at ctx.integrationTime. Throws untrusted_certificate when
 * the log has no CA configured or the chain fails.
 */
export function resolveCertificates(ders: readonly Uint8Array[], ctx: EntryContext, path: string): ResolvedVerifier {
  const certs: ParsedCertificate[] = ders.map((der, i) => parseCertificate(der, i === 0 ? path : `${path} certificate ${i + 1}`));
  const [leaf, ...rest] = certs;
  if (leaf === undefined) throw new LogError('malformed_certificate', `${path} holds no certificate`);
  if (ctx.trust === null) throw new LogError('untrusted_certificate', `${path}: this log accepts no certificates (no CA roots are configured)`);
  const chain = verifyCertificateChain(leaf, ctx.trust, ctx.integrationTime, path, rest);
  const key = leaf.publicKey;
  return {
    key,
    material: {
      type: 'certificate',
      chain: chain.map((c) => c.der),
      spki: key.spki,
      keyFingerprint: key.fingerprint,
      keyAlgorithm: key.algorithm,
      identity: leaf.identity,
      notBefore: leaf.notBefore,
      notAfter: leaf.notAfter,
    },
  };
}

/** PemVerifier is a v1 verifier and the canonical base64 PEM that Rekor stores in the body. */
export interface PemVerifier {
  readonly resolved: ResolvedVerifier;
  /** canonical is base64 of the PEM re-encoded as Go's pem.EncodeToMemory writes it. */
  readonly canonical: string;
}

/**
 * readPemVerifier reads a v1 verifier: base64 (strict) of PEM text holding one PUBLIC KEY block or
 * up to MAX_PEM_BLOCKS CERTIFICATE blocks (leaf first), as Rekor's x509.NewPublicKey accepts. The
 * canonical form is each block re-encoded, concatenated (Rekor's PublicKey.CanonicalValue).
 */
export function readPemVerifier(value: unknown, path: string, ctx: EntryContext): PemVerifier {
  const bytes = readBase64(value, path);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new LogError('malformed_public_key', `${path} is not base64 of PEM text`, { cause: err });
  }
  const blocks = parsePem(text, path, 'malformed_public_key');
  const types = new Set(blocks.map((b) => b.type));
  if (types.size === 1 && types.has('PUBLIC KEY') && blocks.length === 1) {
    const resolved = resolvePublicKey(blocks[0]!.der, path);
    return { resolved, canonical: encodePemText(formatPem('PUBLIC KEY', resolved.key.spki)) };
  }
  if (types.size === 1 && types.has('CERTIFICATE')) {
    const resolved = resolveCertificates(blocks.map((b) => b.der), ctx, path);
    return { resolved, canonical: encodePemText(blocks.map((b) => formatPem('CERTIFICATE', b.der)).join('')) };
  }
  throw new LogError('malformed_public_key', `${path} must hold one PUBLIC KEY block or CERTIFICATE blocks, not ${[...types].join(' + ')}`);
}

function encodePemText(pem: string): string {
  return encodeBase64(new TextEncoder().encode(pem));
}

/** ProtoVerifier is a v2 verifier: the trusted key, its keyDetails, and its canonical body value. */
export interface ProtoVerifier {
  readonly resolved: ResolvedVerifier;
  readonly keyDetails: KeyDetails;
  /** body is the Verifier as protojson writes it, for the canonical entry body. */
  readonly body: CanonicalJsonValue;
}

/**
 * readProtoVerifier reads a v2 (protobuf JSON) Verifier: exactly one of publicKey.rawBytes (DER
 * SPKI) or x509Certificate.rawBytes (DER leaf), and keyDetails. rekor-tiles stores the verifier as
 * received; so does this, after checking that rawBytes is canonical base64 of a valid key or cert.
 */
export function readProtoVerifier(value: unknown, path: string, ctx: EntryContext): ProtoVerifier {
  const obj = readObject(value, path, ['publicKey', 'x509Certificate', 'keyDetails'], ['keyDetails']);
  const keyDetails = parseKeyDetails(obj.keyDetails, fieldPath(path, 'keyDetails'));
  if ((obj.publicKey === undefined) === (obj.x509Certificate === undefined)) {
    throw new LogError('malformed_entry', `${path} must have exactly one of publicKey and x509Certificate`);
  }
  const which = obj.publicKey !== undefined ? 'publicKey' : 'x509Certificate';
  const inner = readObject(obj[which], fieldPath(path, which), ['rawBytes']);
  const rawPath = fieldPath(fieldPath(path, which), 'rawBytes');
  const raw = readBase64(inner.rawBytes, rawPath);
  const resolved = which === 'publicKey' ? resolvePublicKey(raw, rawPath) : resolveCertificates([raw], ctx, rawPath);
  return { resolved, keyDetails, body: { keyDetails, [which]: { rawBytes: encodeBase64(raw) } } };
}
