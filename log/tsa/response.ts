// response.ts signs timestamp tokens: RFC 3161 §2.4.2 TimeStampResp whose token is a CMS SignedData
// (RFC 5652 §5) over a TSTInfo, signed by the TSA leaf's P-256 key through signed attributes
// (contentType, messageDigest, signingCertificateV2). Everything is encoded by @peculiar/asn1-*.
//
// genTime. A GeneralizedTime with a fraction must drop trailing zeros (X.690 §11.7.3), so 12:00:00.5
// is "…000.5Z" — and @sigstore/core 3.2.1 accepts only no fraction or exactly three digits (research
// notes 5.7: a flaky failure whenever the milliseconds end in 0). Vigil's genTime has whole seconds:
// valid DER and parsed by every verifier. The token says the time to the second (accuracy 1 s).
import { createHash, randomBytes, sign } from 'node:crypto';
import { Attribute, CertificateChoices, CertificateSet, CMSVersion, ContentInfo, DigestAlgorithmIdentifier, DigestAlgorithmIdentifiers, EncapsulatedContent,
  EncapsulatedContentInfo, id_signedData, IssuerAndSerialNumber, SignatureAlgorithmIdentifier, SignedData, SignerIdentifier,
  SignerInfo, SignerInfos } from '@peculiar/asn1-cms';
import { ObjectIdentifier } from 'asn1js';
import { AsnArray, AsnConvert, AsnType, AsnTypeTypes, OctetString } from '@peculiar/asn1-schema';
import { Accuracy, id_ct_tstInfo, MessageImprint, PKIStatus, PKIStatusInfo, TimeStampResp, TSTInfo } from '@peculiar/asn1-tsp';
import { AlgorithmIdentifier, Certificate, GeneralName, GeneralNames } from '@peculiar/asn1-x509';
import { EssCertIdV2, EssCertIdV2List, EssIssuerSerial, OID_SIGNING_CERTIFICATE_V2, SigningCertificateV2 } from './ess.ts';
import { HASH_OIDS, type TimestampRequest } from './request.ts';
import type { Tsa } from './tsa.ts';

const OID_CONTENT_TYPE = '1.2.840.113549.1.9.3';
const OID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';

/** TimestampToken is a signed response and what it says. */
export interface TimestampToken {
  /** der is the whole TimeStampResp (status + token), as Sigstore bundles carry it. */
  readonly der: Uint8Array;
  /** genTime is the time stamped, in whole seconds. */
  readonly genTime: Date;
  /** serialNumber is the token's serial, hex. */
  readonly serialNumber: string;
}

function buffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function tokenSerial(): Uint8Array {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01; // positive and minimal
  return new Uint8Array(b);
}

function attribute(type: string, value: ArrayBuffer): Attribute {
  return new Attribute({ attrType: type, attrValues: [value] });
}

/** compareBytes orders DER encodings as X.690 §11.6 orders the members of a SET OF. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** TsaConstants are the parts of every token that depend only on the TSA: decoded once per Tsa. */
interface TsaConstants {
  readonly leaf: Certificate;
  readonly contentType: Attribute;
  readonly signingCertificate: Attribute;
}

const constantsByTsa = new WeakMap<Tsa, TsaConstants>();

function constantsOf(tsa: Tsa): TsaConstants {
  const cached = constantsByTsa.get(tsa);
  if (cached !== undefined) return cached;
  const leaf = AsnConvert.parse(tsa.chain[0], Certificate);
  const essCertId = new EssCertIdV2({
    certHash: new OctetString(createHash('sha256').update(tsa.chain[0]).digest()),
    issuerSerial: new EssIssuerSerial({
      issuer: new GeneralNames([new GeneralName({ directoryName: leaf.tbsCertificate.issuer })]),
      serialNumber: leaf.tbsCertificate.serialNumber,
    }),
  });
  const constants = {
    leaf,
    contentType: attribute(OID_CONTENT_TYPE, new ObjectIdentifier({ value: id_ct_tstInfo }).toBER()),
    signingCertificate: attribute(OID_SIGNING_CERTIFICATE_V2, AsnConvert.serialize(new SigningCertificateV2({ certs: new EssCertIdV2List([essCertId]) }))),
  };
  constantsByTsa.set(tsa, constants);
  return constants;
}

