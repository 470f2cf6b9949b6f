// The fan-out: reads findings from the monitor's outbox after the alerts cursor and turns each into
// deliveries for the subscribers it concerns, in ONE transaction with the cursor move, so a crash
// anywhere repeats the batch from the old cursor and the (subscriber, finding key) primary key of
// alerts_deliveries lets nothing through twice.
//
// Who a finding concerns:
// - an entry finding (identity-used, namespace-used, key-used, unexpected-signer) goes to the
//   subscriber whose rule matched (finding.subscriberId), if they are confirmed and still hold the
//   rule (a rule deleted since the monitor matched sends nothing);
// - a log finding (log-misbehaviour, health) goes to every confirmed subscriber who follows the log:
//   whose `follow_logs` lists the finding's log origin or "*" (every log; the default, because every
//   watch rule is evaluated against every log the monitor reads, so a log that misbehaves or goes
//   dark weakens every subscriber's alerts).
import type { Queryable } from '../platform/db.ts';
import { readFindingsAfter, type StoredFinding } from '../monitor/findings.ts';
import type { AlertsContext } from './context.ts';
import { findingFacts } from './finding-facts.ts';
import { renderAlertMail, type RenderedAlert } from './mail-render.ts';
import { enqueueMessage } from './messages.ts';
import { issueMailLinks, parseBody, queueMail } from './subscriptions.ts';

/** CONSUMER is the alerts worker's name in alerts_cursor. */
export const CONSUMER = 'alerts';

interface Recipient {
  id: string;
  email: string;
  delivery: string;
  rule: string;
}

/** fanOutFindings processes one batch of findings after the cursor; returns how many it consumed. */
export async function fanOutFindings(ctx: AlertsContext): Promise<number> {
  await ctx.db.query('INSERT INTO alerts_cursor (consumer, seq) VALUES ($1, 0) ON CONFLICT (consumer) DO NOTHING', [CONSUMER]);
  const consumed = await ctx.db.transaction(async (tx) => {
    // The row lock serialises fan-outs of several worker processes: the second waits, then reads
    // the moved cursor.
    const cursor = (await tx.query<{ seq: bigint }>('SELECT seq FROM alerts_cursor WHERE consumer = $1 FOR UPDATE', [CONSUMER]))[0]!.seq;
    const findings = await readFindingsAfter(tx, cursor, ctx.config.findingsBatch);
    for (const f of findings) await deliver(ctx, tx, f);
    const last = findings.at(-1);
    if (last !== undefined) await tx.query('UPDATE alerts_cursor SET seq = $2 WHERE consumer = $1', [CONSUMER, last.seq]);
    return findings;
  });
  // Counted after the commit: a rolled-back batch is read again.
  for (const f of consumed) ctx.metrics.findings.inc({ kind: f.kind });
  const last = consumed.at(-1);
  if (last !== undefined) ctx.metrics.cursor.set(Number(last.seq));
  return consumed.length;
}

async function deliver(ctx: AlertsContext, tx: Queryable, f: StoredFinding): Promise<void> {
  const now = ctx.clock.nowMs();
  for (const r of await recipientsOf(tx, f)) {
    const inserted = await tx.query(
      `INSERT INTO alerts_deliveries (subscriber_id, finding_key, finding_seq, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (subscriber_id, finding_key) DO NOTHING RETURNING finding_seq`,
      [r.id, f.key, f.seq, new Date(now)],
    );
    if (inserted.length === 0) continue; // told already (the same finding key under another seq)
    const alert: RenderedAlert = { facts: findingFacts(f, ctx.config.entryLink), rule: r.rule };
    if (r.delivery === 'immediate') {
      const links = await issueMailLinks(ctx, tx, r.id);
      await queueMail(ctx, tx, r.id, r.email, 'alert', renderAlertMail(alert, links), links, `alert:${r.id}:${f.key}`);
    } else {
      await tx.query('INSERT INTO alerts_digest_items (subscriber_id, finding_seq, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [r.id, f.seq, new Date(now)]);
    }
    await queueWebhooks(ctx, tx, r.id, `alert:${r.id}:${f.key}`, webhookBody('vigil.alert', f, alert));
  }
}

/** queueWebhooks queues one call per enabled webhook of the subscriber. */
export async function queueWebhooks(ctx: AlertsContext, tx: Queryable, subscriberId: string, dedupeKey: string, body: string): Promise<void> {
  const hooks = await tx.query<{ id: string; url: string }>('SELECT id, url FROM alerts_webhooks WHERE subscriber_id = $1 AND disabled_at IS NULL', [subscriberId]);
  for (const h of hooks) {
    await enqueueMessage(tx, { dedupeKey: `${dedupeKey}:webhook:${h.id}`, subscriberId, channel: 'webhook', kind: dedupeKey.startsWith('test:') ? 'test' : 'alert', webhookId: h.id, recipient: h.url, payload: new TextEncoder().encode(body) }, ctx.clock.nowMs());
  }
}

/** webhookBody is the JSON a webhook receives for a finding (values as the monitor stored them). */
export function webhookBody(type: 'vigil.alert' | 'vigil.test', f: StoredFinding | undefined, alert: RenderedAlert | undefined): string {
  if (f === undefined || alert === undefined) return JSON.stringify({ type, message: 'a test call you asked for' });
  return JSON.stringify({
    type,
    class: alert.facts.alertClass,
    finding: {
      key: f.key, seq: f.seq.toString(), kind: f.kind, logOrigin: f.logOrigin, index: f.index?.toString() ?? null,
      ruleId: f.ruleId, summary: f.summary, details: f.details, observedAt: f.observedAt.toISOString(),
    },
    rule: alert.rule || null,
    entryUrl: alert.facts.entryUrl ?? null,
  });
}

async function recipientsOf(tx: Queryable, f: StoredFinding): Promise<Recipient[]> {
  if (f.subscriberId === null) {
    const rows = await tx.query<{ id: string; email: string; delivery: string }>(
      `SELECT id, email, delivery FROM alerts_subscribers WHERE state = 'confirmed' AND (follow_logs @> '["*"]'::jsonb OR follow_logs @> $1::jsonb) ORDER BY id`,
      [JSON.stringify([f.logOrigin])],
    );
    return rows.map((r) => ({ ...r, rule: '' }));
  }
  if (f.ruleId === null || !/^[rp]:/.test(f.ruleId)) return [];
  const rows = await tx.query<{ id: string; email: string; delivery: string; body: unknown }>(
    `SELECT s.id, s.email, s.delivery, r.body FROM alerts_subscribers s JOIN alerts_rules r ON r.subscriber_id = s.id
     WHERE s.id = $1 AND s.state = 'confirmed' AND r.id = $2`,
    [f.subscriberId, f.ruleId.slice(2)],
  );
  return rows.map((r) => ({ id: r.id, email: r.email, delivery: r.delivery, rule: describeRule(parseBody(r.body)) }));
}

/** describeRule names a stored rule or policy in an alert, e.g. `identity glob "*@example.com"`. */
export function describeRule(body: Record<string, unknown>): string {
  if (typeof body.namespace === 'string') return `expected-signer policy for namespace ${JSON.stringify(body.namespace)}`;
  const issuer = typeof body.issuer === 'string' ? ` (issuer ${JSON.stringify(body.issuer)})` : '';
  return `${String(body.target)} ${String(body.match)} ${JSON.stringify(body.pattern)}${issuer}`;
}
