import { TlogError } from './errors.ts';

// Strict standard base64 (RFC 4648 §4, padded), matching Go's base64.StdEncoding: Node's
// Buffer.from(s, 'base64') silently skips invalid characters and accepts missing padding, so it is
// never used on its own for attacker-controlled input.
const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * decodeBase64 decodes standard padded base64, rejecting anything Go's StdEncoding rejects:
 * characters outside the alphabet, whitespace, missing or extra padding, and non-zero trailing
 * bits in the last group (Go's Strict mode). `what` names the field for the error message.
 */
export function decodeBase64(s: string, what = 'base64 value'): Uint8Array {
  const bytes = new Uint8Array(Buffer.from(s, 'base64'));
  // s is accepted only if it is exactly the canonical encoding of what it decodes to. Buffer's
  // decoder skips what it cannot read (and takes the URL-safe alphabet), but its encoder writes
  // only the standard alphabet, full padding and zero trailing bits, so any such input encodes
  // back differently. The regex, costlier than decoding twice, only names what was wrong.
  if (encodeBase64(bytes) !== s) {
    if (!STD_BASE64.test(s)) throw new TlogError('malformed_base64', `${what} is not valid standard base64`);
    throw new TlogError('malformed_base64', `${what} has non-canonical base64 padding bits`);
  }
  return bytes;
}

/** encodeBase64 encodes bytes as standard padded base64. */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** encodeHex encodes bytes as lowercase hex. */
export function encodeHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** decodeHex decodes lowercase or uppercase hex of even length, strictly. */
export function decodeHex(s: string, what = 'hex value'): Uint8Array {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) {
    throw new TlogError('malformed_base64', `${what} is not valid hex`);
  }
  return new Uint8Array(Buffer.from(s, 'hex'));
}
