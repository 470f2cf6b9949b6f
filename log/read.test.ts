// The read side: tiles and bundles exist for exactly the checkpointed sizes (full ones once
// complete), never with another width than asked; entries come with proofs; arguments are checked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../platform/db.ts';
import { parseEntryBundle } from '../tlog/entry-bundle.ts';
import { equalBytes, hashLeaf, rootFromLeafHashes } from '../tlog/merkle.ts';
import { verifyConsistency, verifyInclusion } from '../tlog/proof.ts';
import { formatTileData } from '../tlog/tile.ts';
import { addAll, backends, fulfilled, openTestLog, testEntry, type TestLogHandle } from '../test/log-fixtures.ts';
import { serviceAvailable } from '../test/services.ts';
import { isLogError, type LogErrorCode } from './errors.ts';
import type { AddEntryResult } from './pool.ts';

const hasPostgres = await serviceAvailable('postgres');
// Opening PGlite takes seconds on a busy 2-core machine; hooks get the tests' budget.

async function expectCode(p: Promise<unknown>, code: LogErrorCode): Promise<void> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(isLogError(err, code), `want LogError ${code}, got ${String(err)}`).toBe(true);
}

// Checkpoints at sizes 0, 10, 15, 265 and 267.
const BATCHES = [10, 5, 250, 2];

for (const backend of backends(hasPostgres, 'logread')) {
  describe(`read side on ${backend.name}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    let h: TestLogHandle;
    const bodies: Uint8Array[] = [];
    const results: AddEntryResult[] = [];
    const leaves = () => bodies.map(hashLeaf);

    beforeAll(async () => {
      ({ db, drop } = await backend.open());
      h = await openTestLog(db);
      for (const n of BATCHES) {
        const batch = Array.from({ length: n }, (_, i) => testEntry('read', bodies.length + i));
        results.push(...fulfilled(await addAll(h.log, batch)));
        bodies.push(...batch);
      }
    });
    afterAll(async () => {
      await h.log.close();
      await drop();
    });

    it('serves the partial tiles of every checkpointed size and full tiles once complete, nothing else', async () => {
      const tile = (level: number, index: bigint, width: number) => h.log.getTile(level, index, width);
      const l = leaves();
      const cases: Array<[number, bigint, number, Uint8Array | undefined]> = [
        [0, 0n, 10, formatTileData(l.slice(0, 10))],
        [0, 0n, 15, formatTileData(l.slice(0, 15))],
        [0, 0n, 256, formatTileData(l.slice(0, 256))],
        [0, 1n, 9, formatTileData(l.slice(256, 265))],
        [0, 1n, 11, formatTileData(l.slice(256, 267))],
        [1, 0n, 1, formatTileData([rootFromLeafHashes(l.slice(0, 256))])],
        [0, 0n, 11, undefined], // no checkpoint of size 11
        [0, 0n, 1, undefined],
        [0, 1n, 10, undefined],
        [0, 1n, 12, undefined], // beyond the tree
        [0, 1n, 256, undefined],
        [0, 2n, 1, undefined],
        [1, 0n, 2, undefined],
        [1, 0n, 256, undefined],
        [2, 0n, 1, undefined],
      ];
      for (const [level, index, width, want] of cases) {
        const got = await tile(level, index, width);
        expect(got === undefined ? undefined : [...got], `tile ${level}/${index}.p/${width}`).toEqual(want && [...want]);
      }
    });

    it('serves entry bundles by the same rules', async () => {
      const bundle = async (index: bigint, width: number) => {
        const data = await h.log.getEntryBundle(index, width);
        return data && parseEntryBundle(data, width).map((e) => [...e]);
      };
      const b = bodies.map((x) => [...x]);
      expect(await bundle(0n, 10)).toEqual(b.slice(0, 10));
      expect(await bundle(0n, 15)).toEqual(b.slice(0, 15));
      expect(await bundle(0n, 256)).toEqual(b.slice(0, 256));
      expect(await bundle(1n, 9)).toEqual(b.slice(256, 265));
      expect(await bundle(1n, 11)).toEqual(b.slice(256, 267));
      for (const [index, width] of [[0n, 11], [1n, 10], [1n, 12], [1n, 256], [2n, 1]] as const) {
        expect(await h.log.getEntryBundle(index, width), `bundle ${index}.p/${width}`).toBeUndefined();
      }
    });

    it('refuses tile and bundle coordinates outside tlog-tiles ranges', async () => {
      for (const [level, index, width] of [[-1, 0n, 1], [64, 0n, 1], [0.5, 0n, 1], [0, -1n, 1], [0, 1n << 64n, 1], [0, 0n, 0], [0, 0n, 257], [0, 0n, 1.5]] as const) {
        await expectCode(h.log.getTile(level, index, width), 'invalid_argument');
      }
      await expectCode(h.log.getEntryBundle(-1n, 1), 'invalid_argument');
      await expectCode(h.log.getEntryBundle(0n, 257), 'invalid_argument');
    });

    it('returns entries by index and by leaf hash with proofs against the latest checkpoint', async () => {
      const cp = await h.log.getCheckpoint();
      expect(cp.size).toBe(267n);
      expect(cp.checkpoint).toBe(results.at(-1)!.checkpoint);
      for (const i of [0n, 9n, 255n, 256n, 266n]) {
        const e = await h.log.getEntryByIndex(i);
        expect(e.body).toEqual(bodies[Number(i)]);
        expect(e.integratedTime).toBe(results[Number(i)]!.integratedTime);
        verifyInclusion(hashLeaf(e.body), i, e.size, e.inclusionProof, e.root);
        const byHash = await h.log.getEntryByLeafHash(hashLeaf(bodies[Number(i)]!));
        expect(byHash?.index).toBe(i);
      }
      await expectCode(h.log.getEntryByIndex(267n), 'not_found');
      await expectCode(h.log.getEntryByIndex(-1n), 'invalid_argument');
      expect(await h.log.getEntryByLeafHash(hashLeaf(testEntry('never', 0)))).toBeUndefined();
      await expectCode(h.log.getEntryByLeafHash(new Uint8Array(31)), 'invalid_argument');
    });

    it('proves consistency between any two sizes, checkpointed or not', async () => {
      const l = leaves();
      for (const [first, last] of [[10n, 267n], [3n, 7n], [1n, 1n], [256n, 265n], [15n, 15n], [100n, 267n]] as const) {
        const p = await h.log.getConsistencyProof(first, last);
        expect(equalBytes(p.lastRoot, rootFromLeafHashes(l.slice(0, Number(last))))).toBe(true);
        verifyConsistency(first, last, rootFromLeafHashes(l.slice(0, Number(first))), p.lastRoot, p.proof);
      }
      await expectCode(h.log.getConsistencyProof(0n, 5n), 'invalid_argument');
      await expectCode(h.log.getConsistencyProof(6n, 5n), 'invalid_argument');
      await expectCode(h.log.getConsistencyProof(1n, 268n), 'invalid_argument');
    });
  });
}
