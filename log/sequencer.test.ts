// The sequencer against real databases (PostgreSQL on a fresh schema, and PGlite in memory): batches,
// deduplication, limits and timers, each checked by an independent C2SP client over the read API.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../platform/db.ts';
import { MAX_ENTRY_SIZE } from '../tlog/entry-bundle.ts';
import { verifyInclusion } from '../tlog/proof.ts';
import { equalBytes, hashLeaf } from '../tlog/merkle.ts';
import {
  addAll, backends, expectRejected, fulfilled, openTestLog, testEntry, verifyLogFromReadApi, type Acknowledged,
} from '../test/log-fixtures.ts';
import { serviceAvailable } from '../test/services.ts';
import { readCheckpoints } from './store.ts';

const hasPostgres = await serviceAvailable('postgres');
// Opening PGlite takes seconds on a busy 2-core machine; hooks get the tests' budget.

async function metricValue(registry: import('prom-client').Registry, name: string): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values as Array<{ value: number }> | undefined)?.reduce((a, v) => a + v.value, 0) ?? 0;
}

for (const backend of backends(hasPostgres, 'logseq')) {
  describe(`sequencer on ${backend.name}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    beforeEach(async () => ({ db, drop } = await backend.open()));
    afterEach(async () => drop());

    it('appends thousands of entries in batches of every shape; a C2SP client verifies it all', async () => {
      const { log, signer } = await openTestLog(db, { config: { maxBatchEntries: 500 } });
      const acked: Acknowledged[] = [];
      // Batches that end inside, exactly at, and across tile boundaries, and one split in three.
      const shapes = [1, 255, 1, 254, 256, 300, 1200, 7, 513];
      let next = 0;
      for (const n of shapes) {
        const bodies = Array.from({ length: n }, (_, i) => testEntry('thousands', next + i, 40 + ((next + i) % 90)));
        const results = fulfilled(await addAll(log, bodies));
        results.forEach((r, i) => {
          expect(r.index).toBe(BigInt(next + i));
          expect(r.duplicate).toBe(false);
          acked.push({ body: bodies[i]!, result: r });
        });
        next += n;
      }
      expect((await log.getCheckpoint()).size).toBe(BigInt(next));
      expect(await verifyLogFromReadApi(log, signer, acked)).toBe(next);
      // One checkpoint per batch (1200 and 513 entries make three and two batches of at most 500),
      // plus size 0.
      expect((await readCheckpoints(db)).length).toBe(shapes.length + 2 + 1 + 1);
      await log.close();
    });

    it('answers duplicates with the existing entry, within a batch and across batches', async () => {
      const { log, signer, registry } = await openTestLog(db);
      const a = Array.from({ length: 10 }, (_, i) => testEntry('dup', i));
      const first = fulfilled(await addAll(log, [...a, a[3]!, a[3]!]));
      expect(first.map((r) => r.index)).toEqual([...a.keys()].map(BigInt).concat([3n, 3n]));
      expect(first.map((r) => r.duplicate)).toEqual([...a.map(() => false), true, true]);
      expect(first[0]!.size).toBe(10n);
      const b = testEntry('dup', 100);
      const second = fulfilled(await addAll(log, [a[5]!, b, a[0]!]));
      expect(second.map((r) => [r.index, r.duplicate])).toEqual([[5n, true], [10n, false], [0n, true]]);
      expect(second[0]!.integratedTime).toBe(first[5]!.integratedTime);
      // Only duplicates: no new checkpoint, proofs against the current one.
      const third = fulfilled(await addAll(log, [a[9]!]));
      expect(third[0]).toMatchObject({ index: 9n, duplicate: true, size: 11n });
      for (const r of [...first, ...second, ...third]) verifyInclusion(r.leafHash, r.index, r.size, r.inclusionProof, r.root);
      expect(await metricValue(registry, 'vigil_log_duplicates_total')).toBe(5);
      expect((await readCheckpoints(db)).map((c) => c.size)).toEqual([0n, 10n, 11n]);
      const acked = [...first, ...second].map((result, i) => ({ body: [...a, a[3]!, a[3]!, a[5]!, b, a[0]!][i]!, result }));
      expect(await verifyLogFromReadApi(log, signer, acked)).toBe(11);
      await log.close();
    });

    it('refuses an oversize entry before pooling, and bounds the pool by entries and bytes', async () => {
      const { log, registry } = await openTestLog(db, { config: { maxPendingEntries: 3, maxPendingBytes: 70_000 } });
      await expect(log.addEntry(new Uint8Array(MAX_ENTRY_SIZE + 1))).rejects.toMatchObject({ code: 'entry_too_large' });
      const big = log.addEntry(new Uint8Array(MAX_ENTRY_SIZE).fill(1));
      const small = [log.addEntry(testEntry('pool', 0)), log.addEntry(testEntry('pool', 0))]; // a twin takes no room
      await expect(log.addEntry(new Uint8Array(10_000))).rejects.toMatchObject({ code: 'overloaded' }); // bytes
      const third = log.addEntry(testEntry('pool', 1));
      await expect(log.addEntry(testEntry('pool', 2))).rejects.toMatchObject({ code: 'overloaded' }); // entries
      await log.flush();
      const results = await Promise.all([big, ...small, third]);
      expect(results.map((r) => r.index)).toEqual([0n, 1n, 1n, 2n]);
      expect(fulfilled(await addAll(log, [testEntry('pool', 2)]))[0]!.index).toBe(3n); // room again
      expect(await metricValue(registry, 'vigil_log_sequencer_errors_total')).toBe(3);
      await log.close();
    });

    it('integrates by itself when maxBatchEntries wait or maxBatchDelayMs passes', async () => {
      const { log } = await openTestLog(db, { config: { maxBatchEntries: 4, maxBatchDelayMs: 5 } });
      // Four entries fill a batch, which starts at once; a fifth waits for the timer.
      const results = await Promise.all([0, 1, 2, 3, 4].map((i) => log.addEntry(testEntry('timer', i))));
      expect(results.map((r) => r.size)).toEqual([4n, 4n, 4n, 4n, 5n]);
      // A lone entry is integrated by the timer.
      expect((await log.addEntry(testEntry('timer', 5))).size).toBe(6n);
      await log.close();
    });

    it('integrates 20,000 entries in large batches and a C2SP client verifies them', async () => {
      const { log, signer } = await openTestLog(db, { config: { maxBatchEntries: 4096 } });
      const bodies = Array.from({ length: 20_000 }, (_, i) => testEntry('rate', i, 512));
      const results = fulfilled(await addAll(log, bodies));
      expect(results[19_999]!.index).toBe(19_999n);
      const acked = [0, 4095, 4096, 19_999].map((i) => ({ body: bodies[i]!, result: results[i]! }));
      expect(await verifyLogFromReadApi(log, signer, acked)).toBe(20_000);
      await log.close();
    });
  });
}

describe.skipIf(!hasPostgres)('sequencer on pg, a tree of three tile levels', () => {
  it('grows past 65,536 entries and a C2SP client still verifies every tile and bundle', async () => {
    const { openTestPg } = await import('../test/db.ts');
    const { db, drop } = await openTestPg('logseq3');
    try {
      const { log, signer } = await openTestLog(db, { config: { maxBatchEntries: 25_000, maxPendingEntries: 80_000 } });
      const bodies = Array.from({ length: 70_000 }, (_, i) => testEntry('three levels', i, 8));
      const results = fulfilled(await addAll(log, bodies.slice(0, 65_535)));
      const more = fulfilled(await addAll(log, bodies.slice(65_535)));
      const acked = [0, 255, 65_534].map((i) => ({ body: bodies[i]!, result: results[i]! }))
        .concat([0, 1, 4464].map((i) => ({ body: bodies[65_535 + i]!, result: more[i]! })));
      for (const a of acked) expect(equalBytes(a.result.leafHash, hashLeaf(a.body))).toBe(true);
      expect(await verifyLogFromReadApi(log, signer, acked)).toBe(70_000);
      await log.close();
    } finally {
      await drop();
    }
  });
});
