// pem.ts reads and writes the PEM text that Rekor v1 entries carry (base64 of PEM in
// hashedrekord's publicKey.content and dsse's verifiers). Reading is strict, unlike Go's
// pem.Decode, which skips text before a block and accepts headers: a body here is only PEM blocks,
// with no headers, and each block's base64 must be strict standard padded base64. Writing follows
// Go's pem.EncodeToMemory byte for byte (64-character lines, "\n" endings), because Rekor
// canonicalises keys and certificates to that text before hashing the body.
import { decodeBase64, encodeBase64 } from '../../tlog/base64.ts';
import { LogError, type LogErrorCode } from '../errors.ts';

/** PemBlock is one decoded PEM block: its label ("CERTIFICATE", "PUBLIC KEY") and DER bytes. */
export interface PemBlock {
  readonly type: string;
  readonly der: Uint8Array;
}

/**
 * MAX_PEM_BLOCKS bounds how many blocks one PEM text may hold: a leaf and up to two intermediates.
 * Each certificate costs milliseconds to parse, so the bound also bounds a request's work.
 */
export const MAX_PEM_BLOCKS = 3;

const BEGIN = /^-----BEGIN ([A-Z0-9 ]+)-----$/;
const BASE64_LINE = /^[A-Za-z0-9+/=]+$/;

/**
 * parsePem decodes PEM text (attacker-controlled) into its blocks, in order. `path` names the field
 * for messages; failures throw LogError with `code` (malformed_public_key or malformed_certificate).
 * Lines may end in "\n" or "\r\n"; blank lines may surround blocks.
 */
export function parsePem(text: string, path: string, code: LogErrorCode): PemBlock[] {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const blocks: PemBlock[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '') {
      i++;
      continue;
    }
    const begin = BEGIN.exec(line);
    if (begin === null) throw new LogError(code, `${path} is not PEM: unexpected text on line ${i + 1}`);
    const type = begin[1]!;
    const end = `-----END ${type}-----`;
    let body = '';
    i++;
    while (i < lines.length && lines[i] !== end) {
      if (!BASE64_LINE.test(lines[i]!)) {
        throw new LogError(code, `${path} has a PEM header or a bad base64 line in its ${type} block (line ${i + 1})`);
      }
      body += lines[i];
      i++;
    }
    if (i === lines.length) throw new LogError(code, `${path} has a ${type} block with no END line`);
    i++;
    if (blocks.length === MAX_PEM_BLOCKS) throw new LogError(code, `${path} has more than ${MAX_PEM_BLOCKS} PEM blocks`);
    let der: Uint8Array;
    try {
      der = decodeBase64(body, path);
    } catch (err) {
      throw new LogError(code, `${path} has a ${type} block whose base64 is not strict padded base64`, { cause: err });
    }
    if (der.length === 0) throw new LogError(code, `${path} has an empty ${type} block`);
    blocks.push({ type, der });
  }
  if (blocks.length === 0) throw new LogError(code, `${path} holds no PEM block`);
  return blocks;
}

/** formatPem encodes one block exactly as Go's pem.EncodeToMemory does (no headers). */
export function formatPem(type: string, der: Uint8Array): string {
  const b64 = encodeBase64(der);
  let out = `-----BEGIN ${type}-----\n`;
  for (let off = 0; off < b64.length; off += 64) out += `${b64.slice(off, off + 64)}\n`;
  return `${out}-----END ${type}-----\n`;
}
