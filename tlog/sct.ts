// sct.ts formats what an RFC 6962 v1 Signed Certificate Timestamp signs for a precertificate: the
// CA signs these bytes (log/ca/sct.ts) and a verifier checks the signature over them
// (log/bundle/sct.ts), so both sides share this one encoding. Pure: no keys, no I/O.
//
// Signed data (RFC 6962 §3.2, digitally-signed struct):
//   sct_version(1)=v1(0) ‖ signature_type(1)=certificate_timestamp(0) ‖ timestamp(8, ms) ‖
//   entry_type(2)=precert_entry(1) ‖ issuer_key_hash(32) ‖ uint24 len ‖ TBSCertificate ‖
//   uint16 len ‖ extensions
// The SCT's TLS algorithm identifiers are note-ecdsa.ts's TLS_HASH_SHA256 and TLS_SIGNATURE_ECDSA.
import { TlogError } from './errors.ts';

/**
 * formatSctSignedData returns the bytes an SCT's signature covers (RFC 6962 §3.2, precert_entry):
 * `issuerKeyHash` is the SHA-256 of the issuer's DER SPKI, `tbs` the precertificate's TBS without
 * the poison, `extensions` the SCT's extensions (empty for every SCT Vigil issues). Throws
 * TlogError 'invalid_argument' for a TBS of 2^24 bytes or more or extensions of 2^16 or more.
 */
export function formatSctSignedData(timestampMs: bigint, issuerKeyHash: Uint8Array, tbs: Uint8Array, extensions: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (tbs.length >= 1 << 24) throw new TlogError('invalid_argument', 'a TBSCertificate of 2^24 bytes or more cannot be in an SCT');
  if (extensions.length >= 1 << 16) throw new TlogError('invalid_argument', 'SCT extensions of 2^16 bytes or more cannot be encoded');
  const head = Buffer.alloc(12);
  head.writeUInt8(0, 0); // sct_version v1
  head.writeUInt8(0, 1); // signature_type certificate_timestamp
  head.writeBigUInt64BE(timestampMs, 2);
  head.writeUInt16BE(1, 10); // entry_type precert_entry
  const len = Buffer.alloc(3);
  len.writeUIntBE(tbs.length, 0, 3);
  const extLen = Buffer.alloc(2);
  extLen.writeUInt16BE(extensions.length);
  return Buffer.concat([head, issuerKeyHash, len, tbs, extLen, extensions]);
}
