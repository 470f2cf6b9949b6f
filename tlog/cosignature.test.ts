import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { b64, describeVectors, hex, readVectorJson } from '../test/vectors.ts';
import { errorCodeOf } from '../test/tlog-errors.ts';
import { formatCheckpoint } from './checkpoint.ts';
import { ml_dsa44 } from '@noble/post-quantum/ml-dsa.js';
import {
  COSIGNATURE_V1_SIGNATURE_BYTES,
  MAX_COSIGNATURE_TIMESTAMP,
  SUBTREE_V1_LABEL,
  SUBTREE_V1_SIGNATURE_BYTES,
  formatCosignatureMessage,
  formatSubtreeMessage,
  newCosignatureSigner,
  parseCosignerKey,
  parseTimestampedSignature,
  signCosignature,
  verifyCosignature,
  verifyCosignatureLine,
} from './cosignature.ts';
import { EMPTY_ROOT } from './merkle.ts';
import { formatSignatureLine, parseSignatureLine, signNote, verifyNote } from './note.ts';
import { NOTE_KEY_TYPE_COSIGNATURE_V1, NOTE_KEY_TYPE_MLDSA44 } from './note-key-id.ts';
import { formatVerifierKey, generateSignerKey, parseVerifierKey } from './note-key.ts';

const COSIGNATURES = 'cosignature/cosignatures.json';

describeVectors(`cosignature/v1: ${COSIGNATURES}`, () => {
  const v = readVectorJson(COSIGNATURES);
  const det = v.vectors[0];

  it('reproduces the deterministic vector byte-for-byte (seed 11 00…00, timestamp 1234)', () => {
    const signer = newCosignatureSigner(det.decoded.key_name, hex(det.cosigner_private_seed_hex));
    expect(formatVerifierKey({ name: signer.name, type: NOTE_KEY_TYPE_COSIGNATURE_V1, publicKey: signer.publicKey })).toBe(det.cosigner_vkey);
    expect(new TextDecoder().decode(formatCosignatureMessage(det.checkpoint_body, 1234n))).toBe(det.signed_message);
    expect(signCosignature(signer, det.checkpoint_body, 1234n)).toBe(det.signature_line);
  });

  for (const c of v.vectors) {
    describe(c.desc, () => {
      const vkey: string = c.cosigner_vkey ?? c.cosigner_vkey_as_published;
      const verifier = parseCosignerKey(vkey);

      it('verifies the line and returns its timestamp; the decoded fields match', () => {
        expect(verifier.keyId.toString(16).padStart(8, '0')).toBe(c.decoded.key_id_hex);
        expect(verifyCosignatureLine(verifier, c.checkpoint_body, c.signature_line)).toBe(BigInt(c.decoded.timestamp));
        const sig = parseSignatureLine(c.signature_line.slice(0, -1));
        expect(sig.signature.length + 4).toBe(c.decoded.raw_len);
        expect(parseTimestampedSignature(sig.signature)).toEqual({
          timestamp: BigInt(c.decoded.timestamp),
          signature: hex(c.decoded.ed25519_sig_hex),
        });
      });

      if (c.cosigner_vkey_type04) {
        it('the published 0x01 vkey and its 0x04 form make the same cosigner', () => {
          expect(parseCosignerKey(c.cosigner_vkey_type04).keyId).toBe(verifier.keyId);
          expect(parseVerifierKey(c.cosigner_vkey_as_published).keyId).not.toBe(verifier.keyId);
          expect(formatVerifierKey(verifier)).toBe(c.cosigner_vkey_type04);
        });
      }

      it('fails over any other checkpoint body (the origin line is signed)', () => {
        for (const other of v.vectors) {
          if (other.checkpoint_body === c.checkpoint_body) continue;
          expect(errorCodeOf(() => verifyCosignatureLine(verifier, other.checkpoint_body, c.signature_line))).toBe('invalid_signature');
        }
      });

      it('works inside verifyNote as a NoteVerifier', () => {
        const note = `${c.checkpoint_body}\n${c.signature_line}`;
        expect(verifyNote(note, [verifier]).verified[0]?.verifier).toBe(verifier);
      });
    });
  }

  describe('negative_lines of the deterministic vector', () => {
    const verifier = parseCosignerKey(det.cosigner_vkey);
    for (const n of det.negative_lines) {
      it(n.why ?? n.mutation, () => {
        if (n.line !== undefined) {
          const want = n.why.startsWith('signature blob of wrong size') ? 'malformed_cosignature' : 'unverified_note';
          expect(errorCodeOf(() => verifyCosignatureLine(verifier, det.checkpoint_body, n.line))).toBe(want);
          // In a whole note, a line of another key is ignored; a wrong-size line of this key rejects the note.
          const note = `${det.checkpoint_body}\n${n.line}${det.signature_line}`;
          if (want === 'unverified_note') expect(verifyNote(note, [verifier]).unverified).toHaveLength(1);
          else expect(errorCodeOf(() => verifyNote(note, [verifier]))).toBe('invalid_signature');
        } else {
          // timestamp 1234 -> 1235 with the same signature bytes
          const sig = parseSignatureLine(det.signature_line.slice(0, -1));
          const mutated = sig.signature.slice();
          new DataView(mutated.buffer).setBigUint64(0, 1235n);
          expect(errorCodeOf(() => verifyCosignature(verifier, det.checkpoint_body, { ...sig, signature: mutated }))).toBe('invalid_signature');
        }
      });
    }
  });

  describe('timestamp_extraction', () => {
    for (const c of v.timestamp_extraction.cases) {
      it(c.want_unix !== undefined ? `extracts ${c.want_unix}` : c.want, () => {
        const blob = b64(c.sig_b64);
        const get = () => parseTimestampedSignature(blob.subarray(4)).timestamp;
        if (c.want_unix !== undefined) expect(get()).toBe(BigInt(c.want_unix));
        else expect(errorCodeOf(get)).toBe('malformed_cosignature');
      });
    }
  });

  describe('vkey_parsing', () => {
    for (const c of v.vkey_parsing.valid) {
      it(`accepts ${c.vkey}`, () => {
        const k = parseCosignerKey(c.vkey);
        expect(k.type).toBe(NOTE_KEY_TYPE_COSIGNATURE_V1);
        expect(k.name).toBe(c.vkey.split('+')[0]);
      });
    }
    for (const c of v.vkey_parsing.invalid) {
      it(`rejects ${c.vkey} (${c.why})`, () => {
        const want = c.why.startsWith('unsupported') ? 'unsupported_key_type' : 'malformed_key';
        expect(errorCodeOf(() => parseCosignerKey(c.vkey))).toBe(want);
        expect(errorCodeOf(() => parseVerifierKey(c.vkey))).toBe(want);
      });
    }
  });

  it('builds the ML-DSA-44 subtree/v1 message in the layout the vectors give', () => {
    // The vectors state the layout (no fixed ML-DSA signatures exist upstream); the bytes are
    // assembled here by hand from it, independently of formatSubtreeMessage.
    expect(v.mldsa44_message_layout).toContain("'subtree/v1\\n\\0' (12 bytes) || u8 len || cosigner_name || u64be timestamp || u8 len || log_origin || u64be start || u64be end || hash[32]");
    const hash = new Uint8Array(32).fill(0xab);
    const u64 = (n: bigint) => Buffer.from(new BigUint64Array([n]).buffer).reverse();
    const want = Buffer.concat([Buffer.from('subtree/v1\n\0'), Buffer.from([7]), Buffer.from('w.test/'), u64(1234n), Buffer.from([6]), Buffer.from('l.test'), u64(0n), u64(42n), hash]);
    expect(Buffer.from(formatSubtreeMessage({ cosigner: 'w.test/', timestamp: 1234n, origin: 'l.test', start: 0n, end: 42n, hash })).equals(want)).toBe(true);
    expect(SUBTREE_V1_LABEL).toHaveLength(12);
  });
});

