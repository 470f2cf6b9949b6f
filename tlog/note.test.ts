import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeVectors, hex, readVectorJson } from '../test/vectors.ts';
import { errorCodeOf } from '../test/tlog-errors.ts';
import type { TlogError, TlogErrorCode } from './errors.ts';
import {
  MAX_NOTE_SIGNATURES,
  formatNote,
  formatSignatureLine,
  isValidKeyName,
  newVerifierList,
  parseNote,
  signNote,
  verifyNote,
  verifyNoteAsync,
  type NoteSignature,
} from './note.ts';
import { newEd25519Signer, type VerifierKey } from './note-ed25519.ts';
import { formatVerifierKey, parseSigner, parseVerifierKey } from './note-key.ts';

const SIGNED_NOTE = 'note/signed-note.json';

describeVectors(`signed notes: ${SIGNED_NOTE}`, () => {
  const v = readVectorJson(SIGNED_NOTE);
  const go = v.go_sumdb_note;
  const peter = parseVerifierKey(go.keys.PeterNeumann.vkey);
  const enoch = parseVerifierKey(go.keys.EnochRoot.vkey);

  it('verifies the C2SP example note (key ID 530d903a)', () => {
    const key = parseVerifierKey(v.c2sp_example.vkey);
    expect(key.keyId).toBe(0x530d903a);
    const note = verifyNote(v.c2sp_example.note, [key]);
    expect(note.text).toBe(v.c2sp_example.text);
    expect(note.verified.map((s) => s.verifier)).toEqual([key]);
  });

  it('computes the golang/mod key IDs', () => {
    expect(peter.keyId.toString(16)).toBe(go.keys.PeterNeumann.key_id_hex);
    expect(enoch.keyId.toString(16)).toBe(go.keys.EnochRoot.key_id_hex);
  });

  it('reproduces the PeterNeumann signature line byte-for-byte from the skey (deterministic Ed25519)', () => {
    const signer = parseSigner(go.keys.PeterNeumann.skey);
    expect(signer.keyId).toBe(peter.keyId);
    expect(signer.publicKey).toEqual(peter.publicKey);
    expect(signNote(go.text, [signer])).toBe(go.signed_by_peter);
    expect(signNote(go.text, [signer])).toBe(`${go.text}\n${go.signature_lines.PeterNeumann}`);
  });

  it('parses signed_by_both into two signatures over the text', () => {
    const parsed = parseNote(go.signed_by_both);
    expect(parsed.text).toBe(go.text);
    expect(parsed.signatures.map((s) => [s.name, s.keyId])).toEqual([
      ['PeterNeumann', 0xc74f20a3],
      ['EnochRoot', 0xaf0cfe78],
    ]);
    expect(formatNote(parsed.text, parsed.signatures)).toBe(go.signed_by_both);
  });

  describe('open_cases', () => {
    for (const c of go.open_cases) {
      it(c.desc, () => {
        const note: string = c.note ?? c.note_repeat.prefix + c.note_repeat.line.repeat(c.note_repeat.count);
        const verifiers = c.verifiers.map(parseVerifierKey);
        if (typeof c.want === 'string') {
          const want: TlogErrorCode = c.want.startsWith('malformed')
            ? 'malformed_note'
            : c.want.includes('no verifiable')
              ? 'unverified_note'
              : 'invalid_signature';
          expect(errorCodeOf(() => verifyNote(note, verifiers))).toBe(want);
          return;
        }
        const got = verifyNote(note, verifiers);
        expect(got.text).toBe(go.text);
        expect(got.verified.map((s) => s.verifier.name)).toEqual(c.want.verified);
        if (c.want.unverified) expect(got.unverified.map((s) => s.name)).toEqual(c.want.unverified);
        if (c.want.unverified_count !== undefined) expect(got.unverified).toHaveLength(c.want.unverified_count);
      });
    }
  });

  // verifyNoteAsync checks the same signatures on libuv's thread pool: the same answer and error
  // as verifyNote for every case, and the Ed25519 verifiers really take the asynchronous path.
  describe('open_cases through verifyNoteAsync', () => {
    for (const c of go.open_cases) {
      it(c.desc, async () => {
        const note: string = c.note ?? c.note_repeat.prefix + c.note_repeat.line.repeat(c.note_repeat.count);
        let asyncChecks = 0;
        const verifiers = c.verifiers.map(parseVerifierKey).map((v: VerifierKey) => ({
          ...v,
          verifyAsync: (msg: Uint8Array, sig: Uint8Array) => {
            asyncChecks++;
            return v.verifyAsync!(msg, sig);
          },
        }));
        const sync = (() => {
          try {
            return verifyNote(note, verifiers);
          } catch (err) {
            return (err as TlogError).code;
          }
        })();
        const got = await verifyNoteAsync(note, verifiers).catch((err: TlogError) => err.code);
        if (typeof sync === 'string') {
          expect(got).toBe(sync);
          return;
        }
        expect(typeof got).not.toBe('string');
        const v = got as typeof sync;
        expect([v.text, v.verified.map((s) => s.verifier.name), v.unverified]).toEqual([sync.text, sync.verified.map((s) => s.verifier.name), sync.unverified]);
        expect(asyncChecks).toBeGreaterThan(0);
      });
    }
  });

  describe('malformed_notes', () => {
    for (const c of go.malformed_notes) {
      it(`rejects: ${c.desc}`, () => {
        const note = c.note ?? hex(c.note_hex);
        expect(errorCodeOf(() => parseNote(note))).toBe('malformed_note');
        expect(errorCodeOf(() => verifyNote(note, [peter]))).toBe('malformed_note');
      });
    }
  });

  describe('verifier_list_cases', () => {
    const list = newVerifierList([peter, enoch, parseVerifierKey(go.keys.EnochRoot.vkey)]);
    for (const c of go.verifier_list_cases) {
      it(`${c.lookup.join('+')}: ${c.want}`, () => {
        const [name, id] = c.lookup as [string, string];
        const lookup = () => list.lookup(name, parseInt(id, 16));
        if (c.want === 'found') expect(lookup()).toBe(peter);
        else if (c.want.startsWith('ambiguous')) expect(errorCodeOf(lookup)).toBe('ambiguous_key');
        else expect(lookup()).toBeUndefined();
      });
    }

    it('verifyNote reports ambiguous_key when a line hits a pair configured twice', () => {
      const twice = [peter, enoch, parseVerifierKey(go.keys.EnochRoot.vkey)];
      expect(errorCodeOf(() => verifyNote(go.signed_by_both, twice))).toBe('ambiguous_key');
      // The ambiguity is only reported when a signature needs the ambiguous key, as in Go.
      expect(verifyNote(go.signed_by_peter, twice).verified).toHaveLength(1);
    });
  });

  it('ignores a signature that shares only the name or only the key ID of a known key', () => {
    const sig = parseNote(go.signed_by_peter).signatures[0] as NoteSignature;
    const renamed = formatNote(go.text, [{ ...sig, name: 'PeterNeuman' }, sig]);
    const reId = formatNote(go.text, [{ ...sig, keyId: (sig.keyId ^ 1) >>> 0 }, sig]);
    expect(verifyNote(renamed, [peter]).unverified.map((s) => s.name)).toEqual(['PeterNeuman']);
    expect(verifyNote(reId, [peter]).unverified.map((s) => s.keyId)).toEqual([(sig.keyId ^ 1) >>> 0]);
  });

  it('verifies every distinct line of a known key (stricter than Go, which checks only the first)', () => {
    const sig = parseNote(go.signed_by_peter).signatures[0] as NoteSignature;
    const bad = { ...sig, signature: sig.signature.map((b, i) => (i === 0 ? b ^ 1 : b)) };
    expect(errorCodeOf(() => verifyNote(formatNote(go.text, [sig, bad]), [peter]))).toBe('invalid_signature');
  });

  it('accepts the note as bytes, and refuses a BOM-less decode trick (a BOM stays part of the text)', () => {
    expect(verifyNote(new TextEncoder().encode(go.signed_by_peter), [peter]).text).toBe(go.text);
    const withBom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(go.signed_by_peter)]);
    expect(errorCodeOf(() => verifyNote(withBom, [peter]))).toBe('invalid_signature');
  });
});

