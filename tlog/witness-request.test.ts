import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from './base64.ts';
import {
  DEFAULT_MAX_WITNESS_BODY_BYTES,
  formatAddCheckpointRequest,
  formatConflictBody,
  MAX_CONSISTENCY_PROOF_LINES,
  parseAddCheckpointRequest,
  parseAddCheckpointResponse,
  parseConflictResponse,
  parseSignSubtreeRequest,
  TLOG_SIZE_CONTENT_TYPE,
  witnessCheckpointPath,
  witnessOriginHash,
} from './witness-request.ts';
import { describeVectors, hex, readVectorJson } from '../test/vectors.ts';
import { expectTlogError, expectTlogErrorIfThrows } from '../test/tlog-errors.ts';

const EXAMPLES = 'witness/tlog-witness-examples.json';
const TESSERA_SCENARIO = 'witness/tessera-testlog-witness-scenario.json';
const LITEWITNESS_SCENARIO = 'witness/litewitness-scenario.json';

const H = encodeBase64(new Uint8Array(32).fill(7));
const NOTE = 'example.com/log\n3\nWqx3HImawpLnS/Gv4ubjAvi1WIOy0b8Ze0amvqbavKk=\n\n\u2014 example.com/log AAAAAAAA\n';

describeVectors(`tlog-witness wire formats: ${EXAMPLES} (C2SP tlog-witness.md, sigsum-go, Sunlight)`, () => {
  const v = readVectorJson(EXAMPLES);

  it('add_checkpoint_request_example (spec) parses', () => {
    const req = parseAddCheckpointRequest(v.add_checkpoint_request_example);
    expect(req.oldSize).toBe(20852014n);
    expect(req.proof.map(encodeBase64)).toEqual([
      'PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=',
      'jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=',
      '5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=',
      '/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=',
    ]);
    expect(req.checkpointNote.startsWith('example.com/behind-the-sofa\n20852163\n')).toBe(true);
    expect(formatAddCheckpointRequest(req)).toBe(v.add_checkpoint_request_example);
    expect(parseAddCheckpointRequest(new TextEncoder().encode(v.add_checkpoint_request_example))).toEqual(req);
  });

  it('sigsum_go_add_checkpoint_ascii: the parsed fields match sigsum-go', () => {
    const c = v.sigsum_go_add_checkpoint_ascii;
    const req = parseAddCheckpointRequest(c.body);
    expect(req.oldSize).toBe(BigInt(c.parsed.old_size));
    expect(req.proof).toEqual(c.parsed.proof_hex.map(hex));
    // The note is the caller's to parse; split it here only to check it arrived whole.
    const [origin, size, root, blank, sig] = req.checkpointNote.split('\n');
    expect([origin, size, root, blank]).toEqual([c.parsed.origin, String(c.parsed.size), encodeBase64(hex(c.parsed.root_hex)), '']);
    const [dash, name, blob] = (sig ?? '').split(' ');
    expect([dash, name]).toEqual(['\u2014', c.parsed.sig_key_name]);
    expect(Buffer.from(decodeBase64(blob ?? '').subarray(0, 4)).toString('hex')).toBe(c.parsed.sig_key_id_hex);
    expect(formatAddCheckpointRequest(req)).toBe(c.body);
  });

  it.each((v.conflict_response_parsing.cases as any[]).map((c): [string, string, any] => [c.content_type, JSON.stringify(c.body), c]))(
    'conflict_response_parsing: %s %s',
    (_ct, _body, c: any) => {
      if (c.want === 'error') {
        expectTlogError(() => parseConflictResponse(c.content_type, c.body), 'malformed_request', '409 response');
      } else {
        expect(parseConflictResponse(c.content_type, c.body)).toBe(BigInt(c.want));
        expect(formatConflictBody(BigInt(c.want))).toBe(c.body);
      }
    },
  );

  it.each((v.monitoring_checkpoint_path.examples as any[]).map((e): [string, any] => [e.origin, e]))('monitoring_checkpoint_path: %s', (_o, e: any) => {
    expect(witnessOriginHash(e.origin)).toBe(e.origin_hash);
    expect(witnessCheckpointPath(e.origin)).toBe(`${e.origin_hash}/checkpoint`);
  });

  it('add_checkpoint_response_example (spec) parses into three signature lines', () => {
    const sigs = parseAddCheckpointResponse(v.add_checkpoint_response_example);
    expect(sigs.map((s) => s.name)).toEqual(['witness.example/w1', 'witness.example/w1', 'witness.example/w2']);
    expect(sigs.every((s) => s.signature.length > 0)).toBe(true);
  });

  it('sign_subtree_request_example (spec, truncated signature) parses structurally', () => {
    const req = parseSignSubtreeRequest(v.sign_subtree_request_example);
    expect([req.start, req.end]).toEqual([8n, 13n]);
    expect(encodeBase64(req.subtreeHash)).toBe('mbsQCg+dEIMGlpqeGgk94JutQwKKS2Lo5IuDhKmDjiU=');
    expect(req.subtreeCosignatures).toEqual([]);
    expect(req.proof).toHaveLength(4);
    expect(req.checkpoint.startsWith('example.com/behind-the-sofa\n14\n')).toBe(true);
  });
});

