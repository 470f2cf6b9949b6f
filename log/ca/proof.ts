// proof.ts checks the proof of possession of a certificate request (research notes 3.1): either a
// public key and a signature over the challenge claim (`email` for email issuers, `sub` otherwise),
// or a PKCS#10 CSR whose self-signature is the proof (every other CSR field is ignored, as Fulcio
// does). Keys are parsed by OpenSSL (node:crypto) and CSRs by @peculiar/x509; the key must be ECDSA
// P-256/384/521, RSA 2048–4096 or Ed25519 (Fulcio's profile).
import { createPublicKey, verify, webcrypto, type KeyObject } from 'node:crypto';
import { decodeBase64 } from '../../tlog/base64.ts';
import { errorMessage } from '../errors.ts';
import { parsePem } from '../kinds/pem.ts';
import { x509 } from '../kinds/peculiar-x509.ts';
import { CaError } from './errors.ts';

/** MAX_KEY_FIELD_CHARS bounds a public key, signature or CSR field (16 KiB). */
export const MAX_KEY_FIELD_CHARS = 16 * 1024;

const CURVE_HASH: Readonly<Record<string, string>> = { prime256v1: 'sha256', secp384r1: 'sha384', secp521r1: 'sha512' };

function field(v: unknown, name: string): string {
  if (typeof v !== 'string' || v === '') throw new CaError('malformed_request', `${name} must be a non-empty string`);
  if (v.length > MAX_KEY_FIELD_CHARS) throw new CaError('malformed_request', `${name} is over ${MAX_KEY_FIELD_CHARS} characters`);
  return v;
}

/** checkKey parses a DER SPKI and checks its type and size against the profile. */
function checkKey(spki: Uint8Array): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch (err) {
    throw new CaError('malformed_public_key', `the public key does not parse: ${errorMessage(err)}`, { cause: err });
  }
  const d = key.asymmetricKeyDetails ?? {};
  const ok =
    (key.asymmetricKeyType === 'ec' && d.namedCurve !== undefined && Object.hasOwn(CURVE_HASH, d.namedCurve)) ||
    (key.asymmetricKeyType === 'rsa' && d.modulusLength !== undefined && d.modulusLength >= 2048 && d.modulusLength <= 4096) ||
    key.asymmetricKeyType === 'ed25519';
  if (!ok) {
    const what = key.asymmetricKeyType === 'ec' ? `ec ${d.namedCurve}` : `${key.asymmetricKeyType} ${d.modulusLength ?? ''}`.trim();
    throw new CaError('unsupported_public_key', `a ${what} key is not accepted (ECDSA P-256/384/521, RSA 2048-4096, Ed25519)`);
  }
  return key;
}

/** readPublicKey reads the publicKey.content (attacker-controlled): PEM, or base64 of DER. */
function readPublicKey(content: string): Uint8Array {
  try {
    if (!content.includes('-----BEGIN')) return decodeBase64(content.trim());
    const blocks = parsePem(content, 'publicKey.content', 'malformed_public_key');
    if (blocks.length !== 1 || blocks[0]!.type !== 'PUBLIC KEY') throw new Error('expected one PUBLIC KEY block');
    return blocks[0]!.der;
  } catch (err) {
    throw new CaError('malformed_public_key', `publicKeyRequest.publicKey.content is not a PEM or base64 DER public key: ${errorMessage(err)}`, { cause: err });
  }
}

function isValidChallenge(key: KeyObject, challenge: string, signature: Uint8Array): boolean {
  const data = Buffer.from(challenge, 'utf8');
  try {
    if (key.asymmetricKeyType === 'ed25519') return verify(null, data, key, signature);
    // sigstore-js and cosign sign with SHA-256 whatever the curve; accept the curve's own hash too.
    const hashes = key.asymmetricKeyType === 'ec' ? [...new Set(['sha256', CURVE_HASH[key.asymmetricKeyDetails!.namedCurve!]!])] : ['sha256'];
    return hashes.some((h) => verify(h, data, { key, dsaEncoding: 'der' }, signature));
  } catch {
    return false;
  }
}

/**
 * verifyPublicKeyRequest checks Fulcio's publicKeyRequest {publicKey {algorithm, content},
 * proofOfPossession} against `challenge` and returns the key's DER SPKI. The algorithm field is
 * ignored (the key says what it is), as Fulcio does.
 */
export function verifyPublicKeyRequest(request: unknown, challenge: string): Uint8Array {
  if (request === null || typeof request !== 'object' || Array.isArray(request)) throw new CaError('malformed_request', 'publicKeyRequest must be an object');
  const r = request as { publicKey?: { content?: unknown }; proofOfPossession?: unknown };
  if (r.publicKey === null || typeof r.publicKey !== 'object') throw new CaError('malformed_request', 'publicKeyRequest.publicKey must be an object');
  const spki = readPublicKey(field(r.publicKey.content, 'publicKeyRequest.publicKey.content'));
  const key = checkKey(spki);
  let signature: Uint8Array;
  try {
    signature = decodeBase64(field(r.proofOfPossession, 'publicKeyRequest.proofOfPossession'));
  } catch (err) {
    if (err instanceof CaError) throw err;
    throw new CaError('malformed_request', 'publicKeyRequest.proofOfPossession is not base64', { cause: err });
  }
  if (!isValidChallenge(key, challenge, signature)) {
    throw new CaError('invalid_proof_of_possession', "the proof of possession is not the key's signature over the token's challenge claim");
  }
  return new Uint8Array(key.export({ format: 'der', type: 'spki' }));
}

/**
 * verifyCsr reads certificateSigningRequest (attacker-controlled): base64 of a PEM CSR, as Fulcio's
 * JSON carries it, or the PEM itself. Its self-signature is the proof of possession. Returns the
 * DER SPKI.
 */
export async function verifyCsr(value: unknown): Promise<Uint8Array> {
  let text = field(value, 'certificateSigningRequest');
  if (!text.includes('-----BEGIN')) {
    try {
      text = Buffer.from(decodeBase64(text.trim())).toString('utf8');
    } catch (err) {
      throw new CaError('malformed_csr', 'certificateSigningRequest is neither PEM nor base64 of PEM', { cause: err });
    }
  }
  let csr: x509.Pkcs10CertificateRequest;
  try {
    const blocks = parsePem(text, 'certificateSigningRequest', 'malformed_certificate');
    if (blocks.length !== 1 || blocks[0]!.type !== 'CERTIFICATE REQUEST') throw new Error('expected one CERTIFICATE REQUEST block');
    csr = new x509.Pkcs10CertificateRequest(blocks[0]!.der);
  } catch (err) {
    throw new CaError('malformed_csr', `certificateSigningRequest does not parse: ${errorMessage(err)}`, { cause: err });
  }
  const spki = new Uint8Array(csr.publicKey.rawData);
  checkKey(spki);
  let valid = false;
  try {
    valid = await csr.verify(webcrypto as unknown as Parameters<typeof csr.verify>[0]);
  } catch {
    valid = false;
  }
  if (!valid) throw new CaError('invalid_proof_of_possession', "the CSR's signature does not verify with its key");
  return spki;
}
