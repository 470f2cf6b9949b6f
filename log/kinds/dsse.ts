// dsse.ts accepts dsse entries: a DSSE envelope whose every signature covers
// PAE(payloadType, payload) and is verified by one of the supplied verifiers. The payload itself
// is not logged, only its hash.
//
// 0.0.1 (v1 API, Rekor pkg/types/dsse/v0.0.1): spec.proposedContent {envelope: the envelope as a
// JSON string, verifiers: base64 PEM keys or certificates}. As in Rekor, signatures verify with
// SHA-256 for ECDSA (any curve) and RSA, pure Ed25519 for Ed25519 keys. Body: {envelopeHash
// (SHA-256 of the envelope string's bytes), payloadHash, signatures [{signature: the envelope's
// base64 string, verifier: canonical base64 PEM}] sorted by signature}. Unknown envelope fields are
// ignored, as the DSSE spec requires; the envelope hash covers them.
//
// 0.0.2 (v2 API, rekor-tiles DSSERequestV002, removed upstream in #744 but still sent by
// @sigstore/sign 4.1.1): {envelope (protobuf JSON), verifiers [Verifier]}. keyDetails picks the
// hash for ECDSA/RSA and must form an allowed pair with the key. Body: {payloadHash {SHA2_256},
// signatures [{content, verifier}]} under spec.dsseV002, in envelope order (rekor-tiles' order
// follows Go map iteration, which is the same for the usual single signature).
import { encodeBase64, encodeHex } from '../../tlog/base64.ts';
import { sha256 } from '../../tlog/sha256.ts';
import { errorMessage, LogError } from '../errors.ts';
import { checkAlgorithmPermitted, KEY_DETAILS_HASH, type HashAlgorithm } from './key-details.ts';
import { fieldPath, readArray, readBase64, readObject, readString } from './request-json.ts';
import type { EntryContext, VerifiedContent, VerifiedSignature } from './verified-entry.ts';
import { verifyMessageSignature } from './verifier.ts';
import { readPemVerifier, readProtoVerifier, type ResolvedVerifier } from './verifier-material.ts';

/**
 * MAX_DSSE_SIGNATURES bounds an envelope's signatures. Clients send one; the bound keeps the worst
 * case (signatures × verifiers verifications, each verifier's chain checked) a few milliseconds.
 */
export const MAX_DSSE_SIGNATURES = 4;
/** MAX_DSSE_VERIFIERS bounds the verifiers a dsse request may list (clients send one). */
export const MAX_DSSE_VERIFIERS = 4;

/** IN_TOTO_PAYLOAD_TYPE is the DSSE payloadType of in-toto statements. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/**
 * encodeDssePae returns the DSSE v1 pre-authentication encoding:
 * "DSSEv1" SP LEN(type) SP type SP LEN(payload) SP payload, LEN in ASCII decimal of UTF-8 bytes.
 */
export function encodeDssePae(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = new TextEncoder().encode(payloadType);
  const head = new TextEncoder().encode(`DSSEv1 ${type.length} `);
  const mid = new TextEncoder().encode(` ${payload.length} `);
  const out = new Uint8Array(head.length + type.length + mid.length + payload.length);
  out.set(head, 0);
  out.set(type, head.length);
  out.set(mid, head.length + type.length);
  out.set(payload, head.length + type.length + mid.length);
  return out;
}

interface EnvelopeSignature {
  readonly sig: Uint8Array;
  /** text is the signature exactly as the envelope spelled it (v1 bodies store that string). */
  readonly text: string;
}

interface Candidate<V> {
  readonly resolved: ResolvedVerifier;
  readonly hash: HashAlgorithm;
  readonly wire: V;
}

/** matchSignatures pairs each signature with the first verifier whose key verifies it over pae. */
function matchSignatures<V>(pae: Uint8Array, sigs: readonly EnvelopeSignature[], candidates: readonly Candidate<V>[], path: string): Candidate<V>[] {
  return sigs.map((s, i) => {
    const match = candidates.find((c) => verifyMessageSignature(c.resolved.key, c.hash, pae, s.sig));
    if (match === undefined) throw new LogError('invalid_signature', `${fieldPath(path, i)} is not verified by any of the verifiers`);
    return match;
  });
}

function readSignatures(value: unknown, path: string, strict: boolean): EnvelopeSignature[] {
  const list = readArray(value, path, 1, MAX_DSSE_SIGNATURES);
  const seen = new Set<string>();
  return list.map((item, i) => {
    const p = fieldPath(path, i);
    // v1 envelopes ignore unknown fields (DSSE spec); v2 is protobuf JSON and refuses them.
    const obj = readObject(item, p, strict ? ['sig', 'keyid'] : 'any', ['sig']);
    if (obj.keyid !== undefined) readString(obj.keyid, fieldPath(p, 'keyid'), { allowEmpty: true });
    const text = readString(obj.sig, fieldPath(p, 'sig'));
    const sig = readBase64(text, fieldPath(p, 'sig'));
    if (seen.has(text)) throw new LogError('malformed_entry', `${p} repeats an earlier signature`);
    seen.add(text);
    return { sig, text };
  });
}

