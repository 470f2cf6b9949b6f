// x509-issue.ts is what the log's two issuers (the CA in log/ca, the timestamp authority in
// log/tsa) share to make their own chains: ECDSA key pairs generated with WebCrypto, exported as
// PKCS#8 PEM for their 0600 key files, and random serial numbers.
import { randomBytes, webcrypto } from 'node:crypto';
import { x509 } from './peculiar-x509.ts';
import { formatPem } from './pem.ts';

/** P256 and P384 are the WebCrypto parameters of the issuers' ECDSA keys. */
export const P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const P384 = { name: 'ECDSA', namedCurve: 'P-384' } as const;
/** SIGN_P384 signs with a P-384 root key (ECDSA with SHA-384). */
export const SIGN_P384 = { name: 'ECDSA', hash: 'SHA-384' } as const;
/** X509_CRYPTO is node's WebCrypto typed as @peculiar/x509's generators want it. */
export const X509_CRYPTO = webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.create>[1];

/** randomSerial returns a random positive 160-bit serial as hex (Fulcio: 20 random bytes, top bit clear). */
export function randomSerial(): string {
  const b = randomBytes(20);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b.toString('hex');
}

/** generateEcKeyPair makes an extractable ECDSA key pair on `curve`. */
export async function generateEcKeyPair(curve: typeof P256 | typeof P384): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(curve, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

/** exportPkcs8Pem renders a private key as a "PRIVATE KEY" PEM block (a secret: never log it). */
export async function exportPkcs8Pem(key: webcrypto.CryptoKey): Promise<string> {
  return formatPem('PRIVATE KEY', new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', key)));
}
