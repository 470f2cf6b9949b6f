// json-read.ts reads fields of parsed JSON (bundles and trusted roots, attacker-controlled) with
// exact types, throwing BundleError with the field's path. Bytes are strict standard base64.
import { decodeBase64 } from '../../tlog/base64.ts';
import { BundleError, type BundleErrorCode } from './errors.ts';

/** JsonReader reads fields for one input kind, failing with its code. */
export interface JsonReader {
  object(v: unknown, path: string): Record<string, unknown>;
  string(v: unknown, path: string): string;
  bytes(v: unknown, path: string): Uint8Array;
  array(v: unknown, path: string, max: number): unknown[];
  /** uint reads a decimal string (protobuf JSON int64) or a safe integer as a bigint. */
  uint(v: unknown, path: string): bigint;
  time(v: unknown, path: string): Date;
}

const DECIMAL = /^(0|[1-9][0-9]{0,19})$/;

/** jsonReader returns a reader whose errors carry `code`. */
export function jsonReader(code: BundleErrorCode): JsonReader {
  const fail = (path: string, want: string): never => {
    throw new BundleError(code, `${path} must be ${want}`);
  };
  const r: JsonReader = {
    object: (v, path) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : fail(path, 'an object')),
    string: (v, path) => (typeof v === 'string' && v.length > 0 ? v : fail(path, 'a non-empty string')),
    bytes: (v, path) => {
      const s = r.string(v, path);
      try {
        return decodeBase64(s, path);
      } catch {
        return fail(path, 'strict standard base64');
      }
    },
    array: (v, path, max) => (Array.isArray(v) && v.length <= max ? v : fail(path, `an array of at most ${max} items`)),
    uint: (v, path) => {
      if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
      if (typeof v === 'string' && DECIMAL.test(v) && BigInt(v) < 2n ** 64n) return BigInt(v);
      return fail(path, 'a uint64 (decimal string)');
    },
    time: (v, path) => {
      const s = r.string(v, path);
      const t = Date.parse(s);
      return /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(t) ? new Date(t) : fail(path, 'an RFC 3339 time');
    },
  };
  return r;
}