describe('parseNote edge cases', () => {
  const line = '— a AAAAAAE=\n'; // key ID 0, one signature byte
  it.each([
    ['text\n\n' + line.replace('—', '-'), 'a hyphen instead of an em dash'],
    ['text\n\n' + line.replace('— ', '—'), 'no space after the em dash'],
    ['text\n\n— a+b AAAAAAE=\n', "a '+' in the key name"],
    ['text\n\n— a\u00a0b AAAAAAE=\n', 'a no-break space in the key name'],
    ['text\n\n— a\u3000b AAAAAAE=\n', 'an ideographic space in the key name'],
    ['text\n\n— a AAAAAA==\n', 'a 4-byte blob (no signature)'],
    ['text\n\n— a AAAAAAE\n', 'base64 without padding'],
    ['text\n\n— a AAAAAAE=\n\n', 'a trailing blank line'],
    ['text\n\n— a  AAAAAAE=\n', 'two spaces'],
    ['text\n\n— a\n', 'no signature'],
    ['text\r\n\n' + line, 'a carriage return'],
    ['text\t\n\n' + line, 'a tab'],
    ['te\ud800xt\n\n' + line, 'a lone surrogate'],
  ])('rejects %j (%s)', (note) => {
    expect(errorCodeOf(() => parseNote(note))).toBe('malformed_note');
  });

  it('rejects more than 100 signature lines, even identical ones', () => {
    expect(errorCodeOf(() => parseNote(`text\n\n${line.repeat(MAX_NOTE_SIGNATURES + 1)}`))).toBe('malformed_note');
  });

  it('accepts 100 distinct signature lines and collapses identical ones', () => {
    const sigs = Array.from({ length: MAX_NOTE_SIGNATURES }, (_, i) => ({ name: `k${i}`, keyId: i, signature: new Uint8Array([i]) }));
    expect(parseNote(formatNote('t\n', sigs)).signatures).toHaveLength(MAX_NOTE_SIGNATURES);
    expect(parseNote(`t\n\n${line}${line}`).signatures).toHaveLength(1);
  });

  it('splits at the last blank line: the text may contain blank lines and end with one', () => {
    expect(parseNote(`a\n\nb\n\n${line}`).text).toBe('a\n\nb\n');
    expect(parseNote(`a\n\n\n${line}`).text).toBe('a\n\n');
    expect(parseNote(`\n\n${line}`).text).toBe('\n');
  });

  it('keeps DEL and non-ASCII text (only C0 controls are forbidden)', () => {
    expect(parseNote(`\u007f ünï 😀\n\n${line}`).text).toBe('\u007f ünï 😀\n');
  });

  it('never throws anything but TlogError on arbitrary input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.uint8Array()), (s) => {
        expect(errorCodeOf(() => parseNote(s))).not.toBe('foreign error');
      }),
    );
  });
});

