// pki.ts builds throwaway certificate authorities for the log/kinds tests with @peculiar/x509
// (WebCrypto): a root, an intermediate shaped like Fulcio's (pathlen 0, EKU codeSigning) and
// leaves shaped like Fulcio's (critical SAN, KU digitalSignature, EKU codeSigning, issuer OIDs).
// Test use only.
import { ASN1Obj } from '@sigstore/core';
import { Utf8String } from 'asn1js';
import { generateKeyPairSync, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import { FULCIO_OID_ARC, OID_EKU_CODE_SIGNING, OID_FULCIO_ISSUER_V1, OID_FULCIO_ISSUER_V2 } from '../certificate.ts';
import { x509 } from '../peculiar-x509.ts';

type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const EC_P384 = { name: 'ECDSA', namedCurve: 'P-384' } as const;
const SIGN_P384 = { name: 'ECDSA', hash: 'SHA-384' } as const;

/** TestCa is a CA certificate and its WebCrypto key pair. */
export interface TestCa {
  readonly der: Uint8Array;
  readonly cert: x509.X509Certificate;
  readonly keys: CryptoKeyPair;
}

/** TestLeaf is a signing certificate and the node:crypto private key of its subject. */
export interface TestLeaf {
  readonly der: Uint8Array;
  readonly privateKey: KeyObject;
  readonly spki: Uint8Array;
}

function serial(): string {
  return `01${randomBytes(19).toString('hex')}`;
}

async function newP384(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC_P384, true, ['sign', 'verify'])) as CryptoKeyPair;
}

/** createRootCa makes a self-signed P-384 root valid over [notBefore, notAfter]. */
export async function createRootCa(name = 'CN=vigil-test-root,O=vigil.test', notBefore = new Date('2020-01-01T00:00:00Z'), notAfter = new Date('2040-01-01T00:00:00Z')): Promise<TestCa> {
  const keys = await newP384();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name,
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: SIGN_P384,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { der: new Uint8Array(cert.rawData), cert, keys };
}

/** IntermediateOptions tweaks createIntermediateCa for negative tests. */
export interface IntermediateOptions {
  readonly name?: string;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly eku?: readonly string[] | null;
  readonly ca?: boolean;
}

/** createIntermediateCa makes a Fulcio-shaped intermediate signed by parent. */
export async function createIntermediateCa(parent: TestCa, opts: IntermediateOptions = {}): Promise<TestCa> {
  const keys = await newP384();
  const eku = opts.eku === undefined ? [OID_EKU_CODE_SIGNING] : opts.eku;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: opts.name ?? 'CN=vigil-test-intermediate,O=vigil.test',
    issuer: parent.cert.subject,
    notBefore: opts.notBefore ?? new Date('2021-01-01T00:00:00Z'),
    notAfter: opts.notAfter ?? new Date('2039-01-01T00:00:00Z'),
    publicKey: keys.publicKey,
    signingKey: parent.keys.privateKey,
    signingAlgorithm: SIGN_P384,
    extensions: [
      new x509.BasicConstraintsExtension(opts.ca ?? true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      ...(eku === null ? [] : [new x509.ExtendedKeyUsageExtension([...eku])]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(parent.keys.publicKey),
    ],
  });
  return { der: new Uint8Array(cert.rawData), cert, keys };
}

/** LeafOptions tweaks issueLeaf; the defaults give a Fulcio-like leaf valid for 10 minutes. */
export interface LeafOptions {
  readonly keyType?: 'P-256' | 'P-384' | 'RSA-2048' | 'Ed25519';
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly email?: string;
  readonly uri?: string;
  readonly issuer?: string;
  readonly eku?: readonly string[] | null;
  readonly keyUsage?: x509.KeyUsageFlags;
  readonly ca?: boolean;
  readonly extraExtensions?: readonly x509.Extension[];
  /** omit leaves these default extensions out, for a test that brings its own in extraExtensions. */
  readonly omit?: readonly ('subjectAltName' | 'keyUsage')[];
}

/** LEAF_NOT_BEFORE is the default leaf validity start; leaves live 10 minutes from it. */
export const LEAF_NOT_BEFORE = new Date('2026-03-01T12:00:00Z');

