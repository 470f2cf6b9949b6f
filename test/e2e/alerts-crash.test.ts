// The alert worker as operators run it, killed mid-work (issue 6, "no duplicates across worker
// restarts"): `vigil alerts work` in a child process on PostgreSQL, sending to a real SMTP server,
// SIGKILLed again and again while findings arrive, restarted on the same database. At the end every
// finding has exactly one delivery and one mail row; no message reached the SMTP server twice; and a
// mail that is not 'sent' is 'unknown' only because a kill hit it in flight (at most one per kill).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../platform/db.ts';
import { findingKey, insertFindings, type Finding } from '../../monitor/findings.ts';
import { migrateAlertsDb } from '../../alerts/schema.ts';
import { freshSchemaName } from '../db.ts';
import { POSTGRES_URL, serviceAvailable } from '../services.ts';
import { killVigilProcesses, startVigil, type VigilProcess } from '../vigil-process.ts';
import { startTestSmtp } from './alerts-harness.ts';

const hasPostgres = await serviceAvailable('postgres');
const KILLS = Number(process.env.VIGIL_ALERTS_KILLS ?? 6);
const PER_ROUND = 8;
const ORIGIN = 'log.vigil.test/crash';
const KEY = 'ab'.repeat(32);
const dirs: string[] = [];

afterAll(() => {
  killVigilProcesses();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** work starts `vigil alerts work` and resolves once it prints `working`. */
function work(args: string[], env: NodeJS.ProcessEnv): Promise<VigilProcess> {
  return startVigil(['alerts', 'work', ...args], { VIGIL_LOG_LEVEL: 'error', ...env }, /^working$/);
}

async function until(what: string, check: () => Promise<boolean> | boolean, deadlineMs = 60_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function finding(index: bigint): Finding {
  const ruleId = 'r:w_crash';
  return {
    key: findingKey(ORIGIN, index, ruleId), kind: 'key-used', logOrigin: ORIGIN, index, ruleId, subscriberId: 's_crash',
    summary: 'key matches', details: { event: { keyFingerprint: KEY, identity: { kind: 'key', san: KEY } }, value: KEY, reason: 'key matches' }, observedAt: new Date(),
  };
}

describe.skipIf(!hasPostgres)('alert worker killed with SIGKILL', () => {
  it('never sends a mail twice and accounts for every finding', async () => {
    const smtp = await startTestSmtp();
    const schema = freshSchemaName('alerts_crash');
    const db: Db = await openDb({ url: POSTGRES_URL, schema });
    const dir = mkdtempSync(join(tmpdir(), 'vigil-alerts-crash-'));
    dirs.push(dir);
    try {
      await migrateAlertsDb(db);
      await db.query(`INSERT INTO alerts_subscribers (id, email, email_key, state, delivery, follow_logs, created_at) VALUES ('s_crash', 'k@example.com', 'k@example.com', 'confirmed', 'immediate', '[]', now())`);
      await db.query(`INSERT INTO alerts_rules (id, subscriber_id, kind, body, created_at) VALUES ('w_crash', 's_crash', 'rule', $1, now())`, [JSON.stringify({ id: 'w_crash', subscriberId: 's_crash', target: 'key', match: 'exact', pattern: KEY })]);
      writeFileSync(join(dir, 'alerts.json'), JSON.stringify({ pollIntervalMs: 20, sendLeaseMs: 1000, sendConcurrency: 1, findingsBatch: 3 }));
      const env = { VIGIL_DATABASE_URL: POSTGRES_URL, VIGIL_DATABASE_SCHEMA: schema, VIGIL_SMTP_URL: smtp.url, VIGIL_ALERTS_PUBLIC_URL: 'http://alerts.vigil.test' };
      const args = ['--config', join(dir, 'alerts.json'), '--data', dir];
      let next = 0n;
      for (let k = 0; k < KILLS; k++) {
        const worker = await work(args, env);
        const seen = smtp.mails.length;
        await db.transaction((tx) => insertFindings(tx, Array.from({ length: PER_ROUND }, () => finding(next++))));
        await until('a mail of this round', () => smtp.mails.length > seen);
        await new Promise((r) => setTimeout(r, Math.random() * 60));
        await worker.kill();
      }
      const last = await work(args, env);
      const total = Number(next);
      // Leases of the killed workers' claims end; then every message is final.
      await until('every message final', async () => {
        const rows = await db.query<{ n: bigint }>(`SELECT count(*)::int8 AS n FROM alerts_messages WHERE state NOT IN ('sent', 'unknown')`);
        const all = await db.query<{ n: bigint }>('SELECT count(*)::int8 AS n FROM alerts_messages');
        return rows[0]!.n === 0n && Number(all[0]!.n) === total;
      });
      await last.kill();
      const ids = smtp.mails.map((m) => m.headers.get('message-id'));
      expect(new Set(ids).size).toBe(ids.length);
      const states = await db.query<{ state: string; n: bigint }>('SELECT state, count(*)::int8 AS n FROM alerts_messages GROUP BY state');
      const count = (s: string) => Number(states.find((r) => r.state === s)?.n ?? 0n);
      const deliveries = await db.query<{ n: bigint }>('SELECT count(*)::int8 AS n FROM alerts_deliveries');
      expect(Number(deliveries[0]!.n)).toBe(total);
      expect(count('sent') + count('unknown')).toBe(total);
      expect(count('unknown')).toBeLessThanOrEqual(KILLS);
      expect(smtp.mails.length).toBeGreaterThanOrEqual(count('sent'));
      expect(smtp.mails.length).toBeLessThanOrEqual(total);
    } finally {
      await db.close();
      await smtp.close();
      const pg = await import('pg');
      const admin = new pg.default.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  }, 300_000);
});