describeVectors(`witness scenario request bodies parse: ${TESSERA_SCENARIO}, ${LITEWITNESS_SCENARIO}`, () => {
  it.each([TESSERA_SCENARIO, LITEWITNESS_SCENARIO])('%s: every body parses except the two "malformed:" steps', (file) => {
    const steps: { desc: string; request_body: string }[] = readVectorJson(file).steps;
    let rejected = 0;
    for (const s of steps) {
      if (s.desc.startsWith('malformed:')) {
        expectTlogError(() => parseAddCheckpointRequest(s.request_body), 'malformed_request', 'line ');
        rejected++;
      } else {
        expect(() => parseAddCheckpointRequest(s.request_body), s.desc).not.toThrow();
      }
    }
    expect(rejected).toBe(file === TESSERA_SCENARIO ? 2 : 0);
  });
});

describe('parseAddCheckpointRequest rules', () => {
  it('accepts old 0 with no proof, and a proof for old 0 (a 422, not a parse error)', () => {
    expect(parseAddCheckpointRequest(`old 0\n\n${NOTE}`)).toEqual({ oldSize: 0n, proof: [], checkpointNote: NOTE });
    expect(parseAddCheckpointRequest(`old 0\n${H}\n\n${NOTE}`).proof).toHaveLength(1);
    expect(parseAddCheckpointRequest(`old 18446744073709551615\n\n${NOTE}`).oldSize).toBe(2n ** 64n - 1n);
  });

  it.each([
    ['no blank line', `old 3\n${H}\n${NOTE.replace('\n\n', '\n')}`, 'no blank line'],
    ['nothing after the blank line', `old 3\n\n`, 'no checkpoint after the blank line'],
    ['empty body', '', 'no blank line'],
    ['a leading zero', `old 015\n\n${NOTE}`, 'line 1: want "old <size>"'],
    ['a plus sign', `old +5\n\n${NOTE}`, 'line 1: want "old <size>"'],
    ['two spaces', `old  5\n\n${NOTE}`, 'line 1'],
    ['a trailing space', `old 5 \n\n${NOTE}`, 'line 1'],
    ['a CR', `old 5\r\n\r\n${NOTE}`, 'line 1'],
    ['uppercase OLD', `OLD 5\n\n${NOTE}`, 'line 1'],
    ['a size over 64 bits', `old 18446744073709551616\n\n${NOTE}`, 'does not fit in 64 bits'],
    ['a non-base64 proof line', `old 15\nnot*base64\n\n${NOTE}`, 'line 2: consistency proof hash "not*base64" is not strict base64'],
    ['unpadded base64', `old 15\n${H.slice(0, -1)}\n\n${NOTE}`, 'line 2'],
    ['a 31-byte hash', `old 15\n${H}\n${encodeBase64(new Uint8Array(31))}\n\n${NOTE}`, 'line 3: consistency proof hash is 31 bytes, want 32'],
    ['64 proof lines', `old 15\n${`${H}\n`.repeat(64)}\n${NOTE}`, 'line 65: more than 63 consistency proof lines'],
  ])('rejects %s', (_desc, body, contains) => {
    expectTlogError(() => parseAddCheckpointRequest(body), 'malformed_request', contains);
  });

  it('accepts exactly 63 proof lines', () => {
    expect(parseAddCheckpointRequest(`old 15\n${`${H}\n`.repeat(63)}\n${NOTE}`).proof).toHaveLength(63);
  });

  it('bounds the body before decoding it, and decodes bytes as strict UTF-8', () => {
    const body = `old 0\n\n${NOTE}`;
    expectTlogError(() => parseAddCheckpointRequest(body, body.length + 1), 'malformed_request', 'over the limit');
    expect(parseAddCheckpointRequest(body, Buffer.byteLength(body)).oldSize).toBe(0n);
    expectTlogError(() => parseAddCheckpointRequest('x'.repeat(DEFAULT_MAX_WITNESS_BODY_BYTES + 1)), 'malformed_request', 'over the limit');
    expectTlogError(() => parseAddCheckpointRequest(new Uint8Array([0x6f, 0x6c, 0x64, 0x20, 0xc0])), 'malformed_request', 'not valid UTF-8');
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(body)]);
    expectTlogError(() => parseAddCheckpointRequest(bom), 'malformed_request', 'line 1');
  });

  it('formatAddCheckpointRequest refuses what the spec forbids', () => {
    const ok = { oldSize: 1n, proof: [], checkpointNote: NOTE };
    expectTlogError(() => formatAddCheckpointRequest({ ...ok, oldSize: -1n }), 'invalid_argument', 'uint64');
    expectTlogError(() => formatAddCheckpointRequest({ ...ok, oldSize: 2n ** 64n }), 'invalid_argument', 'uint64');
    expectTlogError(() => formatAddCheckpointRequest({ ...ok, proof: Array(64).fill(new Uint8Array(32)) }), 'invalid_argument', 'at most 63');
    expectTlogError(() => formatAddCheckpointRequest({ ...ok, proof: [new Uint8Array(33)] }), 'invalid_argument', '32 bytes');
    expectTlogError(() => formatAddCheckpointRequest({ ...ok, checkpointNote: '' }), 'invalid_argument', 'needs a checkpoint');
  });
});

