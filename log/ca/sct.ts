// sct.ts signs RFC 6962 v1 Signed Certificate Timestamps for precertificates with the CA's CT key
// (ECDSA P-256) and encodes the SCT list extension.
//
// Signed data: tlog/sct.ts formatSctSignedData (RFC 6962 §3.2), with no extensions. Verifying an
// SCT is the verifier's job: log/bundle/sct.ts verifyEmbeddedScts.
// SCT (TLS encoding, §3.2):
//   version(1) ‖ log_id(32) ‖ timestamp(8) ‖ uint16 extensions len ‖ hash_alg(1)=sha256(4) ‖
//   sig_alg(1)=ecdsa(3) ‖ uint16 sig len ‖ DER ECDSA signature
// Extension value (§3.3): OCTET STRING { uint16 list len ‖ (uint16 sct len ‖ sct)* }.
import { sign, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { TLS_HASH_SHA256, TLS_SIGNATURE_ECDSA } from '../../tlog/note-ecdsa.ts';
import { formatSctSignedData } from '../../tlog/sct.ts';
import { sha256 } from '../../tlog/sha256.ts';

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function u64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
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
  const signature = sign('sha256', formatSctSignedData(timestampMs, sha256(issuerSpki), tbs), { key: signer.ctKey, dsaEncoding: 'der' });
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
