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
//
// One mail per certificate: the CA logs a precertificate before it issues a certificate, and the
// signer then logs an entry signed with it, so one signing matches a rule twice. An immediate mail
// about a precertificate therefore waits (alerts_held, up to certificateGraceMs) for an entry of
// the same certificate group (rule, signing key, issuer, SAN) and goes out inside that entry's
// mail; when none comes in time it goes out alone, and when the entry came first it is not mailed
// again. Deliveries, digests and webhooks are unchanged: each finding is still recorded, listed
// on the manage page and sent to webhooks at once.
import { createHash } from 'node:crypto';
import type { Queryable } from '../platform/db.ts';
import { findingColumns, findingFromRow, readFindingsAfter, type FindingRow, type StoredFinding } from '../monitor/findings.ts';
import type { AlertsContext } from './context.ts';
import { cleanText, findingFacts } from './finding-facts.ts';
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
  const group = certificateGroupOf(f);
  for (const r of await recipientsOf(tx, f)) {
    const inserted = await tx.query(
      `INSERT INTO alerts_deliveries (subscriber_id, finding_key, finding_seq, created_at, cert_group) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (subscriber_id, finding_key) DO NOTHING RETURNING finding_seq`,
      [r.id, f.key, f.seq, new Date(now), group?.key ?? null],
    );
    if (inserted.length === 0) continue; // told already (the same finding key under another seq)
    const alert: RenderedAlert = { facts: findingFacts(f, ctx.config.entryLink), rule: r.rule };
    if (r.delivery !== 'immediate') {
      await queueDigestItem(tx, r.id, f, now);
    } else if (group?.precertificate && ctx.config.certificateGraceMs > 0) {
      await holdPrecertificateAlert(tx, r.id, f, group.key, now + ctx.config.certificateGraceMs);
    } else {
      if (group !== undefined) alert.facts.facts.push(...(await takeHeldAlerts(tx, r.id, group.key)).map(heldFact));
      await mailAlert(ctx, tx, r, f, alert);
    }
    await queueWebhooks(ctx, tx, r.id, `alert:${r.id}:${f.key}`, webhookBody('vigil.alert', f, alert));
  }
}

async function queueDigestItem(tx: Queryable, subscriberId: string, f: StoredFinding, now: number): Promise<void> {
  await tx.query('INSERT INTO alerts_digest_items (subscriber_id, finding_seq, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [subscriberId, f.seq, new Date(now)]);
}

async function mailAlert(ctx: AlertsContext, tx: Queryable, r: Recipient, f: StoredFinding, alert: RenderedAlert): Promise<void> {
  const links = await issueMailLinks(ctx, tx, r.id);
  await queueMail(ctx, tx, r.id, r.email, 'alert', renderAlertMail(alert, links), links, `alert:${r.id}:${f.key}`);
}

/**
 * CertificateGroup names one certificate's signings for one rule: a precertificate and the entries
 * signed with its certificate share the rule, the signing key (a certificate's subject key), the
 * issuer and the SAN. Entries signed by a bare key have no group: each of them is its own event.
 */
interface CertificateGroup {
  key: string;
  precertificate: boolean;
}

/** certificateGroupOf returns the group of an entry finding about a certificate identity. */
function certificateGroupOf(f: StoredFinding): CertificateGroup | undefined {
  const event = f.details.event;
  if (f.index === null || f.ruleId === null || typeof event !== 'object' || event === null) return undefined;
  const { keyFingerprint, identity, entryKind } = event as Record<string, unknown>;
  if (typeof identity !== 'object' || identity === null) return undefined;
  const { kind, san, issuer } = identity as Record<string, unknown>;
  if (kind === 'key' || typeof keyFingerprint !== 'string' || typeof san !== 'string' || typeof issuer !== 'string') return undefined;
  const key = createHash('sha256').update(JSON.stringify([f.ruleId, keyFingerprint, issuer, san])).digest('hex');
  return { key, precertificate: entryKind === 'precertificate' };
}

/**
 * holdPrecertificateAlert makes a precertificate's mail wait until `releaseAt` for an entry of its
 * group, unless such an entry was delivered already (the subscriber knows of this signing).
 */
async function holdPrecertificateAlert(tx: Queryable, subscriberId: string, f: StoredFinding, group: string, releaseAt: number): Promise<void> {
  const told = await tx.query('SELECT 1 FROM alerts_deliveries WHERE subscriber_id = $1 AND cert_group = $2 AND finding_key <> $3 LIMIT 1', [subscriberId, group, f.key]);
  if (told.length > 0) return;
  await tx.query('INSERT INTO alerts_held (subscriber_id, finding_seq, cert_group, release_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [subscriberId, f.seq, group, new Date(releaseAt)]);
}

/** takeHeldAlerts removes and returns the held findings of a group, which a mail now covers. */
async function takeHeldAlerts(tx: Queryable, subscriberId: string, group: string): Promise<StoredFinding[]> {
  const rows = await tx.query<FindingRow>(
    `WITH taken AS (DELETE FROM alerts_held WHERE subscriber_id = $1 AND cert_group = $2 RETURNING finding_seq)
     SELECT ${findingColumns('f')} FROM monitor_findings f JOIN taken t ON f.seq = t.finding_seq ORDER BY f.seq`,
    [subscriberId, group],
  );
  return rows.map(findingFromRow);
}

/** heldFact is the row an entry's mail gets for the precertificate it covers. */
function heldFact(f: StoredFinding): [string, string] {
  return ['certificate logged', `${cleanText(f.logOrigin, 100)} at index ${f.index ?? '?'} (precertificate)`];
}

/** HELD_BATCH bounds the held alerts released per transaction. */
const HELD_BATCH = 100;

/**
 * releaseHeldAlerts mails the held precertificate alerts whose wait is over (no entry of their
 * group came), to subscribers who still hold the rule; returns how many it released. A subscriber
 * who switched to digests since gets them in the next digest.
 */
export async function releaseHeldAlerts(ctx: AlertsContext): Promise<number> {
  let released = 0;
  for (let n = HELD_BATCH; n === HELD_BATCH; released += n) n = await releaseHeldBatch(ctx);
  return released;
}

async function releaseHeldBatch(ctx: AlertsContext): Promise<number> {
  const now = ctx.clock.nowMs();
  return ctx.db.transaction(async (tx) => {
    const rows = await tx.query<FindingRow & { held_for: string }>(
      `WITH due AS (
         DELETE FROM alerts_held WHERE (subscriber_id, finding_seq) IN
           (SELECT subscriber_id, finding_seq FROM alerts_held WHERE release_at <= $1 ORDER BY release_at LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING subscriber_id, finding_seq)
       SELECT due.subscriber_id AS held_for, ${findingColumns('f')} FROM due JOIN monitor_findings f ON f.seq = due.finding_seq ORDER BY f.seq`,
      [new Date(now), HELD_BATCH],
    );
    for (const row of rows) {
      const f = findingFromRow(row);
      for (const r of (await recipientsOf(tx, f)).filter((x) => x.id === row.held_for)) {
        if (r.delivery !== 'immediate') {
          await queueDigestItem(tx, r.id, f, now);
          continue;
        }
        const alert: RenderedAlert = { facts: findingFacts(f, ctx.config.entryLink), rule: r.rule };
        alert.facts.facts.push(['note', `no entry signed with this certificate was logged within ${Math.round(ctx.config.certificateGraceMs / 1000)} s`]);
        await mailAlert(ctx, tx, r, f, alert);
      }
    }
    return rows.length;
  });
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