describe('conflict bodies', () => {
  it('round trips the largest size and refuses anything longer', () => {
    const max = 2n ** 64n - 1n;
    expect(parseConflictResponse(TLOG_SIZE_CONTENT_TYPE, formatConflictBody(max))).toBe(max);
    expectTlogError(() => parseConflictResponse(TLOG_SIZE_CONTENT_TYPE, '18446744073709551616\n'), 'malformed_request', 'does not fit in 64 bits');
    expectTlogError(() => parseConflictResponse(TLOG_SIZE_CONTENT_TYPE, `${'1'.repeat(30)}\n`), 'malformed_request', 'over the limit');
    expectTlogError(() => parseConflictResponse(undefined, '5\n'), 'malformed_request', 'want exactly text/x.tlog.size');
    expectTlogError(() => parseConflictResponse('TEXT/X.TLOG.SIZE', '5\n'), 'malformed_request', 'Content-Type');
    expectTlogError(() => parseConflictResponse(TLOG_SIZE_CONTENT_TYPE, '5\n\n'), 'malformed_request', 'is not "<size>\\n"');
    expect(parseConflictResponse(TLOG_SIZE_CONTENT_TYPE, new TextEncoder().encode('7\n'))).toBe(7n);
    expectTlogError(() => formatConflictBody(-1n), 'invalid_argument', 'uint64');
  });
});