function newLeafKey(keyType: NonNullable<LeafOptions['keyType']>): { privateKey: KeyObject; spki: Uint8Array } {
  const pair =
    keyType === 'RSA-2048'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : keyType === 'Ed25519'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('ec', { namedCurve: keyType });
  return { privateKey: pair.privateKey, spki: new Uint8Array(pair.publicKey.export({ format: 'der', type: 'spki' })) };
}

/** issueLeaf issues a code-signing leaf from issuer. */
export async function issueLeaf(issuer: TestCa, opts: LeafOptions = {}): Promise<TestLeaf> {
  const { privateKey, spki } = newLeafKey(opts.keyType ?? 'P-256');
  const notBefore = opts.notBefore ?? LEAF_NOT_BEFORE;
  const issuerUrl = opts.issuer ?? 'https://oauth.vigil.test';
  const names: x509.JsonGeneralName[] = opts.uri !== undefined ? [{ type: 'url', value: opts.uri }] : [{ type: 'email', value: opts.email ?? 'alice@vigil.test' }];
  const eku = opts.eku === undefined ? [OID_EKU_CODE_SIGNING] : opts.eku;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: '',
    issuer: issuer.cert.subject,
    notBefore,
    notAfter: opts.notAfter ?? new Date(notBefore.getTime() + 10 * 60_000),
    publicKey: spki,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: SIGN_P384,
    extensions: [
      ...(opts.omit?.includes('keyUsage') ? [] : [new x509.KeyUsagesExtension(opts.keyUsage ?? x509.KeyUsageFlags.digitalSignature, true)]),
      ...(eku === null ? [] : [new x509.ExtendedKeyUsageExtension([...eku])]),
      ...(opts.ca ? [new x509.BasicConstraintsExtension(true, undefined, true)] : []),
      ...(opts.omit?.includes('subjectAltName') ? [] : [new x509.SubjectAlternativeNameExtension(names, true)]),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
      new x509.Extension(OID_FULCIO_ISSUER_V1, false, new TextEncoder().encode(issuerUrl)),
      new x509.Extension(OID_FULCIO_ISSUER_V2, false, new Utf8String({ value: issuerUrl }).toBER()),
      ...(opts.extraExtensions ?? []),
    ],
  });
  return { der: new Uint8Array(cert.rawData), privateKey, spki };
}

/** fulcioExtension encodes a Fulcio extension 1.3.6.1.4.1.57264.1.<arc>: raw for .1–.6, else DER UTF8String. */
export function fulcioExtension(arc: number, value: string): x509.Extension {
  const raw = arc <= 6 ? new TextEncoder().encode(value) : new Uint8Array(new Utf8String({ value }).toBER());
  return new x509.Extension(`${FULCIO_OID_ARC}.${arc}`, false, raw);
}

/** githubClaims returns the CI extensions Fulcio puts in a GitHub Actions certificate. */
export function githubClaims(repo: string, workflowPath: string, ref: string): x509.Extension[] {
  const repoUri = `https://github.com/${repo}`;
  const config = `${repoUri}/${workflowPath}@${ref}`;
  return [
    fulcioExtension(9, config),
    fulcioExtension(11, 'github-hosted'),
    fulcioExtension(12, repoUri),
    fulcioExtension(13, 'a'.repeat(40)),
    fulcioExtension(14, ref),
    fulcioExtension(18, config),
    fulcioExtension(20, 'push'),
    fulcioExtension(21, `${repoUri}/actions/runs/1/attempts/1`),
  ];
}

/**
 * rawExtension is the DER of an Extension with the OID's content bytes as given (so tests can write
 * OIDs an encoder would refuse), the value bytes, and a critical BOOLEAN byte when given.
 */
export function rawExtension(oid: readonly number[], value: readonly number[], critical?: number): number[] {
  const flag = critical === undefined ? [] : [0x01, 0x01, critical];
  const body = [0x06, oid.length, ...oid, ...flag, 0x04, value.length, ...value];
  return [0x30, body.length, ...body];
}

/**
 * withExtension re-encodes a certificate with one more extension (raw DER) after its others. The
 * signature no longer verifies; readers that do not check it see the extension.
 */
export function withExtension(der: Uint8Array, extension: readonly number[]): Uint8Array {
  const cert = ASN1Obj.parseBuffer(Buffer.from(der));
  cert.subs[0]!.subs.at(-1)!.subs[0]!.subs.push(ASN1Obj.parseBuffer(Buffer.from(extension)));
  return Uint8Array.from(cert.toDER());
}
