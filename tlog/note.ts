// C2SP signed-note (c2sp.org/signed-note@v1.0.0): parsing, formatting, signing and verifying notes.
// Key encodings (vkeys, key IDs, signature algorithms) live in note-key-id.ts and note-key.ts; this
// file only knows the NoteVerifier and NoteSigner contracts, so every key type plugs in the same way.
import { decodeBase64, encodeBase64 } from './base64.ts';
import { TlogError } from './errors.ts';

/**
 * MAX_NOTE_SIGNATURES caps the signature lines of a note (identical duplicates included). C2SP
 * requires accepting at least 16; golang.org/x/mod/sumdb/note rejects more than 100, and so do we.
 */
export const MAX_NOTE_SIGNATURES = 100;

/** NOTE_SIGNATURE_PREFIX starts every signature line: em dash U+2014 then a space (E2 80 94 20). */
export const NOTE_SIGNATURE_PREFIX = '\u2014 ';

/** MIN_SIGNATURE_BLOB_BYTES is the smallest decoded signature: a 4-byte key ID and ≥1 byte (Go). */
const MIN_SIGNATURE_BLOB_BYTES = 5;

const CONTROL_CHARS = /[\u0000-\u0009\u000b-\u001f]/;
// With the u flag a well-formed surrogate pair is one code point, so \p{Cs} only matches lone
// surrogates: exactly the JS strings that have no UTF-8 encoding.
const LONE_SURROGATE = /\p{Cs}/u;
// \p{White_Space} is the same set as Go's unicode.IsSpace (what sumdb/note's isValidName rejects).
const KEY_NAME_FORBIDDEN = /[\p{White_Space}+\u0000-\u001f]/u;

/**
 * NoteVerifier checks signatures of one key. Contract: `verify` gets the exact note text bytes and
 * the signature with its 4-byte key ID removed, returns true only for a valid signature, and never
 * throws (malformed signatures are simply invalid). `keyId` is the uint32 key ID as a number.
 */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  verify(msg: Uint8Array, sig: Uint8Array): boolean;
  /**
   * verifyAsync, where a verifier has it, gives verify's answer without blocking the event loop
   * (node:crypto on libuv's thread pool); verifyNoteAsync uses it. Never rejects.
   */
  verifyAsync?(msg: Uint8Array, sig: Uint8Array): Promise<boolean>;
}

/**
 * NoteSigner signs note texts with one key. `sign` returns the signature without the key ID; it
 * may throw only on programming errors (the key was validated when the signer was made).
 */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  sign(msg: Uint8Array): Uint8Array;
}

/** NoteSignature is one parsed signature line: key name, key ID and the signature bytes after the ID. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  readonly signature: Uint8Array;
}

/** ParsedNote is a note split into its text (with the final newline) and distinct signature lines. */
export interface ParsedNote {
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/** VerifiedSignature pairs a signature line with the configured verifier that accepted it. */
export interface VerifiedSignature<V extends NoteVerifier = NoteVerifier> {
  readonly signature: NoteSignature;
  readonly verifier: V;
}

/**
 * VerifiedNote is the result of verifyNote: the text (trusted only now), one entry per distinct
 * known key that verified (a key is listed once even if it signed twice), and the signatures from
 * unknown keys, which were ignored and not checked.
 */
export interface VerifiedNote<V extends NoteVerifier = NoteVerifier> {
  readonly text: string;
  readonly verified: readonly VerifiedSignature<V>[];
  readonly unverified: readonly NoteSignature[];
}

/**
 * VerifierList finds the configured verifier for a (name, key ID) pair. `lookup` returns undefined
 * for an unknown pair and throws TlogError 'ambiguous_key' when the pair was configured twice.
 */
export interface VerifierList<V extends NoteVerifier = NoteVerifier> {
  lookup(name: string, keyId: number): V | undefined;
}

/**
 * isValidKeyName reports whether name is a valid note key name: non-empty, well-formed Unicode, no
 * Unicode white space, no '+', no control characters (signed-note "Format").
 */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !KEY_NAME_FORBIDDEN.test(name) && !LONE_SURROGATE.test(name);
}

/** formatKeyId renders a uint32 key ID as 8 lowercase hex digits, as in vkeys and Go's errors. */
export function formatKeyId(keyId: number): string {
  return keyId.toString(16).padStart(8, '0');
}

/** isValidNoteText reports whether text can be the text of a note: ends in '\n', no control characters. */
export function isValidNoteText(text: string): boolean {
  return text.endsWith('\n') && !CONTROL_CHARS.test(text) && !LONE_SURROGATE.test(text);
}

