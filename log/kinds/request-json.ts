// request-json.ts reads attacker-controlled JSON request bodies strictly: a size limit before
// parsing, fatal UTF-8 decoding, no unknown fields, exact types, strict base64. Every failure is a
// LogError whose message names the field by its JSON path (e.g. "spec.signature.content").
import { decodeBase64 } from '../../tlog/base64.ts';
import { errorMessage, LogError } from '../errors.ts';

/** JsonObject is a parsed JSON object whose fields have been checked against a list. */
export type JsonObject = Record<string, unknown>;

/**
 * parseRequestJson decodes body (attacker-controlled) as UTF-8 JSON, refusing it with
 * request_too_large before any parsing when it is over maxRequestBytes, and with malformed_request
 * when it is not valid UTF-8 or not valid JSON. JSON.parse keeps the last of duplicated names; that
 * is harmless here because bodies are rebuilt from the parsed values and signatures are checked
 * against those values.
 */
export function parseRequestJson(body: Uint8Array | string, maxRequestBytes: number): unknown {
  const size = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length;
  if (size > maxRequestBytes) {
    throw new LogError('request_too_large', `request body is ${size} bytes, over the limit of ${maxRequestBytes}`);
  }
  let text: string;
  if (typeof body === 'string') {
    text = body;
  } else {
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
    } catch (err) {
      throw new LogError('malformed_request', 'request body is not valid UTF-8', { cause: err });
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new LogError('malformed_request', `request body is not valid JSON: ${errorMessage(err)}`, { cause: err });
  }
}

/** fieldPath joins a JSON path and a member name or array index. */
export function fieldPath(path: string, name: string | number): string {
  if (typeof name === 'number') return `${path}[${name}]`;
  return path === '' ? name : `${path}.${name}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/**
 * readObject checks that value is a plain JSON object holding only the names in `allowed` (any names
 * if 'any') and every name in `required`, and returns it. The top-level object's path is ''.
 */
export function readObject(
  value: unknown,
  path: string,
  allowed: readonly string[] | 'any',
  required: readonly string[] = allowed === 'any' ? [] : allowed,
): JsonObject {
  const what = path === '' ? 'request' : path;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new LogError(path === '' ? 'malformed_request' : 'malformed_entry', `${what} must be a JSON object, not ${describe(value)}`);
  }
  const obj = value as JsonObject;
  if (allowed !== 'any') {
    for (const name of Object.keys(obj)) {
      if (!allowed.includes(name)) {
        // The name is attacker-controlled: quote it, and cut it short, in the message.
        const shown = /^[A-Za-z0-9_]{1,64}$/.test(name) ? name : JSON.stringify(name.slice(0, 64));
        throw new LogError('malformed_entry', `unknown field ${fieldPath(path, shown)} (allowed: ${allowed.join(', ')})`);
      }
    }
  }
  for (const name of required) {
    if (obj[name] === undefined) throw new LogError('malformed_entry', `missing field ${fieldPath(path, name)}`);
  }
  return obj;
}

/** readString checks that value is a string of at most maxLength UTF-16 units, non-empty unless allowed. */
export function readString(value: unknown, path: string, opts: { allowEmpty?: boolean; maxLength?: number } = {}): string {
  if (typeof value !== 'string') throw new LogError('malformed_entry', `${path} must be a string, not ${describe(value)}`);
  if (value === '' && !opts.allowEmpty) throw new LogError('malformed_entry', `${path} must not be empty`);
  if (opts.maxLength !== undefined && value.length > opts.maxLength) {
    throw new LogError('malformed_entry', `${path} is longer than ${opts.maxLength} characters`);
  }
  return value;
}

/**
 * readBase64 decodes value as strict standard padded base64 (RFC 4648 §4, Go's StdEncoding in
 * Strict mode), the encoding protojson and Rekor emit. Empty results are refused unless allowEmpty.
 */
export function readBase64(value: unknown, path: string, opts: { allowEmpty?: boolean } = {}): Uint8Array {
  const s = readString(value, path, { allowEmpty: opts.allowEmpty });
  try {
    return decodeBase64(s, path);
  } catch (err) {
    throw new LogError('malformed_entry', `${path} is not valid standard padded base64`, { cause: err });
  }
}

/** readLowerHex decodes value as lowercase hex of exactly `bytes` bytes. */
export function readLowerHex(value: unknown, path: string, bytes: number): Uint8Array {
  const s = readString(value, path);
  if (!/^[0-9a-f]*$/.test(s)) throw new LogError('malformed_entry', `${path} must be lowercase hex`);
  if (s.length !== bytes * 2) {
    throw new LogError('malformed_entry', `${path} must be ${bytes * 2} hex digits, not ${s.length}`);
  }
  return new Uint8Array(Buffer.from(s, 'hex'));
}

/** readArray checks that value is an array with between min and max elements. */
export function readArray(value: unknown, path: string, min: number, max: number): unknown[] {
  if (!Array.isArray(value)) throw new LogError('malformed_entry', `${path} must be an array, not ${describe(value)}`);
  if (value.length < min) throw new LogError('malformed_entry', `${path} must have at least ${min} element(s)`);
  if (value.length > max) throw new LogError('malformed_entry', `${path} has ${value.length} elements, over the limit of ${max}`);
  return value as unknown[];
}
