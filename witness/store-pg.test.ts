// PgWitnessStore against the WitnessStore contract (test/witness-store-contract.ts) on real
// PostgreSQL (a fresh schema) and on PGlite in memory, plus what only SQL can break: scoping rows
// per witness, state surviving a reopened database, migrations, and the group commit (many swaps
// in one statement: one winner per state, first contacts mixed with updates, per-origin order, a
// failed statement failing its whole batch).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db, type SqlParam } from '../platform/db.ts';
import { EMPTY_ROOT, hashLeaf } from '../tlog/merkle.ts';
import { openTestPg, openTestPglite } from '../test/db.ts';
import { serviceAvailable } from '../test/services.ts';
import { itSatisfiesWitnessStoreContract } from '../test/witness-store-contract.ts';
import { migrateWitnessDb, WITNESS_MIGRATIONS } from './schema.ts';
import { MAX_BATCH_SWAPS, PgWitnessStore } from './store-pg.ts';
import type { CosignedCheckpoint } from './store.ts';

const hasPostgres = await serviceAvailable('postgres');
const ROOT = hashLeaf(new TextEncoder().encode('root'));
const rootOf = (s: string) => hashLeaf(new TextEncoder().encode(s));
const cp = (size: bigint, root: Uint8Array, note = `note ${size}\n`): CosignedCheckpoint => ({ size, root, note });

/** countingDb counts the swap statements sent to db, and fails them while `failing` is set. */
function countingDb(db: Db): { db: Db; statements: number; failing: boolean } {
  const counter = {
    statements: 0,
    failing: false,
    db: {
      kind: db.kind,
      query: async <R,>(sql: string, params?: readonly SqlParam[]): Promise<R[]> => {
        if (sql.includes('json_to_recordset')) {
          counter.statements++;
          if (counter.failing) throw new Error('connection lost');
        }
        return db.query<R>(sql, params);
      },
      transaction: (fn) => db.transaction(fn),
      close: () => db.close(),
    } satisfies Db,
  };
  return counter;
}

