// sct.ts verifies the embedded SCTs of a certificate (RFC 6962 §3.2-3.3): the CT log signed the
// precertificate's TBS, which is the final certificate's TBS without the SCT list extension, with
// the SHA-256 of the issuer's SPKI. The X.509 structure is decoded and re-encoded by
// @peculiar/asn1-x509; the re-encoding is checked to reproduce the certificate's own TBS bytes
// first, so a certificate the encoder cannot round-trip is refused rather than half-checked. The
// SCT list itself is TLS presentation language (RFC 5246 §4), read with bounds checks below.
import { verify, type KeyObject } from 'node:crypto';
import { fromBER, Sequence } from 'asn1js';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { equalBytes } from '../../tlog/merkle.ts';
import { TLS_HASH_SHA256, TLS_SIGNATURE_ECDSA } from '../../tlog/note-ecdsa.ts';
import { formatSctSignedData } from '../../tlog/sct.ts';
import { sha256 } from '../../tlog/sha256.ts';
import { BundleError, rethrowAs } from './errors.ts';
import { isValidAt, type TrustedCtLog } from './trusted-root.ts';

/** OID_SCT_LIST is the embedded SCT list extension (RFC 6962 §3.3). */
export const OID_SCT_LIST = '1.3.6.1.4.1.11129.2.4.2';
/** MAX_SCTS bounds the SCTs of one certificate. */
export const MAX_SCTS = 8;

/** Sct is one parsed v1 SCT. */
export interface Sct {
  readonly logId: Uint8Array;
  readonly timestampMs: bigint;
  readonly extensions: Uint8Array;
  readonly hashAlgorithm: number;
  readonly signatureAlgorithm: number;
  readonly signature: Uint8Array;
}

class TlsReader {
  private off = 0;
  constructor(private readonly b: Uint8Array) {}
  take(n: number): Uint8Array {
    if (this.off + n > this.b.length) throw new BundleError('invalid_sct', 'SCT list is truncated');
    const out = this.b.subarray(this.off, this.off + n);
    this.off += n;
    return out;
  }
  uint(n: number): number {
    return this.take(n).reduce((acc, x) => acc * 256 + x, 0);
  }
  vector(lenBytes: number): Uint8Array {
    return this.take(this.uint(lenBytes));
  }
  get done(): boolean {
    return this.off === this.b.length;
  }
}

/** parseSctList reads a TLS SignedCertificateTimestampList (attacker-controlled). */
export function parseSctList(list: Uint8Array): Sct[] {
  const outer = new TlsReader(list);
  const items = new TlsReader(outer.vector(2));
  if (!outer.done) throw new BundleError('invalid_sct', 'SCT list has trailing bytes');
  const scts: Sct[] = [];
  while (!items.done) {
    if (scts.length === MAX_SCTS) throw new BundleError('invalid_sct', `more than ${MAX_SCTS} SCTs`);
    const s = new TlsReader(items.vector(2));
    if (s.uint(1) !== 0) throw new BundleError('invalid_sct', 'SCT is not version 1');
    const logId = s.take(32);
    const ts = s.take(8);
    const extensions = s.vector(2);
    const hashAlgorithm = s.uint(1);
    const signatureAlgorithm = s.uint(1);
    const signature = s.vector(2);
    if (!s.done) throw new BundleError('invalid_sct', 'SCT has trailing bytes');
    scts.push({ logId, timestampMs: Buffer.from(ts).readBigUInt64BE(), extensions, hashAlgorithm, signatureAlgorithm, signature });
  }
  return scts;
}

function rawTbs(der: Uint8Array): Uint8Array {
  const parsed = fromBER(der);
  if (parsed.offset === -1 || !(parsed.result instanceof Sequence)) throw new Error('not a DER certificate');
  const tbs = parsed.result.valueBlock.value[0];
  if (tbs === undefined) throw new Error('certificate has no TBS');
  return new Uint8Array(tbs.valueBeforeDecodeView);
}

/** precertificateTbs returns the embedded SCT list and the TBS without it, or null without one. */
export function precertificateTbs(der: Uint8Array): { list: Uint8Array; tbs: Uint8Array } | null {
  return rethrowAs('invalid_sct', 'certificate could not be re-encoded for SCT checks', () => {
    const cert = AsnConvert.parse(der, Certificate);
    if (!equalBytes(new Uint8Array(AsnConvert.serialize(cert.tbsCertificate)), rawTbs(der))) throw new Error('the TBS does not re-encode to its own bytes');
    const exts = cert.tbsCertificate.extensions ?? [];
    const at = exts.findIndex((e) => e.extnID === OID_SCT_LIST);
    if (at === -1) return null;
    const list = new Uint8Array(AsnConvert.parse(exts[at]!.extnValue.buffer, OctetString).buffer);
    exts.splice(at, 1);
    return { list, tbs: new Uint8Array(AsnConvert.serialize(cert.tbsCertificate)) };
  });
}

function verifiedBy(sct: Sct, data: Uint8Array, log: TrustedCtLog): boolean {
  if (!equalBytes(sct.logId, log.logId) || !isValidAt(log.validFor, new Date(Number(sct.timestampMs)))) return false;
  try {
    return verify('sha256', data, log.key as KeyObject, sct.signature);
  } catch {
    return false;
  }
}

/**
 * verifyEmbeddedScts checks that the certificate carries at least one SCT and that every SCT it
 * carries verifies with a trusted CT log valid at the SCT's time (as @sigstore/verify: an
 * unverifiable SCT fails). `issuerSpki` is the DER SPKI of the certificate's issuer. Returns the
 * SCTs. Throws missing_sct or invalid_sct.
 */
export function verifyEmbeddedScts(der: Uint8Array, issuerSpki: Uint8Array, ctlogs: readonly TrustedCtLog[]): Sct[] {
  const pre = precertificateTbs(der);
  if (pre === null) throw new BundleError('missing_sct', 'the certificate has no embedded SCT: it was not logged to a CT log');
  const scts = parseSctList(pre.list);
  if (scts.length === 0) throw new BundleError('missing_sct', 'the certificate\'s SCT list is empty');
  const issuerKeyHash = sha256(issuerSpki);
  for (const sct of scts) {
    if (sct.hashAlgorithm !== TLS_HASH_SHA256 || sct.signatureAlgorithm !== TLS_SIGNATURE_ECDSA) throw new BundleError('invalid_sct', 'SCT is not ECDSA with SHA-256');
    const data = rethrowAs('invalid_sct', 'couldn\'t encode the SCT\'s signed data', () => formatSctSignedData(sct.timestampMs, issuerKeyHash, pre.tbs, sct.extensions));
    if (!ctlogs.some((log) => verifiedBy(sct, data, log))) throw new BundleError('invalid_sct', 'an embedded SCT does not verify with any trusted CT log');
  }
  return scts;
}
