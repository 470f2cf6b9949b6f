// What the manage page does, each action authorised by a manage token from a mail (attacker-
// controlled until verified): view the subscription, replace rules, choose delivery and followed
// logs, mark an alert expected (its signer joins the policy), send a test alert, add and remove
// webhooks. The token only proves access to the mailbox; it never names another subscriber.
import type { Queryable } from '../platform/db.ts';
import { isMonitorError } from '../monitor/errors.ts';
import { MAX_ALLOWED_SIGNERS, parseSignerPolicy, type SignerPolicy, type WatchRule } from '../monitor/rules.ts';
import type { AlertsContext } from './context.ts';
import { AlertsError } from './errors.ts';
import { queueWebhooks, webhookBody } from './fanout.ts';
import { findingFacts } from './finding-facts.ts';
import { renderTestMail } from './mail-render.ts';
import { takeToken } from './rate-limit.ts';
import type { Delivery, RuleSpecs } from './subscribe-request.ts';
import { addRules, bumpRulesVersion, removeRulesExcept, issueMailLinks, loadRules, loadSubscriber, parseBody, queueMail, type Subscriber } from './subscriptions.ts';
import { newRandomId, verifyToken } from './tokens.ts';
import { newWebhookSecret, parseWebhookUrl, resolveWebhookAddress } from './webhook.ts';

/** RecentAlert is one alert on the manage page. */
export interface RecentAlert {
  seq: bigint;
  kind: string;
  headline: string;
  observedAt: Date;
  /** markable is true for unexpected-signer alerts whose signer can join the policy. */
  markable: boolean;
}

/** ManageView is everything the manage page shows. */
export interface ManageView {
  subscriber: Subscriber;
  rules: WatchRule[];
  policies: SignerPolicy[];
  webhooks: { id: string; url: string; secret: string; disabledReason: string | null; failures: number }[];
  alerts: RecentAlert[];
  /** problems are recent messages that failed or may not have arrived. */
  problems: { kind: string; channel: string; state: string; error: string | null; at: Date }[];
}

async function subscriberOf(ctx: AlertsContext, tx: Queryable, token: unknown): Promise<Subscriber> {
  const t = await verifyToken(tx, token, 'manage', ctx.clock.nowMs());
  const s = await loadSubscriber(tx, t.subscriberId);
  if (s === undefined) throw new AlertsError('invalid_token', 'this link is not valid');
  return s;
}

async function confirmedOf(ctx: AlertsContext, tx: Queryable, token: unknown): Promise<Subscriber> {
  const s = await subscriberOf(ctx, tx, token);
  if (s.state !== 'confirmed') throw new AlertsError('invalid_token', 'this subscription has ended; subscribe again to get alerts');
  return s;
}

/** viewManage reads the manage page's data. */
export async function viewManage(ctx: AlertsContext, token: unknown): Promise<ManageView> {
  const s = await subscriberOf(ctx, ctx.db, token);
  const { rules, policies } = await loadRules(ctx.db, s.id);
  const hooks = await ctx.db.query<{ id: string; url: string; secret: string; disabled_reason: string | null; consecutive_failures: number }>(
    'SELECT id, url, secret, disabled_reason, consecutive_failures FROM alerts_webhooks WHERE subscriber_id = $1 ORDER BY created_at', [s.id],
  );
  const found = await ctx.db.query<{ seq: bigint; key: string; kind: string; log_origin: string; entry_index: bigint | null; rule_id: string | null; subscriber_id: string | null; summary: string; details: unknown; observed_at: Date }>(
    `SELECT f.seq, f.key, f.kind, f.log_origin, f.entry_index, f.rule_id, f.subscriber_id, f.summary, f.details, f.observed_at
     FROM alerts_deliveries d JOIN monitor_findings f ON f.seq = d.finding_seq WHERE d.subscriber_id = $1 ORDER BY d.finding_seq DESC LIMIT 20`, [s.id],
  );
  const alerts = found.map((r) => {
    const facts = findingFacts({ seq: r.seq, key: r.key, kind: r.kind as never, logOrigin: r.log_origin, index: r.entry_index, ruleId: r.rule_id, subscriberId: r.subscriber_id, summary: r.summary, details: parseBody(r.details), observedAt: r.observed_at }, ctx.config.entryLink);
    return { seq: r.seq, kind: r.kind, headline: facts.headline, observedAt: r.observed_at, markable: facts.signer !== undefined && s.state === 'confirmed' };
  });
  const problems = await ctx.db.query<{ kind: string; channel: string; state: string; last_error: string | null; created_at: Date }>(
    `SELECT kind, channel, state, last_error, created_at FROM alerts_messages WHERE subscriber_id = $1 AND state IN ('failed', 'unknown') ORDER BY id DESC LIMIT 10`, [s.id],
  );
  return {
    subscriber: s, rules, policies, alerts,
    webhooks: hooks.map((h) => ({ id: h.id, url: h.url, secret: h.secret, disabledReason: h.disabled_reason, failures: Number(h.consecutive_failures) })),
    problems: problems.map((p) => ({ kind: p.kind, channel: p.channel, state: p.state, error: p.last_error, at: p.created_at })),
  };
}

/** replaceRules makes the subscriber's rules and policies exactly `specs` (unchanged ones keep their ids). */
export async function replaceRules(ctx: AlertsContext, token: unknown, specs: RuleSpecs): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const s = await confirmedOf(ctx, tx, token);
    await removeRulesExcept(tx, s.id, specs);
    await addRules(ctx, tx, s.id, specs);
  });
}