describe('parseAddCheckpointResponse and parseSignSubtreeRequest rules', () => {
  it('rejects responses that are empty, unterminated or not signature lines', () => {
    expect(() => parseAddCheckpointResponse('')).toThrow();
    expect(() => parseAddCheckpointResponse('\u2014 w.example AAAAAAA=')).toThrow();
    expect(() => parseAddCheckpointResponse('w.example AAAAAAA=\n')).toThrow();
    expectTlogError(() => parseAddCheckpointResponse('\u2014 w AAAAAAA=\n', 10), 'malformed_request', 'over the limit');
  });

  const sub = (first: string, extra = ''): string => `${first}\n${H}\n${extra}${H}\n\n${NOTE}`;
  it.each([
    ['start = end', sub('subtree 8 8'), 'line 1: subtree start 8 is not below its end 8'],
    ['start > end', sub('subtree 9 8'), 'not below'],
    ['end with a leading zero', sub('subtree 8 013'), 'line 1: want "subtree <start> <end>"'],
    ['a bad subtree hash', `subtree 0 1\nxx\n\n${NOTE}`, 'line 2: subtree hash'],
    ['no subtree hash', `subtree 0 1\n\n${NOTE}`, 'line 2: subtree hash'],
    ['a malformed cosignature line', sub('subtree 0 1', '\u2014 w.example ***\n'), 'line 3: invalid subtree cosignature line'],
    ['nine cosignature lines', sub('subtree 0 1', '\u2014 w.example AAAAAAA=\n'.repeat(9)), 'line 11: more than 8 subtree cosignature lines'],
    ['a cosignature after a proof line', `subtree 0 1\n${H}\n${H}\n\u2014 w.example AAAAAAA=\n\n${NOTE}`, 'line 4: consistency proof hash'],
    ['nine checkpoint signatures', `subtree 0 1\n${H}\n\n${NOTE}${'\u2014 x AAAAAAA=\n'.repeat(8)}`, 'checkpoint has 9 signatures'],
    ['a checkpoint without a final newline', `subtree 0 1\n${H}\n\nexample.com/log\n3\n${H}`, 'does not end in a newline'],
  ])('sign-subtree rejects %s', (_desc, body, contains) => {
    expectTlogError(() => parseSignSubtreeRequest(body), 'malformed_request', contains);
  });

  it('sign-subtree accepts cosignature lines and an unsigned checkpoint', () => {
    const cp = `example.com/log\n14\n${H}\n`;
    const req = parseSignSubtreeRequest(`subtree 0 8\n${H}\n\u2014 w.example AAAAAAA=\n${H}\n\n${cp}`);
    expect(req.subtreeCosignatures.map((s) => [s.name, s.keyId])).toEqual([['w.example', 0]]);
    expect(req.proof).toHaveLength(1);
    expect(req.checkpoint).toBe(cp);
  });
});

describe('add-checkpoint properties (fast-check)', () => {
  const noteArb = fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: 200 })
    .filter((s) => s !== '');

  it('parseAddCheckpointRequest(formatAddCheckpointRequest(x)) equals x', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: MAX_CONSISTENCY_PROOF_LINES }),
        noteArb,
        (oldSize, proof, checkpointNote) => {
          const req = { oldSize, proof, checkpointNote };
          const body = formatAddCheckpointRequest(req);
          expect(parseAddCheckpointRequest(body)).toEqual(req);
          expect(parseAddCheckpointRequest(new TextEncoder().encode(body))).toEqual(req);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws anything but TlogError on arbitrary bodies', () => {
    // Bodies built from protocol-shaped pieces reach deeper than uniformly random text.
    const piece = fc.oneof(
      fc.constantFrom('old ', 'subtree ', '\n', '\n\n', ' ', '0', '15', '18446744073709551616', H, '\u2014 w.example AAAAAAA=\n', NOTE),
      fc.string({ maxLength: 8 }),
    );
    const body = fc.oneof(fc.array(piece, { maxLength: 12 }).map((p) => p.join('')), fc.uint8Array({ maxLength: 300 }));
    fc.assert(
      fc.property(body, (b) => {
        for (const parse of [parseAddCheckpointRequest, parseSignSubtreeRequest, parseAddCheckpointResponse]) {
          expectTlogErrorIfThrows(() => parse(b));
        }
        expectTlogErrorIfThrows(() => parseConflictResponse(TLOG_SIZE_CONTENT_TYPE, b));
      }),
      { numRuns: 1000 },
    );
  });
});
