// Digests: findings for subscribers who chose hourly or daily delivery wait in alerts_digest_items
// and go out as one mail per subscriber after each UTC hour or day ends. The mail is queued and the
// items deleted in one transaction, keyed by (subscriber, window, first finding), so a crash or a
// second worker never makes two digests of the same alerts.
import type { Queryable } from '../platform/db.ts';
import { findingColumns, findingFromRow, type FindingRow } from '../monitor/findings.ts';
import type { AlertsContext } from './context.ts';
import { describeRule } from './fanout.ts';
import { findingFacts } from './finding-facts.ts';
import { renderDigestMail } from './mail-render.ts';
import { issueMailLinks, parseBody, queueMail } from './subscriptions.ts';

/** MAX_DIGEST_ALERTS bounds one digest mail; more wait for the next run. */
export const MAX_DIGEST_ALERTS = 100;

const WINDOW_MS: Record<string, number> = { hourly: 3_600_000, daily: 86_400_000 };

/** digestWindowStart is the start of the current window: items queued before it are due. */
export function digestWindowStart(delivery: string, nowMs: number): number {
  const w = WINDOW_MS[delivery];
  return w === undefined ? nowMs + 1 : Math.floor(nowMs / w) * w; // immediate: a switch from digest flushes at once
}

/** sendDueDigests queues every due digest; returns how many were queued. */
export async function sendDueDigests(ctx: AlertsContext): Promise<number> {
  const now = ctx.clock.nowMs();
  // Only subscribers with an item from before their current window: one query, however many wait.
  const candidates = await ctx.db.query<{ subscriber_id: string }>(
    `SELECT DISTINCT d.subscriber_id FROM alerts_digest_items d JOIN alerts_subscribers s ON s.id = d.subscriber_id
     WHERE d.created_at < CASE s.delivery WHEN 'hourly' THEN $1::timestamptz WHEN 'daily' THEN $2::timestamptz ELSE $3::timestamptz END`,
    [new Date(digestWindowStart('hourly', now)), new Date(digestWindowStart('daily', now)), new Date(now + 1)],
  );
  let queued = 0;
  for (const c of candidates) {
    if (await digestOne(ctx, c.subscriber_id, now)) queued++;
  }
  if (queued > 0) ctx.wake();
  return queued;
}

interface ItemRow extends FindingRow {
  rule_body: unknown;
}

async function digestOne(ctx: AlertsContext, subscriberId: string, now: number): Promise<boolean> {
  return ctx.db.transaction(async (tx) => {
    const subs = await tx.query<{ email: string; delivery: string; state: string }>('SELECT email, delivery, state FROM alerts_subscribers WHERE id = $1 FOR UPDATE', [subscriberId]);
    const s = subs[0];
    if (s === undefined || s.state !== 'confirmed') {
      await tx.query('DELETE FROM alerts_digest_items WHERE subscriber_id = $1', [subscriberId]);
      return false;
    }
    const windowStart = digestWindowStart(s.delivery, now);
    const rows = await dueItems(tx, subscriberId, windowStart);
    if (rows.length === 0) return false;
    const alerts = rows.map((r) => ({ facts: findingFacts(findingFromRow(r), ctx.config.entryLink), rule: r.rule_body === null ? '' : describeRule(parseBody(r.rule_body)) }));
    const links = await issueMailLinks(ctx, tx, subscriberId);
    const period = s.delivery === 'daily' ? 'day' : 'hour';
    await queueMail(ctx, tx, subscriberId, s.email, 'digest', renderDigestMail(alerts, period, links), links, `digest:${subscriberId}:${windowStart}:${rows[0]!.seq}`);
    await tx.query(
      `DELETE FROM alerts_digest_items WHERE subscriber_id = $1 AND finding_seq >= $2 AND finding_seq <= $3 AND created_at < $4`,
      [subscriberId, rows[0]!.seq, rows.at(-1)!.seq, new Date(windowStart)],
    );
    return true;
  });
}

async function dueItems(tx: Queryable, subscriberId: string, windowStart: number): Promise<ItemRow[]> {
  return tx.query<ItemRow>(
    `SELECT ${findingColumns('f')}, r.body AS rule_body
     FROM alerts_digest_items d JOIN monitor_findings f ON f.seq = d.finding_seq
     LEFT JOIN alerts_rules r ON r.subscriber_id = d.subscriber_id AND r.id = substr(f.rule_id, 3)
     WHERE d.subscriber_id = $1 AND d.created_at < $2 ORDER BY d.finding_seq LIMIT $3`,
    [subscriberId, new Date(windowStart), MAX_DIGEST_ALERTS],
  );
}

