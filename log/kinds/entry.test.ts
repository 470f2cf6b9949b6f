import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLogError, type LogErrorCode } from '../errors.ts';
import { DEFAULT_MAX_REQUEST_BYTES, parseCreateEntryRequest, parseProposedEntry, type EntryOptions } from './entry.ts';
import { MAX_ENTRY_BYTES } from './verified-entry.ts';
import {
  b64,
  digestOf,
  hashedRekordV001,
  hashedRekordV002,
  newTestKey,
  pemBase64,
  protoVerifier,
  signArtifact,
  signPae,
} from './testdata/requests.ts';

const OPTIONS: EntryOptions = { trust: null, integrationTime: new Date('2026-03-01T12:00:00Z') };
const ARTIFACT = new TextEncoder().encode('artifact');
const KEY = newTestKey('P-256');
const DIGEST = digestOf('sha256', ARTIFACT);
const SIG = signArtifact(KEY, 'sha256', ARTIFACT);
const V1 = hashedRekordV001('sha256', Buffer.from(DIGEST).toString('hex'), SIG, pemBase64('PUBLIC KEY', KEY.spki));
const V2 = hashedRekordV002(DIGEST, SIG, protoVerifier('PKIX_ECDSA_P256_SHA_256', 'publicKey', KEY.spki));
const DSSE_V1 = {
  apiVersion: '0.0.1',
  kind: 'dsse',
  spec: {
    proposedContent: {
      envelope: JSON.stringify({ payload: b64('{}'), payloadType: 'application/json', signatures: [{ sig: b64(signPae(KEY, 'sha256', 'application/json', new TextEncoder().encode('{}'))) }] }),
      verifiers: [pemBase64('PUBLIC KEY', KEY.spki)],
    },
  },
};

function codeOf(fn: () => unknown): LogErrorCode | 'no error' {
  try {
    fn();
    return 'no error';
  } catch (err) {
    if (!isLogError(err)) throw err;
    return err.code;
  }
}

describe('parseProposedEntry (v1 API)', () => {
  it('accepts a body as bytes or text, and gives a duplicate the same leaf hash', () => {
    const a = parseProposedEntry(new TextEncoder().encode(JSON.stringify(V1)), OPTIONS);
    const b = parseProposedEntry(JSON.stringify(V1, null, 4), OPTIONS);
    expect(b.canonicalBody).toEqual(a.canonicalBody);
    expect(b.leafHash).toEqual(a.leafHash);
    expect(a.leafHash).toHaveLength(32);
  });

  it('dispatches on kind and apiVersion', () => {
    const cases: [unknown, LogErrorCode][] = [
      [{ ...V1, kind: 'rekord' }, 'unsupported_kind'],
      [{ ...V1, kind: 'intoto' }, 'unsupported_kind'],
      [{ ...V1, kind: '__proto__' }, 'unsupported_kind'],
      [{ ...V1, kind: 'toString' }, 'unsupported_kind'],
      [{ ...V1, apiVersion: '0.0.2' }, 'unsupported_kind'],
      [{ ...V1, apiVersion: 'constructor' }, 'unsupported_kind'],
      [{ ...V1, kind: 7 }, 'malformed_entry'],
      [{ kind: 'hashedrekord', spec: V1.spec }, 'malformed_entry'],
      [{ ...V1, extra: 1 }, 'malformed_entry'],
      [[V1], 'malformed_request'],
      [null, 'malformed_request'],
      ['hashedrekord', 'malformed_request'],
    ];
    for (const [body, code] of cases) expect(codeOf(() => parseProposedEntry(JSON.stringify(body), OPTIONS)), JSON.stringify(body).slice(0, 50)).toBe(code);
    expect(codeOf(() => parseProposedEntry(JSON.stringify(DSSE_V1), OPTIONS))).toBe('no error');
  });

  it('refuses bodies that are not UTF-8 JSON', () => {
    expect(codeOf(() => parseProposedEntry('{"kind":', OPTIONS))).toBe('malformed_request');
    expect(codeOf(() => parseProposedEntry(new Uint8Array([0x7b, 0xff, 0x7d]), OPTIONS))).toBe('malformed_request');
    expect(codeOf(() => parseProposedEntry('', OPTIONS))).toBe('malformed_request');
  });
});

describe('parseCreateEntryRequest (v2 API)', () => {
  it('dispatches on the one request type present', () => {
    expect(codeOf(() => parseCreateEntryRequest(JSON.stringify(V2), OPTIONS))).toBe('no error');
    expect(codeOf(() => parseCreateEntryRequest('{}', OPTIONS))).toBe('malformed_request');
    expect(codeOf(() => parseCreateEntryRequest(JSON.stringify({ ...V2, dsseRequestV002: {} }), OPTIONS))).toBe('malformed_request');
    expect(codeOf(() => parseCreateEntryRequest(JSON.stringify({ hashedRekordRequestV0_0_2: V2.hashedRekordRequestV002 }), OPTIONS))).toBe('unsupported_kind');
    expect(codeOf(() => parseCreateEntryRequest(JSON.stringify({ __proto__: 1 }), OPTIONS))).toBe('malformed_request');
    expect(codeOf(() => parseCreateEntryRequest('{"constructor":{}}', OPTIONS))).toBe('unsupported_kind');
    expect(codeOf(() => parseCreateEntryRequest(JSON.stringify(V1), OPTIONS))).toBe('malformed_request');
  });
});