describe('formatting and signing', () => {
  it('refuses texts and signatures that could not be parsed back', () => {
    const sig = { name: 'a', keyId: 1, signature: new Uint8Array([1]) };
    expect(errorCodeOf(() => formatNote('no newline', [sig]))).toBe('invalid_argument');
    expect(errorCodeOf(() => formatNote('ctl\u0001\n', [sig]))).toBe('invalid_argument');
    expect(errorCodeOf(() => formatNote('t\n', []))).toBe('invalid_argument');
    expect(errorCodeOf(() => formatSignatureLine({ ...sig, name: 'a b' }))).toBe('invalid_argument');
    expect(errorCodeOf(() => formatSignatureLine({ ...sig, keyId: 2 ** 32 }))).toBe('invalid_argument');
    expect(errorCodeOf(() => signNote('t', [newEd25519Signer('a', new Uint8Array(32))]))).toBe('invalid_argument');
  });

  it('isValidKeyName follows Go (no spaces of any kind, no +, non-empty)', () => {
    for (const ok of ['a', 'example.com/log', 'ünï', '😀', 'a-b_c:d']) expect(isValidKeyName(ok)).toBe(true);
    for (const bad of ['', 'a b', 'a+b', 'a\u2028b', 'a\u0085b', 'a\u2009b', 'a\nb', '\ud800']) expect(isValidKeyName(bad)).toBe(false);
  });
});