/** newVerifierList indexes verifiers by (name, key ID); ambiguity is reported lazily, as in Go. */
export function newVerifierList<V extends NoteVerifier>(verifiers: readonly V[]): VerifierList<V> {
  const byKey = new Map<string, V[]>();
  for (const v of verifiers) {
    const k = `${v.name}\n${v.keyId}`; // names never contain '\n'
    const list = byKey.get(k);
    if (list) list.push(v);
    else byKey.set(k, [v]);
  }
  return {
    lookup(name: string, keyId: number): V | undefined {
      const list = byKey.get(`${name}\n${keyId}`);
      if (!list) return undefined;
      if (list.length > 1) {
        throw new TlogError('ambiguous_key', `ambiguous key ${name}+${formatKeyId(keyId)}`);
      }
      return list[0];
    },
  };
}

/**
 * parseNote splits a signed note into text and signatures without verifying anything. It rejects
 * invalid UTF-8, control characters other than '\n', a missing blank line, an empty or unterminated
 * signature block, malformed lines and more than MAX_NOTE_SIGNATURES lines; identical lines are
 * collapsed. Errors are TlogError 'malformed_note'.
 */
export function parseNote(note: string | Uint8Array): ParsedNote {
  // note is attacker-controlled.
  const s = typeof note === 'string' ? note : decodeUtf8(note);
  if (CONTROL_CHARS.test(s) || LONE_SURROGATE.test(s)) {
    throw new TlogError('malformed_note', 'note contains control characters or invalid UTF-8');
  }
  const split = s.lastIndexOf('\n\n');
  if (split < 0) throw new TlogError('malformed_note', 'note has no blank line before its signatures');
  return { text: s.slice(0, split + 1), signatures: parseSignatureLines(s.slice(split + 2)) };
}

/**
 * parseSignatureLines parses a block of signature lines, each ending in '\n' (the tail of a note,
 * or a witness's add-checkpoint response). Identical lines are collapsed; errors are 'malformed_note'.
 */
export function parseSignatureLines(block: string): NoteSignature[] {
  // block is attacker-controlled.
  if (block === '' || !block.endsWith('\n')) {
    throw new TlogError('malformed_note', 'note signature block is empty or lacks a final newline');
  }
  const seen = new Set<string>();
  const signatures: NoteSignature[] = [];
  let count = 0;
  for (let start = 0; start < block.length; ) {
    const end = block.indexOf('\n', start); // ≥ start: the block ends in '\n'
    const line = block.slice(start, end);
    start = end + 1;
    if (++count > MAX_NOTE_SIGNATURES) {
      throw new TlogError('malformed_note', `note has more than ${MAX_NOTE_SIGNATURES} signatures`);
    }
    if (seen.has(line)) continue;
    seen.add(line);
    signatures.push(parseSignatureLine(line));
  }
  return signatures;
}

/** parseSignatureLine parses one signature line without its final newline; errors are 'malformed_note'. */
export function parseSignatureLine(line: string): NoteSignature {
  // line is attacker-controlled.
  if (!line.startsWith(NOTE_SIGNATURE_PREFIX)) {
    throw new TlogError('malformed_note', 'note line does not start with "— "');
  }
  const rest = line.slice(NOTE_SIGNATURE_PREFIX.length);
  const space = rest.indexOf(' ');
  const name = space < 0 ? rest : rest.slice(0, space);
  if (space < 0 || !isValidKeyName(name)) {
    throw new TlogError('malformed_note', 'note signature line has an invalid key name');
  }
  let blob: Uint8Array;
  try {
    blob = decodeBase64(rest.slice(space + 1), 'note signature');
  } catch (err) {
    throw new TlogError('malformed_note', 'note signature is not valid base64', { cause: err });
  }
  if (blob.length < MIN_SIGNATURE_BLOB_BYTES) {
    throw new TlogError('malformed_note', 'note signature is shorter than 5 bytes');
  }
  const keyId = new DataView(blob.buffer, blob.byteOffset, 4).getUint32(0);
  return { name, keyId, signature: blob.subarray(4) };
}

/** formatSignatureLine renders `— <name> base64(keyID || signature)\n`. */
export function formatSignatureLine(sig: NoteSignature): string {
  if (!isValidKeyName(sig.name)) throw new TlogError('invalid_argument', `invalid key name ${JSON.stringify(sig.name)}`);
  if (!Number.isInteger(sig.keyId) || sig.keyId < 0 || sig.keyId > 0xffffffff) {
    throw new TlogError('invalid_argument', 'key ID must be a uint32');
  }
  const blob = new Uint8Array(4 + sig.signature.length);
  new DataView(blob.buffer).setUint32(0, sig.keyId);
  blob.set(sig.signature, 4);
  return `${NOTE_SIGNATURE_PREFIX}${sig.name} ${encodeBase64(blob)}\n`;
}

/** formatNote renders text, a blank line and the signature lines (at least one) in the given order. */
export function formatNote(text: string, signatures: readonly NoteSignature[]): string {
  if (!isValidNoteText(text)) {
    throw new TlogError('invalid_argument', 'note text must end in a newline and contain no control characters');
  }
  if (signatures.length === 0) throw new TlogError('invalid_argument', 'a note needs at least one signature');
  return `${text}\n${signatures.map(formatSignatureLine).join('')}`;
}