describe('bounds', () => {
  it('refuses a request over maxRequestBytes before parsing it', () => {
    const body = JSON.stringify(V1);
    expect(codeOf(() => parseProposedEntry(body, { ...OPTIONS, maxRequestBytes: body.length }))).toBe('no error');
    expect(codeOf(() => parseProposedEntry(body, { ...OPTIONS, maxRequestBytes: body.length - 1 }))).toBe('request_too_large');
    expect(codeOf(() => parseCreateEntryRequest(`"${'x'.repeat(DEFAULT_MAX_REQUEST_BYTES)}"`, OPTIONS))).toBe('request_too_large');
    // Multi-byte characters count as bytes, not UTF-16 units.
    expect(codeOf(() => parseProposedEntry(`"${'é'.repeat(DEFAULT_MAX_REQUEST_BYTES / 2)}"`, OPTIONS))).toBe('request_too_large');
  });

  it('refuses a canonical body over maxEntryBytes, and a limit above the tile bundle’s', () => {
    const size = parseProposedEntry(JSON.stringify(V1), OPTIONS).canonicalBody.length;
    expect(codeOf(() => parseProposedEntry(JSON.stringify(V1), { ...OPTIONS, maxEntryBytes: size }))).toBe('no error');
    expect(codeOf(() => parseProposedEntry(JSON.stringify(V1), { ...OPTIONS, maxEntryBytes: size - 1 }))).toBe('entry_too_large');
    expect(codeOf(() => parseProposedEntry(JSON.stringify(V1), { ...OPTIONS, maxEntryBytes: MAX_ENTRY_BYTES + 1 }))).toBe('invalid_config');
    expect(codeOf(() => parseProposedEntry(JSON.stringify(V1), { ...OPTIONS, maxRequestBytes: 0 }))).toBe('invalid_config');
    expect(codeOf(() => parseProposedEntry(JSON.stringify(V1), { ...OPTIONS, integrationTime: new Date(Number.NaN) }))).toBe('invalid_config');
  });

  it('keeps real bodies far below MAX_ENTRY_BYTES (65,535): a 4096-bit RSA key entry is under 2 KB', () => {
    const rsa = newTestKey('RSA-4096');
    const sig = signArtifact(rsa, 'sha512', ARTIFACT);
    const req = hashedRekordV001('sha512', Buffer.from(digestOf('sha512', ARTIFACT)).toString('hex'), sig, pemBase64('PUBLIC KEY', rsa.spki));
    expect(parseProposedEntry(JSON.stringify(req), OPTIONS).canonicalBody.length).toBeLessThan(2048);
  });
});

// Property tests: whatever the body, the parsers return an entry or throw a LogError, never a
// SyntaxError, RangeError, TypeError or TlogError.
function onlyLogErrors(parse: () => unknown): void {
  try {
    parse();
  } catch (err) {
    if (!isLogError(err)) throw err;
  }
}

// mutate replaces the value at a random path of a valid request with an arbitrary JSON value.
function mutateAt(value: unknown, path: readonly number[], replacement: unknown): unknown {
  if (path.length === 0 || typeof value !== 'object' || value === null) return replacement;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return replacement;
  const i = path[0]! % (entries.length + 1);
  if (i === entries.length) return Array.isArray(value) ? [...value, replacement] : { ...value, [`extra${path[0]}`]: replacement };
  const [k, v] = entries[i]!;
  const copy: any = Array.isArray(value) ? [...value] : { ...value };
  copy[k] = mutateAt(v, path.slice(1), replacement);
  return copy;
}

describe('fuzzing: the parsers only throw LogError', () => {
  it('on arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value) ?? 'null';
        onlyLogErrors(() => parseProposedEntry(text, OPTIONS));
        onlyLogErrors(() => parseCreateEntryRequest(text, OPTIONS));
      }),
      { numRuns: 1000 },
    );
  });

  it('on arbitrary bytes and strings', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 300 })), (body) => {
        onlyLogErrors(() => parseProposedEntry(body, OPTIONS));
        onlyLogErrors(() => parseCreateEntryRequest(body, OPTIONS));
      }),
      { numRuns: 1000 },
    );
  });

  it('on valid requests with one field replaced or added anywhere', () => {
    const replacement = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.base64String({ maxLength: 200 }), fc.constantFrom('', 'AAAA', '0'.repeat(64), 'PKIX_ED25519', '__proto__'));
    fc.assert(
      fc.property(fc.constantFrom<unknown>(V1, V2, DSSE_V1), fc.array(fc.nat(), { maxLength: 6 }), replacement, (base, path, value) => {
        const text = JSON.stringify(mutateAt(base, path, value));
        onlyLogErrors(() => parseProposedEntry(text, OPTIONS));
        onlyLogErrors(() => parseCreateEntryRequest(text, OPTIONS));
      }),
      { numRuns: 600 },
    );
  });

  it('on the DSSE envelope string of a v1 request', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string()), (envelope) => {
        const body = JSON.stringify({ ...DSSE_V1, spec: { proposedContent: { ...DSSE_V1.spec.proposedContent, envelope } } });
        onlyLogErrors(() => parseProposedEntry(body, OPTIONS));
      }),
      { numRuns: 500 },
    );
  });
});
