// Signed v1 and v2 log requests made with keys generated on the spot, for the log's tests, the crash
// test and bench/log.ts (no test-runner imports, so the bench can use it). Test use only.
import { randomBytes } from 'node:crypto';
import { b64, digestOf, hashedRekordV001, hashedRekordV002, KEY_DETAILS, newTestKey, pemBase64, protoVerifier, signArtifact, signPae, type TestKey } from '../log/kinds/testdata/requests.ts';
import { encodeHex } from '../tlog/base64.ts';

export { newTestKey, type TestKey };

/** PAYLOAD_TYPE is the DSSE payload type of test envelopes. */
export const PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** randomPayload returns a distinct in-toto-ish payload, so that every entry is new. */
export function randomPayload(tag = 'test'): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', tag, nonce: randomBytes(16).toString('hex') }));
}

function envelope(key: TestKey, payload: Uint8Array) {
  const hash = key.type === 'P-384' ? 'sha384' : 'sha256';
  return { payload: b64(payload), payloadType: PAYLOAD_TYPE, signatures: [{ sig: b64(signPae(key, hash, PAYLOAD_TYPE, payload)), keyid: '' }] };
}

/** dsseV1Request is a v1 ProposedEntry of kind dsse 0.0.1 signed by a bare key. */
export function dsseV1Request(key: TestKey, payload: Uint8Array): Record<string, unknown> {
  return { apiVersion: '0.0.1', kind: 'dsse', spec: { proposedContent: { envelope: JSON.stringify(envelope(key, payload)), verifiers: [pemBase64('PUBLIC KEY', key.spki)] } } };
}

/** dsseV2Request is a v2 CreateEntryRequest {dsseRequestV002} signed by a bare key. */
export function dsseV2Request(key: TestKey, payload: Uint8Array, certificate?: Uint8Array): Record<string, unknown> {
  const details = key.type === 'Ed25519' ? 'PKIX_ED25519' : KEY_DETAILS[key.type];
  const verifier = certificate === undefined ? protoVerifier(details, 'publicKey', key.spki) : protoVerifier(details, 'x509Certificate', certificate);
  return { dsseRequestV002: { envelope: envelope(key, payload), verifiers: [verifier] } };
}

/** hashedRekordV1Request is a v1 hashedrekord 0.0.1 over SHA-256(message), by a key or certificate. */
export function hashedRekordV1Request(key: TestKey, message: Uint8Array, certificate?: Uint8Array): Record<string, unknown> {
  const content = certificate === undefined ? pemBase64('PUBLIC KEY', key.spki) : pemBase64('CERTIFICATE', certificate);
  return hashedRekordV001('sha256', encodeHex(digestOf('sha256', message)), signArtifact(key, 'sha256', message), content);
}

/** hashedRekordV2Request is a v2 hashedRekordRequestV002 over SHA-256(message) (P-256 keys). */
export function hashedRekordV2Request(key: TestKey, message: Uint8Array, certificate?: Uint8Array): Record<string, unknown> {
  const verifier = certificate === undefined ? protoVerifier(KEY_DETAILS[key.type], 'publicKey', key.spki) : protoVerifier(KEY_DETAILS[key.type], 'x509Certificate', certificate);
  return hashedRekordV002(digestOf('sha256', message), signArtifact(key, 'sha256', message), verifier);
}
