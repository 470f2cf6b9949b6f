import { createHash, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { b64, describeVectors, readVectorJson } from '../test/vectors.ts';
import { errorCodeOf } from '../test/tlog-errors.ts';
import { MAX_UINT64 } from './merkle.ts';
import { formatCheckpoint, openCheckpoint, parseCheckpoint, parseTreeSize } from './checkpoint.ts';
import { parseCosignerKey, verifyCosignature } from './cosignature.ts';
import { EMPTY_ROOT } from './merkle.ts';
import { formatNote, parseNote, signNote, verifyNote, type NoteSignature, type NoteVerifier } from './note.ts';
import { newEd25519Signer } from './note-ed25519.ts';
import { newRfc6962Verifier, parseRfc6962NoteSignature } from './note-ecdsa.ts';
import { NOTE_KEY_TYPE_ECDSA, NOTE_KEY_TYPE_RFC6962, computeKeyId } from './note-key-id.ts';
import { formatVerifierKey, parseVerifierKey } from './note-key.ts';

const CHECKPOINT_PARSE = 'checkpoint/checkpoint-parse.json';
const REAL_CHECKPOINTS = 'checkpoint/real-checkpoints.json';
const REKOR_V2 = 'rekor/rekor-v2-inclusion.json';

describeVectors(`checkpoint bodies: ${CHECKPOINT_PARSE}`, () => {
  const v = readVectorJson(CHECKPOINT_PARSE);

  describe('marshal', () => {
    for (const c of v.marshal) {
      const root = b64(c.hash_b64);
      if (root.length === 32) {
        it(`formats ${JSON.stringify(c.origin)} byte-for-byte`, () => {
          expect(formatCheckpoint({ origin: c.origin, size: BigInt(c.size), root })).toBe(c.want);
          expect(parseCheckpoint(c.want)).toEqual({ origin: c.origin, size: BigInt(c.size), root, extensions: [] });
        });
      } else {
        it(`refuses a ${root.length}-byte root for ${JSON.stringify(c.origin)} (Go formats it; C2SP roots are SHA-256)`, () => {
          expect(errorCodeOf(() => formatCheckpoint({ origin: c.origin, size: BigInt(c.size), root }))).toBe('invalid_argument');
          expect(errorCodeOf(() => parseCheckpoint(c.want))).toBe('malformed_checkpoint');
        });
      }
    }
  });

  describe('unmarshal', () => {
    for (const c of v.unmarshal) {
      it(c.desc, () => {
        const got = () => parseCheckpoint(c.in);
        if (typeof c.want === 'string') {
          // Includes the sumdb ParseTree origin check, which is the caller's job here: an origin
          // that is well formed parses, and openCheckpoint's `origin` option refuses it.
          if (c.desc.includes("wrong origin")) {
            expect(got().origin).toBe('not-go.sum database tree');
            return;
          }
          expect(errorCodeOf(got)).toBe('malformed_checkpoint');
        } else if (c.want.c2sp_strict === 'reject') {
          expect(errorCodeOf(got)).toBe('malformed_checkpoint');
        } else {
          const hash = c.want.hash_b64 ?? c.in.split('\n')[2];
          if (b64(hash).length !== 32) {
            // The Go parsers take any hash length; C2SP roots are 32-byte SHA-256 hashes.
            expect(errorCodeOf(got)).toBe('malformed_checkpoint');
            return;
          }
          const cp = got();
          expect(cp.origin).toBe(c.want.origin);
          expect(cp.size).toBe(BigInt(c.want.size));
          expect(cp.extensions.map((l) => `${l}\n`).join('')).toBe(c.want.rest);
        }
      });
    }
  });

  describe('c2sp_strictness_extra_derived', () => {
    for (const c of v.c2sp_strictness_extra_derived) {
      it(c.desc, () => {
        if (c.want.startsWith('reject')) expect(errorCodeOf(() => parseCheckpoint(c.in))).toBe('malformed_checkpoint');
        else expect(parseCheckpoint(c.in)).toEqual({ origin: 'example.com/log', size: 0n, root: EMPTY_ROOT, extensions: [] });
      });
    }
  });
});

describe('checkpoint parsing and formatting', () => {
  const root = EMPTY_ROOT;
  const rootLine = Buffer.from(root).toString('base64');
  it.each([
    [`o\n18446744073709551615\n${rootLine}\n`, 'no error'],
    [`o\n18446744073709551616\n${rootLine}\n`, 'malformed_checkpoint'],
    [`o\n${'9'.repeat(1000)}\n${rootLine}\n`, 'malformed_checkpoint'],
    [`o\n+1\n${rootLine}\n`, 'malformed_checkpoint'],
    [`o\n1 \n${rootLine}\n`, 'malformed_checkpoint'],
    [`o\n00\n${rootLine}\n`, 'malformed_checkpoint'],
    [`o\n1\n${rootLine.slice(0, -1)}\n`, 'malformed_checkpoint'],
    [`o\n1\n${rootLine}\next\n`, 'no error'],
    [`o\n1\n${rootLine}\next\n\n`, 'malformed_checkpoint'],
    [`o\r\n1\n${rootLine}\n`, 'malformed_checkpoint'],
    [`go.sum database tree\n1\n${rootLine}\n`, 'no error'],
  ])('%j → %s', (text, want) => {
    expect(errorCodeOf(() => parseCheckpoint(text))).toBe(want);
  });

  it('returns extension lines for the caller to judge, and formatCheckpoint refuses to write them', () => {
    const cp = parseCheckpoint(`o\n1\n${rootLine}\nfirst\nsecond\n`);
    expect(cp.extensions).toEqual(['first', 'second']);
    expect(errorCodeOf(() => formatCheckpoint(cp))).toBe('invalid_argument');
  });

  it('formatCheckpoint refuses values it could not parse back', () => {
    expect(errorCodeOf(() => formatCheckpoint({ origin: '', size: 1n, root }))).toBe('invalid_argument');
    expect(errorCodeOf(() => formatCheckpoint({ origin: 'a\nb', size: 1n, root }))).toBe('invalid_argument');
    expect(errorCodeOf(() => formatCheckpoint({ origin: 'a', size: -1n, root }))).toBe('invalid_argument');
    expect(errorCodeOf(() => formatCheckpoint({ origin: 'a', size: MAX_UINT64 + 1n, root }))).toBe('invalid_argument');
    expect(errorCodeOf(() => parseTreeSize('01'))).toBe('malformed_checkpoint');
  });

  it('parseCheckpoint(formatCheckpoint(c)) round-trips', () => {
    const origin = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !/[\u0000-\u001f]|\p{Cs}/u.test(s));
    fc.assert(
      fc.property(origin, fc.bigInt({ min: 0n, max: MAX_UINT64 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (o, size, r) => {
        expect(parseCheckpoint(formatCheckpoint({ origin: o, size, root: r }))).toEqual({ origin: o, size, root: r, extensions: [] });
      }),
    );
  });

  it('never throws anything but TlogError on arbitrary input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' })), (s) => {
        expect(errorCodeOf(() => parseCheckpoint(s))).not.toBe('foreign error');
      }),
    );
  });

  it('openCheckpoint verifies before parsing and checks the expected origin', () => {
    const signer = newEd25519Signer('example.com/log', new Uint8Array(32).fill(1));
    const verifier = parseVerifierKey(formatVerifierKey({ name: signer.name, type: 1, publicKey: signer.publicKey }));
    const note = signNote(formatCheckpoint({ origin: 'example.com/log', size: 5n, root }), [signer]);
    expect(openCheckpoint(note, [verifier], { origin: 'example.com/log' }).checkpoint.size).toBe(5n);
    expect(errorCodeOf(() => openCheckpoint(note, [verifier], { origin: 'example.com/other' }))).toBe('malformed_checkpoint');
    expect(errorCodeOf(() => openCheckpoint(note.replace('\n5\n', '\n6\n'), [verifier]))).toBe('invalid_signature');
    expect(errorCodeOf(() => openCheckpoint(signNote('not a checkpoint\n', [signer]), [verifier]))).toBe('malformed_checkpoint');
  });
});

