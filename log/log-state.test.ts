// initLog creates a log once; loadLog (start-up and recovery) refuses a missing log, another key or
// origin, and every kind of corrupted stored state, rather than sign over it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../platform/db.ts';
import { openCheckpoint } from '../tlog/checkpoint.ts';
import { EMPTY_ROOT, equalBytes } from '../tlog/merkle.ts';
import { newEd25519Verifier, type Ed25519Signer } from '../tlog/note-ed25519.ts';
import { flipBit } from '../test/bytes.ts';
import { TEST_ORIGIN, addAll, backends, fulfilled, newSigner, openTestLog, testEntry } from '../test/log-fixtures.ts';
import { serviceAvailable } from '../test/services.ts';
import { isLogError, type LogErrorCode } from './errors.ts';
import { initLog, loadLog } from './log-state.ts';
import { applyLogMigrations } from './schema.ts';

const hasPostgres = await serviceAvailable('postgres');
// Opening PGlite takes seconds on a busy 2-core machine; hooks get the tests' budget.

async function expectCode(p: Promise<unknown>, code: LogErrorCode): Promise<void> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(isLogError(err, code), `want LogError ${code}, got ${String(err)}`).toBe(true);
}

// A corruption changes stored rows with `apply` and puts them back with the returned function.
interface Corruption {
  name: string;
  apply(db: Db): Promise<() => Promise<void>>;
}

async function flipColumn(db: Db, table: string, column: string, where: string): Promise<() => Promise<void>> {
  const [row] = await db.query<Record<string, Uint8Array>>(`SELECT ${column} AS v FROM ${table} WHERE ${where}`);
  const original = row!.v!;
  await db.query(`UPDATE ${table} SET ${column} = $1 WHERE ${where}`, [flipBit(original, 8 * original.length - 1)]);
  return async () => void (await db.query(`UPDATE ${table} SET ${column} = $1 WHERE ${where}`, [original]));
}

// The log below has 600 entries: edge tiles 0/2.p/88 and 1/0.p/2, partial bundle 2.p/88.
const CORRUPTIONS: Corruption[] = [
  { name: 'a flipped bit in the level-0 edge tile', apply: (db) => flipColumn(db, 'log_tiles', 'data', 'level = 0 AND idx = 2') },
  { name: 'a flipped bit in the level-1 edge tile', apply: (db) => flipColumn(db, 'log_tiles', 'data', 'level = 1 AND idx = 0') },
  { name: 'a flipped bit in the partial entry bundle', apply: (db) => flipColumn(db, 'log_bundles', 'data', 'idx = 2') },
  { name: 'a flipped bit in the stored root', apply: (db) => flipColumn(db, 'log_state', 'root', 'true') },
  {
    name: 'an edge tile wider than the size (tiles ahead of the state)',
    apply: async (db) => {
      await db.query(`UPDATE log_tiles SET width = 89, data = data || $1 WHERE level = 0 AND idx = 2`, [new Uint8Array(32)]);
      return async () => void (await db.query('UPDATE log_tiles SET width = 88, data = substring(data FROM 1 FOR 88 * 32) WHERE level = 0 AND idx = 2'));
    },
  },
  {
    name: 'a missing edge tile',
    apply: async (db) => {
      const [row] = await db.query<{ data: Uint8Array }>('SELECT data FROM log_tiles WHERE level = 1 AND idx = 0');
      await db.query('DELETE FROM log_tiles WHERE level = 1 AND idx = 0');
      return async () => void (await db.query('INSERT INTO log_tiles (level, idx, width, data) VALUES (1, 0, 2, $1)', [row!.data]));
    },
  },
  {
    name: 'a missing last entry',
    apply: async (db) => {
      const [row] = await db.query<{ leaf_hash: Uint8Array; body: Uint8Array }>('SELECT leaf_hash, body FROM log_entries WHERE idx = 599');
      await db.query('DELETE FROM log_entries WHERE idx = 599');
      return async () => void (await db.query(
        'INSERT INTO log_entries (idx, leaf_hash, body, integrated_time) VALUES (599, $1, $2, 1)', [row!.leaf_hash, row!.body],
      ));
    },
  },
  {
    name: 'an entry beyond the size',
    apply: async (db) => {
      await db.query(`INSERT INTO log_entries (idx, leaf_hash, body, integrated_time) VALUES (600, $1, '\\x00', 1)`, [new Uint8Array(32).fill(9)]);
      return async () => void (await db.query('DELETE FROM log_entries WHERE idx = 600'));
    },
  },
];

for (const backend of backends(hasPostgres, 'logstate')) {
  describe(`initLog and loadLog on ${backend.name}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    let signer: Ed25519Signer;
    beforeAll(async () => {
      ({ db, drop } = await backend.open());
      signer = newSigner();
    });
    afterAll(async () => drop());

    it('refuses to load a log that was never created', async () => {
      await applyLogMigrations(db);
      await expectCode(loadLog(db, { origin: TEST_ORIGIN, signer }), 'log_missing');
    });

    it('creates the empty log once, with a signed size-0 checkpoint, and refuses to create it again', async () => {
      await expectCode(initLog(db, { origin: 'another.origin/log', signer }), 'config_mismatch'); // key name ≠ origin
      const state = await initLog(db, { origin: TEST_ORIGIN, signer });
      expect(state.size).toBe(0n);
      const cp = openCheckpoint(state.checkpoint, [newEd25519Verifier(signer.name, signer.publicKey)], { origin: TEST_ORIGIN });
      expect(cp.checkpoint.size).toBe(0n);
      expect(equalBytes(cp.checkpoint.root, EMPTY_ROOT)).toBe(true);
      await expectCode(initLog(db, { origin: TEST_ORIGIN, signer }), 'log_exists');
      await expectCode(initLog(db, { origin: TEST_ORIGIN, signer: newSigner() }), 'log_exists');
      expect((await loadLog(db, { origin: TEST_ORIGIN, signer })).checkpoint).toBe(state.checkpoint);
    });

    it('refuses another key or origin', async () => {
      await expectCode(loadLog(db, { origin: TEST_ORIGIN, signer: newSigner() }), 'config_mismatch');
      await expectCode(loadLog(db, { origin: 'other.example/log', signer: newSigner('other.example/log') }), 'config_mismatch');
    });

    it.each(CORRUPTIONS)('refuses to start over $name, and starts again once repaired', async ({ apply }) => {
      if ((await loadLog(db, { origin: TEST_ORIGIN, signer })).size === 0n) {
        const { log } = await openTestLog(db, { signer, init: false });
        fulfilled(await addAll(log, Array.from({ length: 600 }, (_, i) => testEntry('state', i))));
        await log.close();
      }
      const repair = await apply(db);
      await expectCode(loadLog(db, { origin: TEST_ORIGIN, signer }), 'corrupt_state');
      await expectCode(openTestLog(db, { signer, init: false }), 'corrupt_state');
      await repair();
      const state = await loadLog(db, { origin: TEST_ORIGIN, signer });
      expect(state.size).toBe(600n);
      expect(state.bundle.length).toBe(88);
    });
  });
}
