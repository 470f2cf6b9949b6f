// The monitor as operators run it (issue 5, "Done when"): `vigil monitor tail` (two of them: one
// leads, one waits) and `vigil monitor work` (two) as real processes on PostgreSQL and Redis,
// following a loopback log whose bundles are served slowly so that workers are mid-range when
// they die. A worker and then the leading tailer are SIGKILLed; replacements start; the log grows
// meanwhile. At the end every watched entry has exactly one finding (none lost, none twice) and
// the cursor reached the head. And the embedded mode: `vigil monitor run` without Redis, on
// PGlite, followed through its /metrics.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { verifySearchResult } from '../../monitor/search-verify.ts';
import { openDb, type Db } from '../../platform/db.ts';
import { parseVerifierKey } from '../../tlog/note-key.ts';
import { freshSchemaName } from '../db.ts';
import { EntryLog, keyFingerprint, newTestKey, serveFiles, signedLeaves } from '../monitor-log.ts';
import { POSTGRES_URL, REDIS_URL, serviceAvailable } from '../services.ts';
import { killVigilProcesses, spawnVigil, startVigil, type VigilProcess } from '../vigil-process.ts';

const ready = (await serviceAvailable('postgres')) && (await serviceAvailable('redis'));
const ORIGIN = 'log.monitor.test/crash';
const dirs: string[] = [];

