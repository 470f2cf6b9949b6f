// timestamp.ts verifies an RFC 3161 timestamp from a bundle (a DER TimeStampResp, attacker-
// controlled) against the trusted root's TSAs, and returns the time it proves. Decoding is
// @peculiar/asn1-tsp / asn1-cms; the signature covers the signed attributes exactly as they were
// encoded (their raw bytes, with the [0] tag turned into SET, RFC 5652 §5.4).
import { createHash, verify, X509Certificate } from 'node:crypto';
import { fromBER, Sequence, Set as Asn1Set } from 'asn1js';
import { SignedData } from '@peculiar/asn1-cms';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { id_ct_tstInfo, TimeStampResp, TSTInfo } from '@peculiar/asn1-tsp';
import { Certificate } from '@peculiar/asn1-x509';
import { equalBytes } from '../../tlog/merkle.ts';
import { BundleError, rethrowAs } from './errors.ts';
import { isValidAt, type TrustedTsa } from './trusted-root.ts';

const HASHES: Readonly<Record<string, string>> = {
  '2.16.840.1.101.3.4.2.1': 'sha256', '2.16.840.1.101.3.4.2.2': 'sha384', '2.16.840.1.101.3.4.2.3': 'sha512',
};
const ECDSA_HASHES: Readonly<Record<string, string>> = {
  '1.2.840.10045.4.3.2': 'sha256', '1.2.840.10045.4.3.3': 'sha384', '1.2.840.10045.4.3.4': 'sha512',
};
const OID_CONTENT_TYPE = '1.2.840.113549.1.9.3';
const OID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
const OID_EKU_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';

function fail(message: string): never {
  throw new BundleError('invalid_timestamp', message);
}

function hashName(oid: string, table: Readonly<Record<string, string>>, what: string): string {
  return Object.hasOwn(table, oid) ? table[oid]! : fail(`${what} ${oid.slice(0, 64)} is not supported`);
}

interface Token {
  readonly signedData: SignedData;
  readonly info: TSTInfo;
  readonly infoDer: Uint8Array;
  /** signedAttrs is the exact encoding of the signer's signed attributes ([0] IMPLICIT SET OF). */
  readonly signedAttrs: Uint8Array;
}

/**
 * rawSignedAttributes returns the signed attributes of SignedData's first SignerInfo as encoded,
 * from asn1js's decoded tree (asn1-schema keeps no raw bytes for repeated fields).
 */
function rawSignedAttributes(signedDataDer: ArrayBuffer): Uint8Array {
  const parsed = fromBER(signedDataDer);
  if (parsed.offset === -1 || !(parsed.result instanceof Sequence)) fail('timestamp SignedData is not DER');
  const infos = parsed.result.valueBlock.value.at(-1);
  const first = infos instanceof Asn1Set ? infos.valueBlock.value[0] : undefined;
  if (!(first instanceof Sequence)) fail('timestamp token has no SignerInfo');
  const attrs = first.valueBlock.value.find((v) => v.idBlock.tagClass === 3 && v.idBlock.tagNumber === 0);
  if (attrs === undefined) fail('timestamp token has no signed attributes');
  return new Uint8Array(attrs.valueBeforeDecodeView);
}

function decode(der: Uint8Array): Token {
  return rethrowAs('invalid_timestamp', 'timestamp is not a DER TimeStampResp', () => {
    const resp = AsnConvert.parse(der, TimeStampResp);
    if (resp.status.status !== 0 && resp.status.status !== 1) fail(`timestamp status is ${resp.status.status}, not granted`);
    const token = resp.timeStampToken ?? fail('timestamp response has no token');
    if (token.contentType !== OID_SIGNED_DATA) fail('timestamp token is not SignedData');
    const signedData = AsnConvert.parse(token.content, SignedData);
    if (signedData.encapContentInfo.eContentType !== id_ct_tstInfo) fail('timestamp token does not hold a TSTInfo');
    const single = signedData.encapContentInfo.eContent?.single ?? fail('timestamp token has no content');
    const infoDer = new Uint8Array(single.buffer);
    return { signedData, info: AsnConvert.parse(infoDer, TSTInfo), infoDer, signedAttrs: rawSignedAttributes(token.content) };
  });
}