/** signNote signs text with every signer, in order, and returns the signed note. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  if (!isValidNoteText(text)) {
    throw new TlogError('invalid_argument', 'note text must end in a newline and contain no control characters');
  }
  const msg = encodeUtf8(text);
  return formatNote(text, signers.map((s) => ({ name: s.name, keyId: s.keyId, signature: s.sign(msg) })));
}

/**
 * verifyNote parses (unless given a ParsedNote) and verifies a note against the configured keys,
 * over the exact text bytes. Signatures from unknown (name, key ID) pairs are ignored. Throws
 * TlogError 'malformed_note'; 'invalid_signature' when any line of a known key fails (the whole
 * note is rejected, c2sp signed-note); 'ambiguous_key' when a line matches a pair configured twice;
 * 'unverified_note' when no known key signed. Unlike Go, every distinct line of a known key is
 * verified, not only the first.
 */
export function verifyNote<V extends NoteVerifier>(
  note: string | Uint8Array | ParsedNote,
  verifiers: readonly V[] | VerifierList<V>,
): VerifiedNote<V> {
  const m = matchSignatures(note, verifiers);
  return verifiedNote(m, m.checks.map((c) => c.verifier.verify(m.msg, c.signature.signature)));
}

/**
 * verifyNoteAsync is verifyNote with the signature checks run through each verifier's verifyAsync
 * where it has one (off the event loop, in parallel), else verify: the same answers and errors.
 * A server verifying many notes at once keeps its event loop free for the rest of each request.
 */
export async function verifyNoteAsync<V extends NoteVerifier>(
  note: string | Uint8Array | ParsedNote,
  verifiers: readonly V[] | VerifierList<V>,
): Promise<VerifiedNote<V>> {
  const m = matchSignatures(note, verifiers);
  const ok = await Promise.all(m.checks.map((c) => (c.verifier.verifyAsync ? c.verifier.verifyAsync(m.msg, c.signature.signature) : c.verifier.verify(m.msg, c.signature.signature))));
  return verifiedNote(m, ok);
}

interface MatchedSignatures<V extends NoteVerifier> {
  readonly text: string;
  readonly msg: Uint8Array;
  /** checks are the signature lines of known keys, in note order, each to verify. */
  readonly checks: readonly VerifiedSignature<V>[];
  readonly unverified: readonly NoteSignature[];
}

// matchSignatures parses the note and pairs each signature line with its configured key.
function matchSignatures<V extends NoteVerifier>(note: string | Uint8Array | ParsedNote, verifiers: readonly V[] | VerifierList<V>): MatchedSignatures<V> {
  // note is attacker-controlled; verifiers are configuration.
  const parsed = typeof note === 'string' || note instanceof Uint8Array ? parseNote(note) : note;
  const list = isVerifierList(verifiers) ? verifiers : newVerifierList(verifiers);
  // The text came from a strict UTF-8 decode (or a well-formed string), so its UTF-8 encoding is
  // byte-for-byte the signed text of the original note.
  const msg = encodeUtf8(parsed.text);
  const checks: VerifiedSignature<V>[] = [];
  const unverified: NoteSignature[] = [];
  for (const sig of parsed.signatures) {
    const v = list.lookup(sig.name, sig.keyId);
    if (v === undefined) unverified.push(sig);
    else checks.push({ signature: sig, verifier: v });
  }
  return { text: parsed.text, msg, checks, unverified };
}

// verifiedNote judges the checks by their results (ok[i] for checks[i]): any failure rejects the
// whole note; each known key is listed once; no known key at all is 'unverified_note'.
function verifiedNote<V extends NoteVerifier>(m: MatchedSignatures<V>, ok: readonly boolean[]): VerifiedNote<V> {
  const verified: VerifiedSignature<V>[] = [];
  for (const [i, c] of m.checks.entries()) {
    if (!ok[i]) throw new TlogError('invalid_signature', `invalid signature for key ${c.signature.name}+${formatKeyId(c.signature.keyId)}`);
    if (!verified.some((x) => x.verifier === c.verifier)) verified.push(c);
  }
  if (verified.length === 0) throw new TlogError('unverified_note', 'note has no verifiable signatures');
  return { text: m.text, verified, unverified: m.unverified };
}

function isVerifierList<V extends NoteVerifier>(v: readonly V[] | VerifierList<V>): v is VerifierList<V> {
  return !Array.isArray(v);
}

const UTF8_DECODER = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const UTF8_ENCODER = new TextEncoder();

/** decodeUtf8 decodes strict UTF-8 (keeping a BOM), throwing TlogError 'malformed_note' if invalid. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return UTF8_DECODER.decode(bytes);
  } catch (err) {
    throw new TlogError('malformed_note', 'note is not valid UTF-8', { cause: err });
  }
}

/** encodeUtf8 encodes a well-formed string as UTF-8. */
export function encodeUtf8(s: string): Uint8Array {
  return UTF8_ENCODER.encode(s);
}
