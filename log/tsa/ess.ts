// ess.ts is the ASN.1 schema of the ESS signing-certificate attribute (RFC 5035 §3, updating RFC
// 2634 §5.4), which RFC 3161 §2.4.2 requires in a timestamp token's signed attributes: it binds
// the signature to the TSA certificate by hash, so that a certificate swapped into the token does
// not verify. Vigil only writes it; it is written with @peculiar/asn1-schema so that the DER comes
// from the same encoder as the rest of the token.
//
//   SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies ... OPTIONAL }
//   ESSCertIDv2 ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier DEFAULT {id-sha256},
//                              certHash OCTET STRING, issuerSerial IssuerSerial OPTIONAL }
//   IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }
//
// The decorators are applied as plain calls: the repository compiles without legacy decorators.
import { AsnArray, AsnIntegerArrayBufferConverter, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes, OctetString } from '@peculiar/asn1-schema';
import { GeneralNames } from '@peculiar/asn1-x509';

/** OID_SIGNING_CERTIFICATE_V2 is id-aa-signingCertificateV2 (RFC 5035). */
export const OID_SIGNING_CERTIFICATE_V2 = '1.2.840.113549.1.9.16.2.47';

/** EssIssuerSerial names the certificate by issuer and serial number. */
export class EssIssuerSerial {
  issuer = new GeneralNames();
  serialNumber = new ArrayBuffer(0);

  constructor(params: Partial<EssIssuerSerial> = {}) {
    Object.assign(this, params);
  }
}
AsnProp({ type: GeneralNames })(EssIssuerSerial.prototype, 'issuer');
AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })(EssIssuerSerial.prototype, 'serialNumber');

/** EssCertIdV2 is one certificate's hash (SHA-256, the DEFAULT, so hashAlgorithm is omitted). */
export class EssCertIdV2 {
  certHash = new OctetString();
  issuerSerial?: EssIssuerSerial;

  constructor(params: Partial<EssCertIdV2> = {}) {
    Object.assign(this, params);
  }
}
AsnProp({ type: OctetString })(EssCertIdV2.prototype, 'certHash');
AsnProp({ type: EssIssuerSerial, optional: true })(EssCertIdV2.prototype, 'issuerSerial');

/** EssCertIdV2List is SEQUENCE OF ESSCertIDv2. */
export class EssCertIdV2List extends AsnArray<EssCertIdV2> {
  constructor(items?: EssCertIdV2[]) {
    super(items);
    Object.setPrototypeOf(this, EssCertIdV2List.prototype);
  }
}
AsnType({ type: AsnTypeTypes.Sequence, itemType: EssCertIdV2 })(EssCertIdV2List);

/** SigningCertificateV2 is the attribute value (without policies). */
export class SigningCertificateV2 {
  certs = new EssCertIdV2List();

  constructor(params: Partial<SigningCertificateV2> = {}) {
    Object.assign(this, params);
  }
}
AsnProp({ type: EssCertIdV2List })(SigningCertificateV2.prototype, 'certs');
