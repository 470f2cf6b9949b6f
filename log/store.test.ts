// The log's SQL against both databases: one statement per batch, rows that only ever widen, and the
// pending queue's order and deduplication.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../platform/db.ts';
import { hashLeaf } from '../tlog/merkle.ts';
import { backends, testEntry } from '../test/log-fixtures.ts';
import { serviceAvailable } from '../test/services.ts';
import { isLogError } from './errors.ts';
import { LOG_MIGRATIONS, applyLogMigrations } from './schema.ts';
import {
  findEntries, hasCheckpointBetween, hasPending, insertCheckpoint, insertEntries, insertPending, readEntry, readEntryByLeafHash,
  readEntryRange, takePending,
} from './store.ts';
import { readBundle, readTiles, writeBundles, writeTiles } from './tile-store.ts';

const hasPostgres = await serviceAvailable('postgres');
// Opening PGlite takes seconds on a busy 2-core machine; hooks get the tests' budget.

const tileData = (width: number, fill: number) => new Uint8Array(32 * width).fill(fill);

for (const backend of backends(hasPostgres, 'logstore')) {
  describe(`log store on ${backend.name}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      ({ db, drop } = await backend.open());
      expect((await applyLogMigrations(db)).length).toBe(LOG_MIGRATIONS.length);
      expect(await applyLogMigrations(db)).toEqual([]);
    });
    afterAll(async () => drop());

    it('inserts thousands of entries in one statement and finds them by index and leaf hash', async () => {
      const entries = Array.from({ length: 3000 }, (_, i) => {
        const body = testEntry('store', i, i % 7 === 0 ? 0 : 10 + (i % 300));
        return { leafHash: hashLeaf(body), body };
      });
      entries[5] = { leafHash: hashLeaf(new Uint8Array(0)), body: new Uint8Array(0) }; // an empty entry is an entry
      await insertEntries(db, 0n, entries, 1_700_000_000);
      const e = await readEntry(db, 2999n);
      expect(e).toMatchObject({ index: 2999n, integratedTime: 1_700_000_000 });
      expect(e!.body).toEqual(entries[2999]!.body);
      expect((await readEntry(db, 5n))!.body.length).toBe(0);
      expect((await readEntryByLeafHash(db, entries[17]!.leafHash))!.index).toBe(17n);
      const found = await findEntries(db, [entries[3]!.leafHash, hashLeaf(testEntry('absent', 0)), entries[2000]!.leafHash]);
      expect(found.map((f) => f.index).sort()).toEqual([2000n, 3n]);
      expect((await readEntryRange(db, 10n, 20n)).map((x) => x.index)).toEqual([...Array(10).keys()].map((i) => BigInt(10 + i)));
      // A leaf hash is stored once: the whole statement fails.
      await expect(insertEntries(db, 3000n, [entries[0]!], 1)).rejects.toThrow();
    });

    it('writes tiles and bundles in one statement each, widening rows and never narrowing them', async () => {
      await writeTiles(db, [
        { level: 0, index: 0n, width: 256, data: tileData(256, 1) },
        { level: 0, index: 1n, width: 3, data: tileData(3, 2) },
        { level: 1, index: 0n, width: 1, data: tileData(1, 3) },
      ]);
      await writeTiles(db, [{ level: 0, index: 1n, width: 5, data: tileData(5, 2) }]);
      const rows = await readTiles(db, [{ level: 0, index: 1n }, { level: 1, index: 0n }, { level: 5, index: 9n }]);
      expect(rows.map((r) => [r.level, r.index, r.width, r.data.length]).sort()).toEqual([[0, 1n, 5, 160], [1, 0n, 1, 32]]);
      for (const stale of [
        { level: 0, index: 1n, width: 4, data: tileData(4, 2) }, // narrower
        { level: 0, index: 1n, width: 5, data: tileData(5, 2) }, // same width
        { level: 0, index: 0n, width: 256, data: tileData(256, 9) }, // a full tile again
      ]) {
        const err = await writeTiles(db, [stale]).then(() => undefined, (e: unknown) => e);
        expect(isLogError(err, 'corrupt_state')).toBe(true);
      }
      await expect(writeTiles(db, [{ level: 0, index: 2n, width: 2, data: tileData(3, 0) }])).rejects.toMatchObject({ code: 'invalid_argument' });
      await writeBundles(db, [{ index: 0n, width: 2, data: new Uint8Array([0, 1, 7, 0, 0]) }]);
      await writeBundles(db, [{ index: 0n, width: 3, data: new Uint8Array([0, 1, 7, 0, 0, 0, 0]) }]);
      expect(await readBundle(db, 0n)).toMatchObject({ index: 0n, width: 3 });
      const err = await writeBundles(db, [{ index: 0n, width: 2, data: new Uint8Array([0, 0, 0, 0]) }]).then(() => undefined, (e: unknown) => e);
      expect(isLogError(err, 'corrupt_state')).toBe(true);
      expect(await readBundle(db, 1n)).toBeUndefined();
    });

    it('queues pending entries once each and hands them out oldest first', async () => {
      const at = new Date(0);
      const pending = [0, 1, 2, 3].map((i) => ({ leafHash: hashLeaf(testEntry('pending', i)), body: testEntry('pending', i) }));
      for (const p of [...pending, pending[1]!]) await insertPending(db, p, at);
      expect(await hasPending(db)).toBe(true);
      const first = await db.transaction((tx) => takePending(tx, 3));
      expect(first.map((p) => p.body)).toEqual(pending.slice(0, 3).map((p) => p.body));
      // A rolled-back take leaves them queued.
      await db.transaction(async (tx) => {
        expect((await takePending(tx, 10)).length).toBe(1);
        throw new Error('roll back');
      }).catch(() => {});
      expect((await takePending(db, 10)).map((p) => p.body)).toEqual([pending[3]!.body]);
      expect(await hasPending(db)).toBe(false);
    });

    it('tells whether a checkpoint was signed in a size range', async () => {
      for (const size of [0n, 10n, 300n]) await insertCheckpoint(db, { size, root: new Uint8Array(32), note: `n${size}` }, new Date(0));
      expect(await hasCheckpointBetween(db, 10n, 11n)).toBe(true);
      expect(await hasCheckpointBetween(db, 11n, 300n)).toBe(false);
      expect(await hasCheckpointBetween(db, 256n, 512n)).toBe(true);
      await expect(insertCheckpoint(db, { size: 10n, root: new Uint8Array(32), note: 'again' }, new Date(0))).rejects.toThrow();
    });
  });
}