afterAll(() => {
  killVigilProcesses();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** start runs `vigil monitor <args>` without waiting: the test follows progress in the database. */
const start = (args: string[], env: NodeJS.ProcessEnv) => spawnVigil(['monitor', ...args], env);

// until polls the database for a condition; it bounds the wait, it asserts no timing.
async function until(what: string, cond: () => Promise<boolean>, procs: VigilProcess[], limitMs = 180_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; output:\n${procs.map((p) => p.output()).join('\n---\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function count(db: Db, sql: string, params: (string | bigint)[] = []): Promise<bigint> {
  const rows = await db.query<{ n: bigint }>(sql, params);
  return rows[0]?.n ?? 0n;
}

describe.skipIf(!ready)('monitor processes killed mid-range (PostgreSQL + Redis)', () => {
  it('loses no finding and duplicates none when a worker and the leading tailer are SIGKILLed', { timeout: 300_000 }, async () => {
    const watched = newTestKey('P-256');
    const other = newTestKey('P-256');
    const watchedLeaves = signedLeaves(watched, 40);
    const filler = signedLeaves(other, 300);
    // 10 bundles of entries, a watched entry every 64th; later 2 more bundles.
    const build = (from: number, n: number, w: number) =>
      Array.from({ length: n }, (_, i) => ((from + i) % 64 === 5 ? watchedLeaves[w++ % watchedLeaves.length]! : filler[(from + i) % filler.length]!));
    const log = new EntryLog(ORIGIN).append(build(0, 2560, 0));
    const server = await serveFiles(log.files);
    server.bundleDelayMs = 400;
    const dir = mkdtempSync(join(tmpdir(), 'vigil-monitor-crash-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'rules.json'), JSON.stringify({ rules: [{ id: 'w', subscriberId: 's', target: 'key', match: 'exact', pattern: await keyFingerprint(watched) }] }));
    writeFileSync(
      join(dir, 'monitor.json'),
      JSON.stringify({
        logs: [{ origin: ORIGIN, url: server.url, verifierKeys: [log.key.vkey], entryFormat: 'rekor' }],
        rulesFile: 'rules.json',
        pollIntervalMs: 200,
        // One bundle per range: many commits for the kills to land between.
        entriesPerJob: 256,
        leaseMs: 1500,
        jobLockMs: 2000,
        requeueAfterMs: 5000,
        workerConcurrency: 2,
      }),
    );
    const schema = freshSchemaName('moncrash');
    const db = await openDb({ url: POSTGRES_URL, schema });
    const env = { VIGIL_DATABASE_URL: POSTGRES_URL, VIGIL_DATABASE_SCHEMA: schema, VIGIL_REDIS_URL: REDIS_URL, VIGIL_REDIS_PREFIX: `vt${randomBytes(4).toString('hex')}` };
    const cfg = ['--config', join(dir, 'monitor.json')];
    try {
      const tailerA = start(['tail', ...cfg], env);
      const tailerB = start(['tail', ...cfg], env);
      const worker1 = start(['work', ...cfg], env);
      const worker2 = start(['work', ...cfg], env);
      const all = [tailerA, tailerB, worker1, worker2];
      const tableReady = async () => (await db.query<{ t: string | null }>("SELECT to_regclass('monitor_ranges')::text AS t"))[0]?.t != null;
      await until('the first ranges done', async () => (await tableReady()) && (await count(db, "SELECT count(*) AS n FROM monitor_ranges WHERE state = 'done'")) >= 2n, all);
      await worker1.kill(); // it was running two ranges (400 ms per bundle fetch)
      const worker3 = start(['work', ...cfg], env);
      // Kill whichever tailer leads: both, one after the other, with a new one started between.
      await tailerA.kill();
      const tailerC = start(['tail', ...cfg], env);
      log.append(build(2560, 512, 2560 / 64));
      await until('the new head verified', async () => (await count(db, 'SELECT max(size) AS n FROM monitor_checkpoints WHERE origin = $1', [ORIGIN])) === 3072n, [tailerB, tailerC]);
      await tailerB.kill();
      server.bundleDelayMs = 0;
      const live = [tailerC, worker2, worker3];
      await until('every range done', async () => (await count(db, "SELECT count(*) AS n FROM monitor_ranges WHERE state <> 'done'")) === 0n && (await count(db, 'SELECT next_index AS n FROM monitor_logs')) === 3072n, live);
      const rows = await db.query<{ entry_index: bigint; kind: string }>('SELECT entry_index, kind FROM monitor_findings ORDER BY entry_index');
      const want = Array.from({ length: 3072 }, (_, i) => i).filter((i) => i % 64 === 5).map(BigInt);
      expect(rows.map((r) => r.entry_index)).toEqual(want);
      expect(new Set(rows.map((r) => r.kind))).toEqual(new Set(['key-used']));
      // Every entry is in the search index once, committed with its range.
      expect(await count(db, 'SELECT count(DISTINCT log_index) AS n FROM monitor_search_entries')).toBe(3072n);
      expect(await count(db, 'SELECT count(*) AS n FROM monitor_search_entries')).toBe(3072n);
      for (const p of live) await p.kill();
    } finally {
      await server.close();
      await db.close();
      const admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  });
});

describe('vigil monitor run (embedded: PGlite, in-process queue)', () => {
  it('follows a log to its head and reports it in /metrics', { timeout: 180_000 }, async () => {
    const watched = newTestKey('P-256');
    const filler = signedLeaves(newTestKey('P-256'), 10);
    const bodies = Array.from({ length: 300 }, (_, i) => filler[i % 10]!);
    bodies[42] = signedLeaves(watched, 1)[0]!;
    const log = new EntryLog(ORIGIN).append(bodies);
    const server = await serveFiles(log.files);
    const dir = mkdtempSync(join(tmpdir(), 'vigil-monitor-run-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'rules.json'), JSON.stringify({ rules: [{ id: 'w', subscriberId: 's', target: 'key', match: 'exact', pattern: await keyFingerprint(watched) }] }));
    writeFileSync(join(dir, 'monitor.json'), JSON.stringify({ logs: [{ origin: ORIGIN, url: server.url, verifierKeys: [log.key.vkey] }], rulesFile: 'rules.json', pollIntervalMs: 200 }));
    // Embedded: no database URL, no Redis, whatever this machine's environment says.
    const env = { VIGIL_DATABASE_URL: undefined, VIGIL_REDIS_URL: undefined, VIGIL_DATABASE_SCHEMA: undefined };
    let run: VigilProcess | undefined;
    try {
      run = await startVigil(['monitor', 'run', '--config', join(dir, 'monitor.json'), '--data', join(dir, 'data'), '--listen', '127.0.0.1:0'], env, /metrics at (http:\/\/\S+), search at/);
      const metricsUrl = run.url;
      const value = (text: string, name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
      let text = '';
      for (let i = 0; i < 1200; i++) {
        text = await (await fetch(metricsUrl)).text();
        if (value(text, 'vigil_monitor_cursor_entries') === 300) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(value(text, 'vigil_monitor_cursor_entries')).toBe(300);
      expect(value(text, 'vigil_monitor_head_size_entries')).toBe(300);
      expect(text).toMatch(/vigil_monitor_findings_total\{[^}]*kind="key-used"[^}]*\} 1$/m);
      // The search API of the same process: the watched key's entry, read from the log's bundle,
      // with its inclusion proof; it verifies as `vigil search` verifies it.
      const base = metricsUrl.replace(/\/metrics$/, '');
      const query = { keyFingerprint: await keyFingerprint(watched) };
      const found = (await (await fetch(`${base}/api/v1/search?key=${query.keyFingerprint}`)).json()) as { results: { index: string; body: string; inclusion_proof: { tree_size: string } }[] };
      expect(found.results.map((r) => [r.index, r.inclusion_proof.tree_size])).toEqual([['42', '300']]);
      expect(Buffer.from(found.results[0]!.body, 'base64').equals(Buffer.from(bodies[42]!))).toBe(true);
      const verified = verifySearchResult(found.results[0], query, new Map([[ORIGIN, [parseVerifierKey(log.key.vkey)]]]));
      expect(verified).toMatchObject({ signatureChecked: true, treeSize: 300n, event: { keyFingerprint: query.keyFingerprint } });
    } finally {
      await run?.kill('SIGTERM');
      await server.close();
    }
  });
});
