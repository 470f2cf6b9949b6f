// The findings outbox on both databases: idempotent by key, read back in commit order, and a
// concurrent writer that commits late cannot slip behind a reader's cursor.
import { afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../platform/db.ts';
import { applyMigrations } from '../platform/migrate.ts';
import { openTestPg, openTestPglite } from '../test/db.ts';
import { serviceAvailable } from '../test/services.ts';
import { FINDINGS_MIGRATION, findingKey, insertFindings, logFindingKey, readFindingsAfter, type Finding } from './findings.ts';

const hasPostgres = await serviceAvailable('postgres');

function entryFinding(index: bigint, ruleId: string): Finding {
  return {
    key: findingKey('log.example/a', index, ruleId),
    kind: 'identity-used',
    logOrigin: 'log.example/a',
    index,
    ruleId,
    subscriberId: 's1',
    summary: `"alice@example.com" signed entry ${index}`,
    details: { index: index.toString(), san: 'alice@example.com' },
    observedAt: new Date('2026-12-04T10:00:00Z'),
  };
}

function suite(open: () => Promise<{ db: Db; drop: () => Promise<void> }>, concurrent: boolean) {
  let opened: { db: Db; drop: () => Promise<void> } | undefined;
  afterEach(async () => {
    await opened?.drop();
    opened = undefined;
  });
  const start = async () => {
    opened = await open();
    await applyMigrations(opened.db, 'monitor', [FINDINGS_MIGRATION]);
    return opened.db;
  };

  it('inserts each key once and reads findings back after a cursor, in order', async () => {
    const db = await start();
    expect(await db.transaction((tx) => insertFindings(tx, [entryFinding(1n, 'r:a'), entryFinding(2n, 'r:a')]))).toBe(2);
    // A range processed again (a killed worker's retry) adds nothing.
    expect(await db.transaction((tx) => insertFindings(tx, [entryFinding(2n, 'r:a'), entryFinding(2n, 'r:b')]))).toBe(1);
    const health: Finding = {
      key: logFindingKey('health', 'log.example/a', 'bad signature at size 9'),
      kind: 'health', logOrigin: 'log.example/a', index: null, ruleId: null, subscriberId: null,
      summary: 'checkpoint signature did not verify', details: { note: 'x' }, observedAt: new Date(),
    };
    expect(await db.transaction((tx) => insertFindings(tx, [health]))).toBe(1);
    const all = await readFindingsAfter(db, 0n, 10);
    expect(all.map((f) => [f.index, f.ruleId, f.kind])).toEqual([[1n, 'r:a', 'identity-used'], [2n, 'r:a', 'identity-used'], [2n, 'r:b', 'identity-used'], [null, null, 'health']]);
    expect(all[0]!.details).toEqual({ index: '1', san: 'alice@example.com' });
    expect(all[0]!.observedAt.toISOString()).toBe('2026-12-04T10:00:00.000Z');
    const after = await readFindingsAfter(db, all[1]!.seq, 1);
    expect(after.map((f) => f.ruleId)).toEqual(['r:b']);
    expect(findingKey('log.example/a', 1n, 'r:a')).not.toBe(findingKey('log.example/a', 1n, 'r:b'));
  });

  // PGlite has one connection, so its transactions never overlap (and a read waits for them).
  it.skipIf(!concurrent)('orders seq by commit: a writer that started first cannot commit behind a reader', async () => {
    const db = await start();
    let releaseFirst!: () => void;
    const held = new Promise<void>((r) => (releaseFirst = r));
    let firstInserted!: () => void;
    const inserted = new Promise<void>((r) => (firstInserted = r));
    const first = db.transaction(async (tx) => {
      await insertFindings(tx, [entryFinding(10n, 'r:a')]);
      firstInserted();
      await held;
    });
    await inserted;
    // The second writer waits for the first one's lock, so it cannot take a later seq and commit first.
    const second = db.transaction((tx) => insertFindings(tx, [entryFinding(11n, 'r:a')]));
    await new Promise((r) => setTimeout(r, 100));
    expect(await readFindingsAfter(db, 0n, 10)).toEqual([]);
    releaseFirst();
    await Promise.all([first, second]);
    const all = await readFindingsAfter(db, 0n, 10);
    expect(all.map((f) => f.index)).toEqual([10n, 11n]);
  });
}

describe('findings on PGlite', () => suite(openTestPglite, false));
describe.skipIf(!hasPostgres)('findings on PostgreSQL', () => suite(() => openTestPg('findings'), true));