/** setDelivery sets immediate or digest delivery and the followed logs. */
export async function setDelivery(ctx: AlertsContext, token: unknown, delivery: Delivery, logs: string[]): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const s = await confirmedOf(ctx, tx, token);
    await tx.query('UPDATE alerts_subscribers SET delivery = $2, follow_logs = $3 WHERE id = $1', [s.id, delivery, JSON.stringify(logs)]);
  });
}

/**
 * markExpected adds the signer of an unexpected-signer alert (finding `seq`, delivered to this
 * subscriber) to the policy that raised it, so the same signer no longer alerts.
 */
export async function markExpected(ctx: AlertsContext, token: unknown, seq: bigint): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const s = await confirmedOf(ctx, tx, token);
    const rows = await tx.query<{ kind: string; rule_id: string | null; details: unknown; log_origin: string; entry_index: bigint | null; key: string; summary: string; observed_at: Date }>(
      `SELECT f.kind, f.rule_id, f.details, f.log_origin, f.entry_index, f.key, f.summary, f.observed_at FROM alerts_deliveries d JOIN monitor_findings f ON f.seq = d.finding_seq
       WHERE d.subscriber_id = $1 AND d.finding_seq = $2`, [s.id, seq],
    );
    const f = rows[0];
    if (f === undefined || f.kind !== 'unexpected-signer' || f.rule_id === null) throw new AlertsError('not_found', 'no unexpected-signer alert of yours has that number');
    const facts = findingFacts({ seq, key: f.key, kind: 'unexpected-signer', logOrigin: f.log_origin, index: f.entry_index, ruleId: f.rule_id, subscriberId: s.id, summary: f.summary, details: parseBody(f.details), observedAt: f.observed_at }, ctx.config.entryLink);
    const policyRows = await tx.query<{ body: unknown }>(`SELECT body FROM alerts_rules WHERE id = $1 AND subscriber_id = $2 AND kind = 'policy' FOR UPDATE`, [f.rule_id.slice(2), s.id]);
    const policy = policyRows[0] && (parseBody(policyRows[0].body) as unknown as SignerPolicy);
    if (policy === undefined || facts.signer === undefined) throw new AlertsError('not_found', 'the policy of that alert no longer exists');
    const signer = { issuer: facts.signer.issuer, identity: { match: 'exact' as const, pattern: facts.signer.san }, ...(facts.signer.workflow ? { workflow: facts.signer.workflow } : {}) };
    if (policy.allowedSigners.length >= MAX_ALLOWED_SIGNERS) throw new AlertsError('too_many_rules', `a policy may allow at most ${MAX_ALLOWED_SIGNERS} signers`);
    let updated: SignerPolicy;
    try {
      updated = parseSignerPolicy({ ...policy, allowedSigners: [...policy.allowedSigners, signer] });
    } catch (err) {
      if (isMonitorError(err)) throw new AlertsError('invalid_rules', `the signer cannot be added to the policy: ${err.message}`, { cause: err });
      throw err;
    }
    await tx.query('UPDATE alerts_rules SET body = $2 WHERE id = $1', [policy.id, JSON.stringify(updated)]);
    await bumpRulesVersion(tx);
  });
}

/** sendTest queues a test mail and a test call to each webhook (at most 5 per hour). */
export async function sendTest(ctx: AlertsContext, token: unknown): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const s = await confirmedOf(ctx, tx, token);
    if (!(await takeToken(tx, `test:${s.id}`, 3_600_000, 5, ctx.clock.nowMs()))) {
      ctx.metrics.rateLimited.inc({ limit: 'test' });
      throw new AlertsError('rate_limited', 'at most 5 test alerts an hour');
    }
    const links = await issueMailLinks(ctx, tx, s.id);
    const key = `test:${newRandomId('t')}`;
    await queueMail(ctx, tx, s.id, s.email, 'test', renderTestMail(links), links, key);
    await queueWebhooks(ctx, tx, s.id, key, webhookBody('vigil.test', undefined, undefined));
  });
  ctx.wake();
}

/** addWebhook registers a webhook URL (checked against private addresses now and at every call); returns its secret. */
export async function addWebhook(ctx: AlertsContext, token: unknown, urlText: unknown): Promise<{ id: string; secret: string }> {
  const url = parseWebhookUrl(urlText);
  await resolveWebhookAddress(url, ctx.config.allowPrivateWebhooks);
  return ctx.db.transaction(async (tx) => {
    const s = await confirmedOf(ctx, tx, token);
    const n = await tx.query<{ n: bigint }>('SELECT count(*)::int8 AS n FROM alerts_webhooks WHERE subscriber_id = $1', [s.id]);
    if (Number(n[0]!.n) >= ctx.config.maxWebhooks) throw new AlertsError('too_many_rules', `at most ${ctx.config.maxWebhooks} webhooks`);
    const hook = { id: newRandomId('wh'), secret: newWebhookSecret() };
    await tx.query('INSERT INTO alerts_webhooks (id, subscriber_id, url, secret, created_at) VALUES ($1, $2, $3, $4, $5)', [hook.id, s.id, url.href, hook.secret, new Date(ctx.clock.nowMs())]);
    return hook;
  });
}

/** removeWebhook deletes one of the subscriber's webhooks; queued calls to it are dropped. */
export async function removeWebhook(ctx: AlertsContext, token: unknown, id: unknown): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const s = await confirmedOf(ctx, tx, token);
    const rows = await tx.query('DELETE FROM alerts_webhooks WHERE id = $1 AND subscriber_id = $2 RETURNING id', [typeof id === 'string' ? id : '', s.id]);
    if (rows.length === 0) throw new AlertsError('not_found', 'no such webhook');
  });
}