interface Envelope {
  readonly payloadType: string;
  readonly payload: Uint8Array;
  readonly signatures: EnvelopeSignature[];
}

function readEnvelope(value: unknown, path: string, strict: boolean): Envelope {
  const names = ['payload', 'payloadType', 'signatures'];
  const obj = readObject(value, path, strict ? names : 'any', names);
  const payloadType = readString(obj.payloadType, fieldPath(path, 'payloadType'), { allowEmpty: true });
  const payload = readBase64(obj.payload, fieldPath(path, 'payload'), { allowEmpty: true });
  return { payloadType, payload, signatures: readSignatures(obj.signatures, fieldPath(path, 'signatures'), strict) };
}

/** parseDsseV001 checks a v1 dsse 0.0.1 spec (attacker-controlled) and verifies every envelope signature. */
export function parseDsseV001(spec: unknown, ctx: EntryContext): VerifiedContent {
  const s = readObject(spec, 'spec', ['proposedContent']);
  const pc = readObject(s.proposedContent, 'spec.proposedContent', ['envelope', 'verifiers']);
  const envelopeText = readString(pc.envelope, 'spec.proposedContent.envelope');
  let envelopeJson: unknown;
  try {
    envelopeJson = JSON.parse(envelopeText);
  } catch (err) {
    throw new LogError('malformed_entry', `spec.proposedContent.envelope is not JSON: ${errorMessage(err)}`, { cause: err });
  }
  const env = readEnvelope(envelopeJson, 'spec.proposedContent.envelope', false);
  const verifiers = readArray(pc.verifiers, 'spec.proposedContent.verifiers', 1, MAX_DSSE_VERIFIERS).map((v, i) =>
    readPemVerifier(v, fieldPath('spec.proposedContent.verifiers', i), ctx),
  );
  const candidates = verifiers.map((v) => ({ resolved: v.resolved, hash: 'sha256' as const, wire: v.canonical }));
  const pae = encodeDssePae(env.payloadType, env.payload);
  const matched = matchSignatures(pae, env.signatures, candidates, 'spec.proposedContent.envelope.signatures');
  const pairs = env.signatures.map((s, i) => ({ s, c: matched[i]! })).sort((a, b) => (a.s.text < b.s.text ? -1 : a.s.text > b.s.text ? 1 : 0));
  const payloadHash = encodeHex(sha256(env.payload));
  return {
    kind: 'dsse',
    apiVersion: '0.0.1',
    body: {
      apiVersion: '0.0.1',
      kind: 'dsse',
      spec: {
        envelopeHash: { algorithm: 'sha256', value: encodeHex(sha256(new TextEncoder().encode(envelopeText))) },
        payloadHash: { algorithm: 'sha256', value: payloadHash },
        signatures: pairs.map(({ s, c }) => ({ signature: s.text, verifier: c.wire })),
      },
    },
    artifactDigest: { algorithm: 'sha256', hex: payloadHash },
    signatures: pairs.map(({ s, c }): VerifiedSignature => ({ signature: s.sig, verifier: c.resolved.material })),
    dsse: { payloadType: env.payloadType, payload: env.payload },
  };
}

/** parseDsseRequestV002 checks a v2 DSSERequestV002 (attacker-controlled) and verifies every envelope signature. */
export function parseDsseRequestV002(request: unknown, ctx: EntryContext): VerifiedContent {
  const path = 'dsseRequestV002';
  const req = readObject(request, path, ['envelope', 'verifiers']);
  const env = readEnvelope(req.envelope, fieldPath(path, 'envelope'), true);
  const vPath = fieldPath(path, 'verifiers');
  const candidates = readArray(req.verifiers, vPath, 1, MAX_DSSE_VERIFIERS).map((v, i) => {
    const p = fieldPath(vPath, i);
    const verifier = readProtoVerifier(v, p, ctx);
    const hash = KEY_DETAILS_HASH[verifier.keyDetails];
    checkAlgorithmPermitted(verifier.resolved.key, hash, p);
    // Pure Ed25519 signs the PAE itself; the hash only matters for ECDSA and RSA.
    return { resolved: verifier.resolved, hash: hash ?? 'sha512', wire: verifier.body };
  });
  const pae = encodeDssePae(env.payloadType, env.payload);
  const matched = matchSignatures(pae, env.signatures, candidates, fieldPath(fieldPath(path, 'envelope'), 'signatures'));
  const payloadHash = sha256(env.payload);
  return {
    kind: 'dsse',
    apiVersion: '0.0.2',
    body: {
      apiVersion: '0.0.2',
      kind: 'dsse',
      spec: {
        dsseV002: {
          payloadHash: { algorithm: 'SHA2_256', digest: encodeBase64(payloadHash) },
          signatures: env.signatures.map((s, i) => ({ content: encodeBase64(s.sig), verifier: matched[i]!.wire })),
        },
      },
    },
    artifactDigest: { algorithm: 'sha256', hex: encodeHex(payloadHash) },
    signatures: env.signatures.map((s, i): VerifiedSignature => ({ signature: s.sig, verifier: matched[i]!.resolved.material })),
    dsse: { payloadType: env.payloadType, payload: env.payload },
  };
}
