// C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint@v1.0.0): the note text of a signed tree head.
import { decodeBase64, encodeBase64 } from './base64.ts';
import { TlogError } from './errors.ts';
import { HASH_SIZE, MAX_UINT64, type Hash } from './merkle.ts';
import { verifyNote, verifyNoteAsync, type NoteVerifier, type ParsedNote, type VerifiedNote, type VerifierList } from './note.ts';


const DECIMAL_UINT = /^(?:0|[1-9][0-9]{0,19})$/; // no leading zeroes; 20 digits bound 2^64 - 1
const CONTROL_CHARS = /[\u0000-\u0009\u000b-\u001f]/;
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Checkpoint is a parsed checkpoint body. `extensions` holds the extension lines (without their
 * newlines); they are NOT RECOMMENDED by C2SP and Vigil rejects them where it matters (witness,
 * log): parseCheckpoint returns them so that each caller decides.
 */
export interface Checkpoint {
  readonly origin: string;
  readonly size: bigint;
  readonly root: Hash;
  readonly extensions: readonly string[];
}

/** OpenedCheckpoint is a checkpoint whose note signature verified, with the verified note. */
export interface OpenedCheckpoint<V extends NoteVerifier = NoteVerifier> {
  readonly checkpoint: Checkpoint;
  readonly note: VerifiedNote<V>;
}

/**
 * parseCheckpoint parses checkpoint note text strictly: at least three newline-terminated lines,
 * a non-empty origin, a decimal uint64 size without leading zeroes, a root that is strict base64 of
 * exactly 32 bytes, then non-empty extension lines. Errors are TlogError 'malformed_checkpoint'.
 * Stricter than the Go parsers, which accept any hash length and empty extension lines.
 */
export function parseCheckpoint(text: string): Checkpoint {
  // text is attacker-controlled (only trust the result after the note signature verified).
  if (!text.endsWith('\n') || CONTROL_CHARS.test(text) || LONE_SURROGATE.test(text)) {
    throw malformed('checkpoint must end in a newline and contain no control characters');
  }
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw malformed('checkpoint has fewer than three lines');
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin === '') throw malformed('checkpoint origin is empty');
  const size = parseTreeSize(sizeLine);
  let root: Uint8Array;
  try {
    root = decodeBase64(rootLine, 'checkpoint root hash');
  } catch (err) {
    throw malformed('checkpoint root hash is not valid base64', err);
  }
  if (root.length !== HASH_SIZE) throw malformed(`checkpoint root hash is ${root.length} bytes, not ${HASH_SIZE}`);
  if (extensions.some((l) => l === '')) throw malformed('checkpoint has an empty extension line');
  return { origin, size, root, extensions };
}

/**
 * formatCheckpoint renders `<origin>\n<size>\n<base64 root>\n`. Vigil never writes extension lines,
 * so a checkpoint carrying some is refused ('invalid_argument'), as are an origin that could not be
 * parsed back, a size outside uint64 and a root that is not 32 bytes.
 */
export function formatCheckpoint(c: {
  origin: string;
  size: bigint;
  root: Uint8Array;
  extensions?: readonly string[];
}): string {
  if (c.origin === '' || c.origin.includes('\n') || CONTROL_CHARS.test(c.origin) || LONE_SURROGATE.test(c.origin)) {
    throw new TlogError('invalid_argument', 'checkpoint origin must be a non-empty line without control characters');
  }
  if (typeof c.size !== 'bigint' || c.size < 0n || c.size > MAX_UINT64) {
    throw new TlogError('invalid_argument', 'checkpoint size must be a uint64 bigint');
  }
  if (c.root.length !== HASH_SIZE) throw new TlogError('invalid_argument', 'checkpoint root must be 32 bytes');
  if (c.extensions !== undefined && c.extensions.length > 0) {
    throw new TlogError('invalid_argument', 'checkpoint extension lines are not supported');
  }
  return `${c.origin}\n${c.size}\n${encodeBase64(c.root)}\n`;
}

/**
 * openCheckpoint verifies a signed checkpoint note with the log's verifier(s) (verifyNote rules:
 * unknown signatures ignored, a bad signature by a known key rejects) and then parses its text.
 * If `origin` is given, the checkpoint's origin must equal it. Key names need not equal the origin
 * (sum.golang.org signs "go.sum database tree"). Throws the errors of verifyNote and
 * 'malformed_checkpoint'. Extension lines are returned, not rejected.
 */
export function openCheckpoint<V extends NoteVerifier>(
  note: string | Uint8Array | ParsedNote,
  verifiers: readonly V[] | VerifierList<V>,
  options: { origin?: string } = {},
): OpenedCheckpoint<V> {
  // note is attacker-controlled.
  return checkpointOf(verifyNote(note, verifiers), options);
}

/** openCheckpointAsync is openCheckpoint with the signatures checked by verifyNoteAsync (off the event loop). */
export async function openCheckpointAsync<V extends NoteVerifier>(
  note: string | Uint8Array | ParsedNote,
  verifiers: readonly V[] | VerifierList<V>,
  options: { origin?: string } = {},
): Promise<OpenedCheckpoint<V>> {
  return checkpointOf(await verifyNoteAsync(note, verifiers), options);
}

function checkpointOf<V extends NoteVerifier>(verified: VerifiedNote<V>, options: { origin?: string }): OpenedCheckpoint<V> {
  const checkpoint = parseCheckpoint(verified.text);
  if (options.origin !== undefined && checkpoint.origin !== options.origin) {
    throw malformed(`checkpoint origin ${JSON.stringify(checkpoint.origin)} is not ${JSON.stringify(options.origin)}`);
  }
  return { checkpoint, note: verified };
}

/** parseTreeSize parses a decimal uint64 without leading zeroes ('0' allowed); 'malformed_checkpoint'. */
export function parseTreeSize(s: string): bigint {
  // s is attacker-controlled; the regex bounds the length before BigInt sees it.
  if (!DECIMAL_UINT.test(s)) throw malformed('checkpoint size is not a decimal number without leading zeroes');
  const n = BigInt(s);
  if (n > MAX_UINT64) throw malformed('checkpoint size exceeds 2^64 - 1');
  return n;
}

function malformed(message: string, cause?: unknown): TlogError {
  return new TlogError('malformed_checkpoint', message, cause === undefined ? undefined : { cause });
}