function signedAttributes(c: TsaConstants, tstInfoDer: Uint8Array): Attribute[] {
  const attrs = [
    c.contentType,
    attribute(OID_MESSAGE_DIGEST, AsnConvert.serialize(new OctetString(createHash('sha256').update(tstInfoDer).digest()))),
    c.signingCertificate,
  ];
  // DER: a SET OF is sorted by the encodings of its members.
  return attrs
    .map((a) => ({ a, der: new Uint8Array(AsnConvert.serialize(a)) }))
    .sort((x, y) => compareBytes(x.der, y.der))
    .map((x) => x.a);
}

/** AttributeSet is SET OF Attribute: the bytes the signature covers (RFC 5652 §5.4). */
class AttributeSet extends AsnArray<Attribute> {
  constructor(items?: Attribute[]) {
    super(items);
    Object.setPrototypeOf(this, AttributeSet.prototype);
  }
}
AsnType({ type: AsnTypeTypes.Set, itemType: Attribute })(AttributeSet);

function tstInfo(tsa: Tsa, req: TimestampRequest, genTime: Date, serial: Uint8Array): Uint8Array {
  const info = new TSTInfo({
    version: 1,
    policy: tsa.policy,
    messageImprint: new MessageImprint({
      hashAlgorithm: new AlgorithmIdentifier({ algorithm: HASH_OIDS[req.hash] }),
      hashedMessage: new OctetString(req.hashedMessage),
    }),
    serialNumber: buffer(serial),
    genTime,
    accuracy: new Accuracy({ seconds: 1 }),
    ...(req.nonce === undefined ? {} : { nonce: buffer(req.nonce) }),
  });
  return new Uint8Array(AsnConvert.serialize(info));
}

function signerInfo(tsa: Tsa, c: TsaConstants, tstInfoDer: Uint8Array): SignerInfo {
  const leaf = c.leaf;
  const attrs = signedAttributes(c, tstInfoDer);
  const signature = sign('sha256', new Uint8Array(AsnConvert.serialize(new AttributeSet(attrs))), tsa.signingKey);
  return new SignerInfo({
    version: CMSVersion.v1,
    sid: new SignerIdentifier({
      issuerAndSerialNumber: new IssuerAndSerialNumber({ issuer: leaf.tbsCertificate.issuer, serialNumber: leaf.tbsCertificate.serialNumber }),
    }),
    digestAlgorithm: new DigestAlgorithmIdentifier({ algorithm: HASH_OIDS.sha256 }),
    signedAttrs: attrs,
    signatureAlgorithm: new SignatureAlgorithmIdentifier({ algorithm: OID_ECDSA_WITH_SHA256 }),
    signature: new OctetString(signature),
  });
}

/**
 * createTimestampResponse signs a token for a checked request at `now` (truncated to whole
 * seconds): the TSTInfo copies the imprint and the nonce, carries a fresh 128-bit serial and the
 * TSA's policy; the TSA certificate is included when the request asked for it (certReq).
 */
export function createTimestampResponse(tsa: Tsa, req: TimestampRequest, now: Date): TimestampToken {
  const genTime = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const serial = tokenSerial();
  const constants = constantsOf(tsa);
  const infoDer = tstInfo(tsa, req, genTime, serial);
  const signedData = new SignedData({
    // RFC 5652 §5.1: version 3 when the encapsulated content is not id-data.
    version: CMSVersion.v3,
    digestAlgorithms: new DigestAlgorithmIdentifiers([new DigestAlgorithmIdentifier({ algorithm: HASH_OIDS.sha256 })]),
    encapContentInfo: new EncapsulatedContentInfo({
      eContentType: id_ct_tstInfo,
      eContent: new EncapsulatedContent({ single: new OctetString(infoDer) }),
    }),
    ...(req.certReq ? { certificates: new CertificateSet([new CertificateChoices({ certificate: constants.leaf })]) } : {}),
    signerInfos: new SignerInfos([signerInfo(tsa, constants, infoDer)]),
  });
  const resp = new TimeStampResp({
    status: new PKIStatusInfo({ status: PKIStatus.granted }),
    timeStampToken: new ContentInfo({ contentType: id_signedData, content: AsnConvert.serialize(signedData) }),
  });
  return { der: new Uint8Array(AsnConvert.serialize(resp)), genTime, serialNumber: Buffer.from(serial).toString('hex') };
}