function attributeValue(attrs: { attrType: string; attrValues: ArrayBuffer[] }[], oid: string): ArrayBuffer {
  const found = attrs.filter((a) => a.attrType === oid);
  if (found.length !== 1 || found[0]!.attrValues.length !== 1) fail(`signed attribute ${oid} must appear once with one value`);
  return found[0]!.attrValues[0]!;
}

function checkTsaChain(tsa: TrustedTsa, at: Date): boolean {
  const [leaf, ...issuers] = tsa.chain;
  if (leaf === undefined || !isValidAt(tsa.validFor, at)) return false;
  const valid = (c: X509Certificate) => Date.parse(c.validFrom) <= at.getTime() && at.getTime() <= Date.parse(c.validTo);
  if (!tsa.chain.every(valid) || !(leaf.keyUsage ?? []).includes(OID_EKU_TIME_STAMPING)) return false;
  // Each certificate is issued by the next, every issuer is a CA, and the last is self-signed.
  const chain = tsa.chain;
  return issuers.every((c) => c.ca) && chain.every((c, i) => {
    const issuer = chain[i + 1] ?? c;
    return c.checkIssued(issuer) && c.verify(issuer.publicKey);
  });
}

/**
 * verifyRfc3161Timestamp checks a bundle timestamp over `signed` (the bundle's signature bytes):
 * the imprint is the hash of those bytes, the signed attributes' messageDigest is the hash of the
 * TSTInfo, the signature verifies with the signing certificate of a trusted TSA whose issuer and
 * serial the token names, and that TSA's chain (timeStamping EKU) is valid at genTime. Returns
 * genTime. Throws invalid_timestamp.
 */
export function verifyRfc3161Timestamp(der: Uint8Array, signed: Uint8Array, tsas: readonly TrustedTsa[]): Date {
  const { signedData, info, infoDer, signedAttrs } = decode(der);
  const imprintHash = hashName(info.messageImprint.hashAlgorithm.algorithm, HASHES, 'imprint hash');
  if (!equalBytes(new Uint8Array(info.messageImprint.hashedMessage.buffer), createHash(imprintHash).update(signed).digest())) {
    fail('the timestamp is not over this bundle\'s signature');
  }
  if (signedData.signerInfos.length !== 1) fail('timestamp token must have exactly one signer');
  const si = signedData.signerInfos[0]!;
  const attrs = si.signedAttrs ?? fail('timestamp token has no signed attributes');
  const digestHash = hashName(si.digestAlgorithm.algorithm, HASHES, 'digest algorithm');
  const messageDigest = rethrowAs('invalid_timestamp', 'messageDigest attribute', () => AsnConvert.parse(attributeValue(attrs, OID_MESSAGE_DIGEST), OctetString));
  if (!equalBytes(new Uint8Array(messageDigest.buffer), createHash(digestHash).update(infoDer).digest())) fail('the signed attributes do not cover this TSTInfo');
  attributeValue(attrs, OID_CONTENT_TYPE);
  const sigHash = hashName(si.signatureAlgorithm.algorithm, ECDSA_HASHES, 'signature algorithm');
  const sid = si.sid.issuerAndSerialNumber ?? fail('timestamp signer is not named by issuer and serial number');
  const genTime = info.genTime;
  const toSign = Uint8Array.from(signedAttrs);
  toSign[0] = 0x31; // [0] IMPLICIT → SET OF
  const signature = new Uint8Array(si.signature.buffer);
  const ok = tsas.some((tsa) => {
    const leaf = tsa.chain[0]!;
    const cert = AsnConvert.parse(leaf.raw, Certificate);
    const sameSigner = equalBytes(new Uint8Array(cert.tbsCertificate.serialNumber), new Uint8Array(sid.serialNumber))
      && equalBytes(new Uint8Array(AsnConvert.serialize(cert.tbsCertificate.issuer)), new Uint8Array(AsnConvert.serialize(sid.issuer)));
    try {
      return sameSigner && checkTsaChain(tsa, genTime) && verify(sigHash, toSign, leaf.publicKey, signature);
    } catch {
      return false; // a malformed signature or certificate is simply not this TSA's
    }
  });
  if (!ok) fail('the timestamp is not signed by a trusted timestamp authority valid at its time');
  return genTime;
}
