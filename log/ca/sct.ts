// sct.ts signs RFC 6962 v1 Signed Certificate Timestamps for precertificates with the CA's CT key
// (ECDSA P-256) and encodes the SCT list extension.
//
// Signed data (RFC 6962 §3.2, digitally-signed struct):
//   sct_version(1)=0 ‖ signature_type(1)=certificate_timestamp(0) ‖ timestamp(8, ms) ‖
//   entry_type(2)=precert_entry(1) ‖ issuer_key_hash(32) ‖ uint24 len ‖ TBSCertificate ‖ uint16 extensions len=0
// SCT (TLS encoding, §3.2):
//   version(1) ‖ log_id(32) ‖ timestamp(8) ‖ uint16 extensions len ‖ hash_alg(1)=sha256(4) ‖
//   sig_alg(1)=ecdsa(3) ‖ uint16 sig len ‖ DER ECDSA signature
// Extension value (§3.3): OCTET STRING { uint16 list len ‖ (uint16 sct len ‖ sct)* }.
import { sign, verify, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { sha256 } from '../../tlog/sha256.ts';

const TLS_HASH_SHA256 = 4;
const TLS_SIGNATURE_ECDSA = 3;

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function u24(n: number): Buffer {
  if (n >= 1 << 24) throw new RangeError('a TBSCertificate longer than 2^24 bytes cannot be in an SCT');
  return Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}

function u64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
}

/** formatSctSignedData returns the bytes an SCT's signature covers (RFC 6962 §3.2, precert_entry). */
export function formatSctSignedData(timestampMs: bigint, issuerSpki: Uint8Array, tbs: Uint8Array): Uint8Array {
  return Buffer.concat([
    Buffer.from([0, 0]), u64(timestampMs), u16(1),
    sha256(issuerSpki), u24(tbs.length), tbs, u16(0),
  ]);
}

/** SctSigner is the CT log key and its RFC 6962 log ID (SHA-256 of its DER SPKI). */
export interface SctSigner {
  readonly ctKey: KeyObject;
  readonly ctLogId: Uint8Array;
}

/**
 * signSct returns a TLS-encoded v1 SCT for the precertificate whose TBS (without poison) is `tbs`,
 * issued by the key `issuerSpki`, at `timestampMs` (milliseconds since the epoch).
 */
export function signSct(signer: SctSigner, timestampMs: bigint, issuerSpki: Uint8Array, tbs: Uint8Array): Uint8Array {
  const signature = sign('sha256', formatSctSignedData(timestampMs, issuerSpki, tbs), { key: signer.ctKey, dsaEncoding: 'der' });
  return Buffer.concat([
    Buffer.from([0]), signer.ctLogId, u64(timestampMs), u16(0),
    Buffer.from([TLS_HASH_SHA256, TLS_SIGNATURE_ECDSA]), u16(signature.length), signature,
  ]);
}

/** formatSctListExtensionValue returns the DER extnValue contents of the SCT list extension. */
export function formatSctListExtensionValue(scts: readonly Uint8Array[]): Uint8Array {
  const items = Buffer.concat(scts.map((s) => Buffer.concat([u16(s.length), s])));
  return new Uint8Array(AsnConvert.serialize(new OctetString(Buffer.concat([u16(items.length), items]))));
}

/**
 * isValidSct reports whether `sct` (as signSct encodes it) is the CT key `ctPublicKey`'s valid
 * signature over the precertificate entry; tests and `vigil verify` use it.
 */
export function isValidSct(ctPublicKey: KeyObject, sct: Uint8Array, issuerSpki: Uint8Array, tbs: Uint8Array): boolean {
  const b = Buffer.from(sct);
  if (b.length < 47 || b[0] !== 0) return false;
  const timestamp = b.readBigUInt64BE(33);
  const extLen = b.readUInt16BE(41);
  const at = 43 + extLen;
  if (b.length < at + 4 || b[at] !== TLS_HASH_SHA256 || b[at + 1] !== TLS_SIGNATURE_ECDSA) return false;
  const sigLen = b.readUInt16BE(at + 2);
  if (b.length !== at + 4 + sigLen) return false;
  return verify('sha256', formatSctSignedData(timestamp, issuerSpki, tbs), { key: ctPublicKey, dsaEncoding: 'der' }, b.subarray(at + 4));
}
