import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_ENTRY_SIZE,
  bundleForEntry,
  bundlesForRange,
  encodeEntryBundle,
  parseEntryBundle,
} from './entry-bundle.ts';
import { formatEntriesPath } from './tile.ts';
import { describeVectors, hex, readVectorBytes, readVectorJson } from '../test/vectors.ts';
import { expectTlogError, expectTlogErrorIfThrows } from '../test/tlog-errors.ts';
import { hashLeaf } from './merkle.ts';

const TILE_PATHS = 'tiles/tile-paths.json';
const TESTLOG = 'tiles/tessera-testlog/testlog.json';
const TESTLOG_DIR = 'tiles/tessera-testlog/log';

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

describe('entry bundles (C2SP tlog-tiles "Log entries")', () => {
  it('encodes uint16 big-endian length prefixes', () => {
    const data = encodeEntryBundle([bytes(0x61), bytes(), new Uint8Array(0x0102)]);
    expect([...data.subarray(0, 6)]).toEqual([0x00, 0x01, 0x61, 0x00, 0x00, 0x01]);
    expect(data[6]).toBe(0x02);
    expect(data.length).toBe(3 + 2 + 2 + 0x0102);
  });

  it('round-trips, empty entries and 65535-byte entries included', () => {
    const entries = [bytes(), new Uint8Array(MAX_ENTRY_SIZE).fill(7), bytes(1, 2, 3)];
    // Buffer comparison: deep equality on 64 KiB typed arrays is slow.
    const same = (got: Uint8Array[]): boolean => got.length === 3 && got.every((e, i) => Buffer.from(e).equals(entries[i]!));
    expect(same(parseEntryBundle(encodeEntryBundle(entries)))).toBe(true);
    expect(same(parseEntryBundle(encodeEntryBundle(entries), 3))).toBe(true);
  });

  it('refuses what cannot be encoded', () => {
    expectTlogError(() => encodeEntryBundle([new Uint8Array(MAX_ENTRY_SIZE + 1)]), 'invalid_argument');
    expectTlogError(() => encodeEntryBundle([]), 'invalid_argument');
    expectTlogError(() => encodeEntryBundle(Array.from({ length: 257 }, () => bytes(1))), 'invalid_argument');
  });

  it('rejects truncated, empty, oversized and miscounted bundles', () => {
    const good = encodeEntryBundle([bytes(1, 2), bytes(3)]);
    expectTlogError(() => parseEntryBundle(new Uint8Array(0)), 'malformed_bundle');
    expectTlogError(() => parseEntryBundle(bytes(0x00)), 'malformed_bundle'); // half a length prefix
    expectTlogError(() => parseEntryBundle(good.subarray(0, good.length - 1)), 'malformed_bundle'); // short entry
    expectTlogError(() => parseEntryBundle(Uint8Array.of(...good, 0x00)), 'malformed_bundle'); // dangling byte
    expectTlogError(() => parseEntryBundle(bytes(0xff, 0xff, 1, 2)), 'malformed_bundle'); // length past the end
    expectTlogError(() => parseEntryBundle(good, 1), 'malformed_bundle'); // trailing entry
    expectTlogError(() => parseEntryBundle(good, 3), 'malformed_bundle'); // too few
    expectTlogError(() => parseEntryBundle(new Uint8Array(2 * 257)), 'malformed_bundle'); // 257 empty entries
    expectTlogError(() => parseEntryBundle(good, 0), 'invalid_argument');
    expect(parseEntryBundle(new Uint8Array(2 * 256)).length).toBe(256);
  });

  it('parsed entries do not alias the input', () => {
    const data = encodeEntryBundle([bytes(9)]);
    const [e] = parseEntryBundle(data);
    data[2] = 0;
    expect(e).toEqual(bytes(9));
  });

  it('property: encode/parse round trip; random bytes never escape as anything but TlogError', () => {
    const entry = fc.uint8Array({ maxLength: 300 });
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 20 }), (entries) => {
        expect(parseEntryBundle(encodeEntryBundle(entries), entries.length)).toEqual(entries);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.option(fc.integer({ min: 1, max: 256 }), { nil: undefined }), (data, n) => {
        expectTlogErrorIfThrows(() => parseEntryBundle(data, n), 'malformed_bundle');
      }),
    );
  });
});

describeVectors(`entry bundle coordinates (${TILE_PATHS}, tessera api/layout/paths_test.go)`, () => {
  const v = readVectorJson(TILE_PATHS).tessera_layout_tests;

  it('entries_path_for_log_index', () => {
    for (const c of v.entries_path_for_log_index) {
      expect(formatEntriesPath(bundleForEntry(BigInt(c.seq), BigInt(c.log_size))), `${c.seq}/${c.log_size}`).toBe(c.want);
    }
    expectTlogError(() => bundleForEntry(5n, 5n), 'invalid_argument');
  });

  it('range_bundles (tessera layout.Range; partial 0 = a full bundle, width 256 here)', () => {
    for (const c of v.range_bundles.cases) {
      const got = bundlesForRange(BigInt(c.from), BigInt(c.n), BigInt(c.tree_size));
      const want = c.want.map((w: { index: number; first: number; n: number; partial: number }) => ({
        index: BigInt(w.index),
        width: w.partial === 0 ? 256 : w.partial,
        first: w.first,
        count: w.n,
      }));
      expect(got, JSON.stringify(c)).toEqual(want);
    }
  });

  it('property: range slices tile the requested range exactly', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 5000n }), fc.bigInt({ min: 0n, max: 2000n }), fc.bigInt({ min: 0n, max: 6000n }), (from, n, size) => {
        const slices = bundlesForRange(from, n, size);
        const end = from + n < size ? from + n : size;
        let next = from;
        for (const s of slices) {
          expect(s.index * 256n + BigInt(s.first)).toBe(next);
          expect(s.first + s.count).toBeLessThanOrEqual(s.width);
          expect(s).toMatchObject(bundleForEntry(next, size));
          next += BigInt(s.count);
        }
        expect(next).toBe(end > from ? end : from);
      }),
    );
  });
});

describeVectors(`entry bundles of the tessera test log (${TESTLOG}, ${TESTLOG_DIR}/tile/entries/000.p/1..15)`, () => {
  const meta = readVectorJson(TESTLOG);

  it('each bundle parses to entries_utf8, re-encodes byte for byte, and hashes to leaf_hashes_hex', () => {
    for (let size = 1; size <= 15; size++) {
      const data = readVectorBytes(`${TESTLOG_DIR}/tile/entries/000.p/${size}`);
      const entries = parseEntryBundle(data, size);
      expect(entries.map((e) => new TextDecoder().decode(e))).toEqual(meta.entries_utf8.slice(0, size));
      expect(entries.map(hashLeaf)).toEqual(meta.leaf_hashes_hex.slice(0, size).map(hex));
      expect(encodeEntryBundle(entries)).toEqual(data);
      expectTlogError(() => parseEntryBundle(data, size === 15 ? 14 : size + 1), 'malformed_bundle');
    }
  });
});
