// PgWitnessStore against the WitnessStore contract (test/witness-store-contract.ts) on real
// PostgreSQL (a fresh schema) and on PGlite in memory, plus what only SQL can break: scoping rows
// per witness, state surviving a reopened database, and migrations.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../platform/db.ts';
import { EMPTY_ROOT, hashLeaf } from '../tlog/merkle.ts';
import { openTestPg, openTestPglite } from '../test/db.ts';
import { serviceAvailable } from '../test/services.ts';
import { itSatisfiesWitnessStoreContract } from '../test/witness-store-contract.ts';
import { migrateWitnessDb, WITNESS_MIGRATIONS } from './schema.ts';
import { PgWitnessStore } from './store-pg.ts';

const hasPostgres = await serviceAvailable('postgres');
const ROOT = hashLeaf(new TextEncoder().encode('root'));

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