interface RealCheckpoint {
  log: string;
  origin_line: string;
  note: string;
  verifier_keys?: string[];
  cosigner_keys?: string[];
  cosigner_keys_as_configured?: string[];
  cosigner_keys_type04?: string[];
  log_public_key_spki_b64?: string;
  log_id_b64?: string;
  rfc6962_note_signature?: { key_id_hex: string; timestamp_ms: number };
  verified: string;
}

describeVectors(`real signed checkpoints: ${REAL_CHECKPOINTS}`, () => {
  const all = readVectorJson<{ checkpoints: RealCheckpoint[] }>(REAL_CHECKPOINTS).checkpoints;

  function logVerifiers(c: RealCheckpoint): NoteVerifier[] {
    const vs: NoteVerifier[] = (c.verifier_keys ?? []).map(parseVerifierKey);
    if (c.log_public_key_spki_b64) {
      // static-ct-api logs publish an SPKI; its vkey is name+id+base64(0x05 || SPKI).
      const spki = b64(c.log_public_key_spki_b64);
      vs.push(parseVerifierKey(formatVerifierKey({ name: c.origin_line, type: NOTE_KEY_TYPE_RFC6962, publicKey: spki })));
    }
    return vs;
  }

  for (const c of all) {
    describe(`${c.log}, size ${c.note.split('\n')[1]}`, () => {
      const cosigners = (c.cosigner_keys ?? c.cosigner_keys_as_configured ?? []).map(parseCosignerKey);

      it('verifies with its log key and parses', () => {
        const opened = openCheckpoint(c.note, logVerifiers(c), { origin: c.origin_line });
        expect(opened.checkpoint.extensions).toEqual([]);
        expect(opened.note.verified).toHaveLength(1);
        expect(opened.note.unverified).toHaveLength(cosigners.length);
      });

      it('verifies with the log key and every cosigner key together', () => {
        const opened = openCheckpoint(c.note, [...logVerifiers(c), ...cosigners]);
        expect(opened.note.verified).toHaveLength(1 + cosigners.length);
      });

      if (cosigners.length > 0) {
        it('each cosigner key verifies its line and yields the recorded timestamp', () => {
          const parsed = parseNote(c.note);
          const stamps = cosigners.map((v) => {
            const sig = parsed.signatures.find((s) => s.name === v.name && s.keyId === v.keyId) as NoteSignature;
            return Number(verifyCosignature(v, parsed.text, sig));
          });
          const recorded = (c.verified.match(/\b1[0-9]{9}\b/g) ?? []).map(Number);
          expect(stamps).toEqual(recorded);
        });
      }

      if (c.cosigner_keys_type04) {
        it('the 0x01 vkeys as configured match the type-0x04 vkeys', () => {
          expect(cosigners.map((v) => formatVerifierKey(v))).toEqual(c.cosigner_keys_type04);
        });
      }

      it('rejects the note when its text is altered', () => {
        const altered = c.note.replace(/\n([0-9]+)\n/, (_, n: string) => `\n${BigInt(n) + 1n}\n`);
        expect(errorCodeOf(() => openCheckpoint(altered, logVerifiers(c)))).toBe('invalid_signature');
        expect(errorCodeOf(() => verifyNote(altered, cosigners.length > 0 ? cosigners : logVerifiers(c)))).toBe('invalid_signature');
      });
    });
  }

  it('the Pixel log key is type 0x02 with key ID SHA-256(SPKI)[:4] = 72c878db', () => {
    const pixel = all.find((c) => c.origin_line.startsWith('developers.google.com/android')) as RealCheckpoint;
    const key = parseVerifierKey(pixel.verifier_keys?.[0] as string);
    expect(key.type).toBe(NOTE_KEY_TYPE_ECDSA);
    expect(key.keyId).toBe(0x72c878db);
    expect(key.keyId).not.toBe(computeKeyId(key.name, NOTE_KEY_TYPE_ECDSA, key.publicKey));
    expect(key.name).not.toBe(pixel.origin_line);
  });

  it('the static-ct-api note signature: key ID from the LogID, timestamp, and the TreeHeadSignature layout', () => {
    const ct = all.find((c) => c.log_public_key_spki_b64) as RealCheckpoint;
    const spki = b64(ct.log_public_key_spki_b64 as string);
    expect(createHash('sha256').update(spki).digest('base64')).toBe(ct.log_id_b64);
    const v = newRfc6962Verifier(ct.origin_line, spki);
    expect(v.keyId.toString(16)).toBe(ct.rfc6962_note_signature?.key_id_hex);
    const sig = parseNote(ct.note).signatures.find((s) => s.keyId === v.keyId) as NoteSignature;
    const parsed = parseRfc6962NoteSignature(sig.signature);
    expect(parsed.timestampMs).toBe(BigInt(ct.rfc6962_note_signature?.timestamp_ms as number));
    expect([parsed.hashAlgorithm, parsed.signatureAlgorithm]).toEqual([4, 3]);
    // A key named differently (origin ≠ key name) or a trailing byte makes it fail.
    const text = new TextEncoder().encode(parseNote(ct.note).text);
    expect(v.verify(text, sig.signature)).toBe(true);
    expect(newRfc6962Verifier('other.example.org', spki).verify(text, sig.signature)).toBe(false);
    expect(v.verify(text, new Uint8Array([...sig.signature, 0]))).toBe(false);
  });
});