const NAME_CHARS = [...'abcXYZ0189./-_:~', 'é', '日', '😀'];
const arbName = fc.array(fc.constantFrom(...NAME_CHARS), { minLength: 1, maxLength: 16 }).map((a) => a.join(''));
const arbLine = fc.array(fc.constantFrom(...NAME_CHARS, ' ', '+', '—', '\u007f'), { maxLength: 20 }).map((a) => a.join(''));
const arbText = fc.array(arbLine, { minLength: 1, maxLength: 6 }).map((lines) => `${lines.join('\n')}\n`);
const arbSig = fc.record({ name: arbName, keyId: fc.nat({ max: 0xffffffff }), signature: fc.uint8Array({ minLength: 1, maxLength: 80 }) });

describe('properties', () => {
  it('parseNote(formatNote(text, sigs)) round-trips', () => {
    fc.assert(
      fc.property(arbText, fc.uniqueArray(arbSig, { minLength: 1, maxLength: 5, selector: (s) => formatSignatureLine(s) }), (text, sigs) => {
        const parsed = parseNote(formatNote(text, sigs));
        expect(parsed.text).toBe(text);
        expect(parsed.signatures).toEqual(sigs);
      }),
    );
  });

  const signer = newEd25519Signer('example.com/log', new Uint8Array(32).fill(7));
  const verifier = parseVerifierKey(formatVerifierKey({ name: signer.name, type: 1, publicKey: signer.publicKey }));

  it('signNote output verifies, and flipping any bit of the note bytes makes verification fail', () => {
    fc.assert(
      fc.property(arbText, fc.nat(), fc.nat({ max: 7 }), (text, pos, bit) => {
        const bytes = new TextEncoder().encode(signNote(text, [signer]));
        expect(verifyNote(bytes, [verifier]).text).toBe(text);
        const flipped = bytes.slice();
        const i = pos % flipped.length;
        flipped[i] = (flipped[i] as number) ^ (1 << bit);
        expect(['malformed_note', 'invalid_signature', 'unverified_note']).toContain(errorCodeOf(() => verifyNote(flipped, [verifier])));
      }),
    );
  });

  it('flipping any bit of the decoded key ID or signature makes verification fail', () => {
    fc.assert(
      fc.property(arbText, fc.nat({ max: 67 * 8 - 1 }), (text, bitIndex) => {
        const sig = parseNote(signNote(text, [signer])).signatures[0] as NoteSignature;
        const blob = new Uint8Array([0, 0, 0, 0, ...sig.signature]);
        new DataView(blob.buffer).setUint32(0, sig.keyId);
        blob[bitIndex >> 3] = (blob[bitIndex >> 3] as number) ^ (1 << (bitIndex & 7));
        const mutated = { name: sig.name, keyId: new DataView(blob.buffer).getUint32(0), signature: blob.subarray(4) };
        const code = errorCodeOf(() => verifyNote(formatNote(text, [mutated]), [verifier]));
        expect(code).toBe(bitIndex < 32 ? 'unverified_note' : 'invalid_signature');
      }),
    );
  });
});