describe('ML-DSA-44 subtree/v1 cosignatures (type 0x06)', () => {
  const { publicKey, secretKey } = ml_dsa44.keygen(new Uint8Array(32).fill(3));
  const name = 'pq.witness.example';
  const vkey = formatVerifierKey({ name, type: NOTE_KEY_TYPE_MLDSA44, publicKey });
  const verifier = parseCosignerKey(vkey);
  const body = formatCheckpoint({ origin: 'example.com/log', size: 42n, root: new Uint8Array(32).fill(7) });
  /** cosign signs the subtree/v1 message of `text` (origin, size, root as given) at t, as an ML-DSA witness does. */
  const cosign = (fields: { origin: string; size: bigint; root: Uint8Array }, t: bigint, signer = name) => {
    const sig = ml_dsa44.sign(formatSubtreeMessage({ cosigner: signer, timestamp: t, origin: fields.origin, start: 0n, end: fields.size, hash: fields.root }), secretKey);
    const blob = new Uint8Array(SUBTREE_V1_SIGNATURE_BYTES);
    new DataView(blob.buffer).setBigUint64(0, t);
    blob.set(sig, 8);
    return formatSignatureLine({ name, keyId: verifier.keyId, signature: blob });
  };
  const fields = { origin: 'example.com/log', size: 42n, root: new Uint8Array(32).fill(7) };

  it('parses 0x06 vkeys as cosigners and as note verifiers, keyed by the 0x06 key ID', () => {
    expect(verifier).toMatchObject({ name, type: NOTE_KEY_TYPE_MLDSA44 });
    expect(parseVerifierKey(vkey).keyId).toBe(verifier.keyId);
  });

  it('verifies a witness line and returns its timestamp; any other tree, name or time fails', () => {
    expect(verifyCosignatureLine(verifier, body, cosign(fields, 1700000000n))).toBe(1700000000n);
    for (const [what, line] of [
      ['origin', cosign({ ...fields, origin: 'example.com/other' }, 1700000000n)],
      ['size', cosign({ ...fields, size: 41n }, 1700000000n)],
      ['root', cosign({ ...fields, root: new Uint8Array(32).fill(8) }, 1700000000n)],
      ['cosigner name', cosign(fields, 1700000000n, 'other.witness.example')],
    ] as const) {
      expect(errorCodeOf(() => verifyCosignatureLine(verifier, body, line)), what).toBe('invalid_signature');
    }
    // The timestamp is signed: change it in the line and the signature no longer holds.
    const blob = parseSignatureLine(cosign(fields, 1700000000n).trimEnd()).signature.slice();
    blob[7]! ^= 1;
    expect(errorCodeOf(() => verifyCosignature(verifier, body, { name, keyId: verifier.keyId, signature: blob }))).toBe('invalid_signature');
    expect(errorCodeOf(() => verifyCosignature(verifier, body, { name, keyId: verifier.keyId, signature: blob.subarray(0, 72) }))).toBe('malformed_cosignature');
  });

  it('does not cover extension lines (tlog-cosignature), and counts beside a log key in verifyNote', () => {
    const log = generateSignerKey('example.com/log');
    const withExtension = `${body}extension line\n`;
    expect(verifyCosignatureLine(verifier, withExtension, cosign(fields, 5n))).toBe(5n);
    const note = signNote(body, [log.signer]) + cosign(fields, 5n);
    expect(verifyNote(note, [parseVerifierKey(log.vkey), verifier]).verified.map((k) => k.verifier.name)).toEqual([log.signer.name, name]);
  });
});

