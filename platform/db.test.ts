// The same SQL against both drivers: real PostgreSQL (a fresh schema) and PGlite (in memory).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from './db.ts';
import { applyMigrations, type Migration } from './migrate.ts';
import { openTestPg, openTestPglite } from '../test/db.ts';
import { serviceAvailable } from '../test/services.ts';

const hasPostgres = await serviceAvailable('postgres');

const MIGRATIONS: Migration[] = [
  { id: '0001-things', sql: 'CREATE TABLE things (id bigint PRIMARY KEY, data bytea NOT NULL, note text)' },
  { id: '0002-index', sql: 'CREATE INDEX things_note ON things (note)' },
];

function suite(name: string, open: () => Promise<{ db: Db; drop: () => Promise<void> }>) {
  describe(name, () => {
    let db: Db;
    let drop: () => Promise<void>;
    beforeAll(async () => ({ db, drop } = await open()));
    afterAll(async () => drop());

    it('applies migrations once, in order', async () => {
      expect(await applyMigrations(db, 'test', MIGRATIONS)).toEqual(['0001-things', '0002-index']);
      expect(await applyMigrations(db, 'test', MIGRATIONS)).toEqual([]);
    });

    it('refuses to run against a database with unknown migrations', async () => {
      await expect(applyMigrations(db, 'test', MIGRATIONS.slice(0, 1))).rejects.toThrow(/does not know: 0002-index/);
    });

    it('returns int8 as bigint and bytea as Uint8Array, beyond 2^53', async () => {
      const big = 2n ** 63n - 1n;
      await db.query('INSERT INTO things (id, data, note) VALUES ($1, $2, $3)', [big, new Uint8Array([1, 2, 255]), 'x']);
      const rows = await db.query<{ id: bigint; data: Uint8Array }>('SELECT id, data FROM things WHERE id = $1', [big]);
      expect(rows[0]?.id).toBe(big);
      expect(rows[0]?.data).toBeInstanceOf(Uint8Array);
      expect([...rows[0]!.data]).toEqual([1, 2, 255]);
    });

    it('commits a transaction that resolves and rolls back one that throws', async () => {
      await db.transaction(async (tx) => {
        await tx.query('INSERT INTO things (id, data) VALUES (1, $1)', [new Uint8Array(1)]);
      });
      await expect(db.transaction(async (tx) => {
        await tx.query('INSERT INTO things (id, data) VALUES (2, $1)', [new Uint8Array(1)]);
        throw new Error('boom');
      })).rejects.toThrow('boom');
      const ids = await db.query<{ id: bigint }>('SELECT id FROM things WHERE id IN (1, 2) ORDER BY id');
      expect(ids.map((r) => r.id)).toEqual([1n]);
    });
  });
}

describe.skipIf(!hasPostgres)('PostgreSQL driver', () => suite('pg', () => openTestPg('db')));
suite('PGlite driver', openTestPglite);

describe.skipIf(!hasPostgres)('migrations started by several processes at once', () => {
  it('apply exactly once on a new schema, with no catalog race on the schema or the migrations table', async () => {
    const { db, drop } = await openTestPg('migrate_race');
    try {
      // Eight handles with their own pools stand for eight processes starting together, on a
      // schema none of them has created yet.
      const schema = `${(await db.query<{ s: string }>('SELECT current_schema() AS s'))[0]!.s}_new`;
      const { openDb } = await import('./db.ts');
      const { POSTGRES_URL } = await import('../test/services.ts');
      const handles = await Promise.all(Array.from({ length: 8 }, () => openDb({ url: POSTGRES_URL, schema })));
      try {
        const applied = await Promise.all(handles.map((h) => applyMigrations(h, 'race', MIGRATIONS)));
        expect(applied.flat().sort()).toEqual(['0001-things', '0002-index']);
      } finally {
        await Promise.all(handles.map((h) => h.close()));
        await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      }
    } finally {
      await drop();
    }
  });
});