function suite(name: string, open: () => Promise<{ db: Db; drop: () => Promise<void> }>) {
  describe(name, () => {
    let db: Db;
    let drop: () => Promise<void>;
    let n = 0;
    beforeAll(async () => {
      ({ db, drop } = await open());
      expect(await migrateWitnessDb(db)).toEqual(WITNESS_MIGRATIONS.map((m) => m.id));
    });
    afterAll(async () => drop());

    // Each contract test gets a witness name of its own: an empty store over the shared table.
    itSatisfiesWitnessStoreContract(() => new PgWitnessStore(db, `w${++n}.example/witness`));

    it('keeps the rows of witnesses sharing one database apart', async () => {
      const a = new PgWitnessStore(db, 'a.example/witness');
      const b = new PgWitnessStore(db, 'b.example/witness');
      expect(await a.compareAndSwap('o', undefined, { size: 3n, root: ROOT, note: 'a\n' })).toBe(true);
      expect(await b.getLatest('o')).toBeUndefined();
      expect(await b.compareAndSwap('o', { size: 3n, root: ROOT }, { size: 4n, root: ROOT, note: 'b\n' })).toBe(false);
      expect(await b.compareAndSwap('o', undefined, { size: 0n, root: EMPTY_ROOT, note: 'b\n' })).toBe(true);
      expect((await a.getLatest('o'))?.size).toBe(3n);
      expect(await a.origins()).toEqual(['o']);
    });

    it('group-commits concurrent swaps: one statement for many, exactly one winner per state', async () => {
      const c = countingDb(db);
      const store = new PgWitnessStore(c.db, `batch${++n}.example/witness`);
      const origins = Array.from({ length: 40 }, (_, i) => `o${i}`);
      // Every origin gets five racing first contacts, all called in the same turn.
      const first = await Promise.all(origins.flatMap((o) => [1, 2, 3, 4, 5].map((k) => store.compareAndSwap(o, undefined, cp(BigInt(k), rootOf(`${o}/${k}`))))));
      expect(first.filter(Boolean)).toHaveLength(origins.length);
      // At most one swap per origin per statement: five statements, not 200 (on PostgreSQL the
      // first swap goes alone, before the others queue behind it).
      expect(c.statements).toBe(db.kind === 'pg' ? 6 : 5);
      const states = await Promise.all(origins.map((o) => store.getLatest(o)));
      // Then five racing swaps from each origin's state: one wins per origin.
      c.statements = 0;
      const swaps = origins.flatMap((o, i) => [6n, 7n, 8n, 9n, 10n].map((size) => ({ o, size, p: store.compareAndSwap(o, states[i]!, cp(size, rootOf(`${o}/${size}`))) })));
      const won = await Promise.all(swaps.map((s) => s.p));
      for (const o of origins) expect(swaps.filter((s, i) => s.o === o && won[i])).toHaveLength(1);
      expect(c.statements).toBe(db.kind === 'pg' ? 6 : 5);
      for (const [i, s] of swaps.entries()) if (won[i]) expect(await store.getLatest(s.o)).toEqual(cp(s.size, rootOf(`${s.o}/${s.size}`)));
    });

    it('mixes first contacts and updates in one batch, and keeps the order of swaps of one origin', async () => {
      const c = countingDb(db);
      const store = new PgWitnessStore(c.db, `mixed${++n}.example/witness`);
      await store.compareAndSwap('old', undefined, cp(3n, ROOT));
      await store.compareAndSwap('taken', undefined, cp(1n, ROOT));
      c.statements = 0;
      const results = await Promise.all([
        store.compareAndSwap('old', { size: 3n, root: ROOT }, cp(4n, rootOf('4'))),
        store.compareAndSwap('new', undefined, cp(1n, rootOf('1'))),
        store.compareAndSwap('taken', undefined, cp(2n, rootOf('2'))),
        store.compareAndSwap('stale', { size: 1n, root: ROOT }, cp(2n, rootOf('2'))),
        // Expects the state the first swap of 'old' writes: only correct if sent after it.
        store.compareAndSwap('old', { size: 4n, root: rootOf('4') }, cp(5n, rootOf('5'))),
      ]);
      expect(results).toEqual([true, true, false, false, true]);
      expect(c.statements).toBe(2);
      expect(await store.getLatest('old')).toEqual(cp(5n, rootOf('5')));
      expect(await store.getLatest('new')).toEqual(cp(1n, rootOf('1')));
      expect(await store.getLatest('taken')).toEqual(cp(1n, ROOT));
      expect(await store.getLatest('stale')).toBeUndefined();
    });

    it(`bounds a batch at ${MAX_BATCH_SWAPS} swaps`, async () => {
      const c = countingDb(db);
      const store = new PgWitnessStore(c.db, `bound${++n}.example/witness`);
      const count = MAX_BATCH_SWAPS * 2 + 1;
      const won = await Promise.all(Array.from({ length: count }, (_, i) => store.compareAndSwap(`o${i}`, undefined, cp(1n, ROOT))));
      expect(won.every(Boolean)).toBe(true);
      expect(c.statements).toBe(db.kind === 'pg' ? 1 + Math.ceil((count - 1) / MAX_BATCH_SWAPS) : Math.ceil(count / MAX_BATCH_SWAPS));
      expect(await store.origins()).toHaveLength(count);
    });

    it('rejects every swap of a failed statement (outcome unknown), and keeps going after', async () => {
      const c = countingDb(db);
      const store = new PgWitnessStore(c.db, `fail${++n}.example/witness`);
      c.failing = true;
      const swaps = ['a', 'b', 'c'].map((o) => store.compareAndSwap(o, undefined, cp(1n, ROOT)));
      const settled = await Promise.allSettled(swaps);
      expect(settled.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      c.failing = false;
      expect(await store.compareAndSwap('a', undefined, cp(1n, ROOT))).toBe(true);
      expect(await store.origins()).toEqual(['a']);
    });

    it('applies its migrations once', async () => {
      expect(await migrateWitnessDb(db)).toEqual([]);
    });
  });
}

describe.skipIf(!hasPostgres)('PgWitnessStore on PostgreSQL', () => suite('fresh schema', () => openTestPg('witness_store')));
suite('PgWitnessStore on PGlite (memory)', openTestPglite);

describe('PgWitnessStore on PGlite in a folder', () => {
  it('keeps the state across a reopened database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-witness-store-'));
    try {
      let db = await openDb({ dataDir: dir });
      await migrateWitnessDb(db);
      await new PgWitnessStore(db, 'w').compareAndSwap('o', undefined, { size: 9n, root: ROOT, note: 'n\n' });
      await db.close();
      db = await openDb({ dataDir: dir });
      expect(await migrateWitnessDb(db)).toEqual([]);
      expect(await new PgWitnessStore(db, 'w').getLatest('o')).toEqual({ size: 9n, root: ROOT, note: 'n\n' });
      await db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