describe('RFC 6962 note signatures from a fresh key', () => {
  it('verifies ECDSA and RSA TreeHeadSignatures and refuses extension lines', () => {
    for (const [type, opts, sigAlg] of [['ec', { namedCurve: 'P-256' }, 3], ['rsa', { modulusLength: 2048 }, 1]] as const) {
      const { publicKey, privateKey } = generateKeyPairSync(type as 'ec', opts as { namedCurve: string });
      const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
      const v = newRfc6962Verifier('ct.example/log', spki);
      const sign = (text: string, size: bigint, alg: number = sigAlg): NoteSignature => {
        const tbs = Buffer.alloc(50);
        tbs.writeUInt8(0, 0);
        tbs.writeUInt8(1, 1);
        tbs.writeBigUInt64BE(1700000000000n, 2);
        tbs.writeBigUInt64BE(size, 10);
        Buffer.from(EMPTY_ROOT).copy(tbs, 18);
        const der = cryptoSign('sha256', tbs, privateKey);
        const blob = Buffer.alloc(12 + der.length);
        blob.writeBigUInt64BE(1700000000000n, 0);
        blob.writeUInt8(4, 8);
        blob.writeUInt8(alg, 9);
        blob.writeUInt16BE(der.length, 10);
        der.copy(blob, 12);
        return { name: v.name, keyId: v.keyId, signature: new Uint8Array(blob) };
      };
      const text = formatCheckpoint({ origin: 'ct.example/log', size: 7n, root: EMPTY_ROOT });
      expect(openCheckpoint(formatNote(text, [sign(text, 7n)]), [v]).checkpoint.size).toBe(7n);
      expect(errorCodeOf(() => openCheckpoint(formatNote(text, [sign(text, 8n)]), [v]))).toBe('invalid_signature');
      expect(errorCodeOf(() => openCheckpoint(formatNote(text, [sign(text, 7n, 2)]), [v]))).toBe('invalid_signature');
      const withExt = `${text}ext\n`;
      expect(errorCodeOf(() => verifyNote(formatNote(withExt, [sign(withExt, 7n)]), [v]))).toBe('invalid_signature');
    }
  });
});

describeVectors(`Rekor v2 checkpoints: ${REKOR_V2}`, () => {
  const v = readVectorJson(REKOR_V2);
  const key = parseVerifierKey(v.log.vkey);

  it('the log key ID is cf119915 (the first 4 bytes of Rekor logId.keyId)', () => {
    expect(key.keyId).toBe(0xcf119915);
  });

  for (const c of v.vectors) {
    it(`checkpoint of size ${c.tree_size} verifies with log_vkey and carries the root`, () => {
      const opened = openCheckpoint(c.checkpoint_note, [parseVerifierKey(c.log_vkey)], { origin: v.log.origin });
      expect(opened.checkpoint.size).toBe(BigInt(c.tree_size));
      expect(opened.checkpoint.root).toEqual(b64(c.root_hash_b64));
    });
  }
});