describe('signing and verifying cosignatures', () => {
  const signer = newCosignatureSigner('witness.example/w1', new Uint8Array(32).fill(9));
  const verifier = parseCosignerKey(formatVerifierKey({ name: signer.name, type: 1, publicKey: signer.publicKey }));
  const body = formatCheckpoint({ origin: 'example.com/log', size: 3n, root: EMPTY_ROOT });

  it('signs at the timestamp bounds and refuses out-of-range timestamps or non-checkpoints', () => {
    for (const t of [0n, MAX_COSIGNATURE_TIMESTAMP]) {
      expect(verifyCosignatureLine(verifier, body, signCosignature(signer, body, t))).toBe(t);
    }
    expect(errorCodeOf(() => signCosignature(signer, body, -1n))).toBe('invalid_argument');
    expect(errorCodeOf(() => signCosignature(signer, body, MAX_COSIGNATURE_TIMESTAMP + 1n))).toBe('invalid_argument');
    expect(errorCodeOf(() => signCosignature(signer, 'not a checkpoint\n', 1n))).toBe('malformed_checkpoint');
  });

  it('refuses a timestamp of 2^63 or more even when the layout is right', () => {
    const sig = parseSignatureLine(signCosignature(signer, body, 5n).slice(0, -1));
    const big = sig.signature.slice();
    new DataView(big.buffer).setBigUint64(0, 2n ** 63n);
    expect(errorCodeOf(() => parseTimestampedSignature(big))).toBe('malformed_cosignature');
    expect(verifier.verify(new TextEncoder().encode(body), big)).toBe(false);
  });

  it('verifies what it signs, and flipping any bit of the line blob or the text fails', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_COSIGNATURE_TIMESTAMP }), fc.nat({ max: (4 + COSIGNATURE_V1_SIGNATURE_BYTES) * 8 - 1 }), fc.nat(), (t, bit, pos) => {
        const line = signCosignature(signer, body, t);
        expect(verifyCosignatureLine(verifier, body, line)).toBe(t);
        const sig = parseSignatureLine(line.slice(0, -1));
        const blob = new Uint8Array([0, 0, 0, 0, ...sig.signature]);
        new DataView(blob.buffer).setUint32(0, sig.keyId);
        blob[bit >> 3] = (blob[bit >> 3] as number) ^ (1 << (bit & 7));
        const flipped = formatSignatureLine({ name: sig.name, keyId: new DataView(blob.buffer).getUint32(0), signature: blob.subarray(4) });
        expect(['unverified_note', 'invalid_signature', 'malformed_cosignature']).toContain(errorCodeOf(() => verifyCosignatureLine(verifier, body, flipped)));
        const i = pos % body.length;
        const text = body.slice(0, i) + String.fromCharCode(body.charCodeAt(i) ^ 1) + body.slice(i + 1);
        expect(errorCodeOf(() => verifyCosignatureLine(verifier, text, line))).toBe('invalid_signature');
      }),
      { numRuns: 100 },
    );
  });
});
