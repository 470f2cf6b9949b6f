// The subscription lifecycle: request (double opt-in mail), confirm (POST only), unsubscribe
// (RFC 8058 one-click or the manage page), and the rules a confirmation activates. Every answer to
// a request is the same whether or not the address is known: a second request for a subscribed
// address sends the same kind of confirmation mail, which adds the requested rules when confirmed.
import type { Queryable } from '../platform/db.ts';
import type { SignerPolicy, WatchRule } from '../monitor/rules.ts';
import { linkFor, type AlertsContext } from './context.ts';
import { AlertsError } from './errors.ts';
import { renderConfirmMail, renderManageLinkMail, type AlertLinks, type MailContent } from './mail-render.ts';
import { composeMail, enqueueMessage, type MessageKind } from './messages.ts';
import { clientKey, takeToken } from './rate-limit.ts';
import { emailKey, type RuleSpecs, type SubscribeRequest } from './subscribe-request.ts';
import { issueToken, markTokenUsed, newRandomId, verifyToken } from './tokens.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Subscriber is one row of alerts_subscribers. */
export interface Subscriber {
  id: string;
  email: string;
  state: 'pending' | 'confirmed' | 'unsubscribed';
  delivery: 'immediate' | 'hourly' | 'daily';
  followLogs: string[];
}

/** loadSubscriber reads a subscriber by id, or undefined. */
export async function loadSubscriber(db: Queryable, id: string): Promise<Subscriber | undefined> {
  const rows = await db.query<{ id: string; email: string; state: Subscriber['state']; delivery: Subscriber['delivery']; follow_logs: unknown }>(
    'SELECT id, email, state, delivery, follow_logs FROM alerts_subscribers WHERE id = $1', [id],
  );
  const r = rows[0];
  return r && { id: r.id, email: r.email, state: r.state, delivery: r.delivery, followLogs: jsonArray(r.follow_logs) };
}

/**
 * checkClientLimit counts a confirmation request from `ip` and throws rate_limited when the client
 * is over its hourly limit (a per-client answer reveals nothing about any address).
 */
export async function checkClientLimit(ctx: AlertsContext, ip: string | undefined): Promise<void> {
  const ok = await ctx.db.transaction((tx) => takeToken(tx, `client:${clientKey(ip)}`, HOUR_MS, ctx.config.confirmationsPerClientPerHour, ctx.clock.nowMs()));
  if (!ok) {
    ctx.metrics.rateLimited.inc({ limit: 'client' });
    throw new AlertsError('rate_limited', 'too many requests from your network; try again in an hour');
  }
}

/**
 * requestSubscription stores a pending request and queues its confirmation mail. Over the
 * per-address daily limit it queues nothing and returns normally: the caller answers the same.
 */
export async function requestSubscription(ctx: AlertsContext, req: SubscribeRequest, ip: string | undefined): Promise<void> {
  await checkClientLimit(ctx, ip);
  const now = ctx.clock.nowMs();
  const queued = await ctx.db.transaction(async (tx) => {
    if (!(await takeToken(tx, `address:${emailKey(req.email)}`, DAY_MS, ctx.config.confirmationsPerAddressPerDay, now))) return false;
    const id = await ensureSubscriber(tx, req.email, now);
    const payload = { rules: req.rules, policies: req.policies, delivery: req.delivery, logs: req.logs };
    const token = await issueToken(tx, id, 'confirm', now, ctx.config.confirmTokenTtlMs, payload);
    const summary = [...req.rules.map((r) => `${r.target} ${r.match} ${r.pattern}`), ...req.policies.map((p) => `policy for ${p.namespace}`)];
    await queueMail(ctx, tx, id, req.email, 'confirm', renderConfirmMail(linkFor(ctx, 'confirm', token), summary), undefined);
    return true;
  });
  if (!queued) ctx.metrics.rateLimited.inc({ limit: 'address' });
  else ctx.wake();
}

/** requestManageLink mails a manage link when the address is subscribed; the answer is the same either way. */
export async function requestManageLink(ctx: AlertsContext, email: string, ip: string | undefined): Promise<void> {
  await checkClientLimit(ctx, ip);
  const now = ctx.clock.nowMs();
  const queued = await ctx.db.transaction(async (tx) => {
    if (!(await takeToken(tx, `address:${emailKey(email)}`, DAY_MS, ctx.config.confirmationsPerAddressPerDay, now))) return false;
    const rows = await tx.query<{ id: string; email: string }>(`SELECT id, email FROM alerts_subscribers WHERE email_key = $1 AND state = 'confirmed'`, [emailKey(email)]);
    const s = rows[0];
    if (s === undefined) return true;
    const token = await issueToken(tx, s.id, 'manage', now, ctx.config.manageTokenTtlMs);
    await queueMail(ctx, tx, s.id, s.email, 'manage-link', renderManageLinkMail(linkFor(ctx, 'manage', token)), undefined);
    return true;
  });
  if (!queued) ctx.metrics.rateLimited.inc({ limit: 'address' });
  else ctx.wake();
}

/**
 * confirmSubscription activates the request a confirm token carries (attacker-controlled token):
 * the subscriber becomes confirmed, the requested rules are added, and a manage link is returned.
 * Confirming twice is harmless: the second time adds nothing and returns no manage link.
 */
export async function confirmSubscription(ctx: AlertsContext, token: unknown): Promise<{ manageUrl: string | undefined }> {
  const now = ctx.clock.nowMs();
  return ctx.db.transaction(async (tx) => {
    const t = await verifyToken(tx, token, 'confirm', now, true);
    if (t.usedAt === null) {
      const p = t.payload as SubscribeRequest;
      await tx.query(
        `UPDATE alerts_subscribers SET state = 'confirmed', confirmed_at = $2, unsubscribed_at = NULL, delivery = $3, follow_logs = $4 WHERE id = $1`,
        [t.subscriberId, new Date(now), p.delivery, JSON.stringify(p.logs)],
      );
      await addRules(ctx, tx, t.subscriberId, { rules: p.rules, policies: p.policies });
      await markTokenUsed(tx, t.selector, now);
    } else {
      return { manageUrl: undefined }; // a used link opens nothing more; alert mails carry manage links
    }
    const manage = await issueToken(tx, t.subscriberId, 'manage', now, ctx.config.manageTokenTtlMs);
    return { manageUrl: linkFor(ctx, 'manage', manage) };
  });
}

/**
 * unsubscribe ends a subscription by an unsubscribe or manage token: its rules and webhooks are
 * deleted and queued alerts are dropped when their turn comes. Repeating it is harmless.
 */
export async function unsubscribe(ctx: AlertsContext, token: unknown, purpose: 'unsubscribe' | 'manage'): Promise<void> {
  const now = ctx.clock.nowMs();
  await ctx.db.transaction(async (tx) => {
    const t = await verifyToken(tx, token, purpose, now);
    await tx.query(`UPDATE alerts_subscribers SET state = 'unsubscribed', unsubscribed_at = $2 WHERE id = $1 AND state <> 'unsubscribed'`, [t.subscriberId, new Date(now)]);
    await tx.query('DELETE FROM alerts_rules WHERE subscriber_id = $1', [t.subscriberId]);
    await tx.query('DELETE FROM alerts_webhooks WHERE subscriber_id = $1', [t.subscriberId]);
    await tx.query('DELETE FROM alerts_digest_items WHERE subscriber_id = $1', [t.subscriberId]);
    await bumpRulesVersion(tx);
  });
}

/** addRules stores rule specs for a subscriber with fresh ids, skipping ones it already has, within the limits. */
export async function addRules(ctx: AlertsContext, tx: Queryable, subscriberId: string, specs: RuleSpecs): Promise<void> {
  const existing = await tx.query<{ kind: string; body: unknown }>('SELECT kind, body FROM alerts_rules WHERE subscriber_id = $1', [subscriberId]);
  const seen = new Set(existing.map((r) => `${r.kind}:${specKey(parseBody(r.body))}`));
  const now = new Date(ctx.clock.nowMs());
  let rules = existing.filter((r) => r.kind === 'rule').length;
  let policies = existing.length - rules;
  const add = async (kind: 'rule' | 'policy', spec: object) => {
    const key = `${kind}:${specKey(spec)}`;
    if (seen.has(key)) return;
    seen.add(key);
    if (kind === 'rule' ? ++rules > ctx.config.maxRules : ++policies > ctx.config.maxPolicies) {
      throw new AlertsError('too_many_rules', `a subscriber may have at most ${ctx.config.maxRules} rules and ${ctx.config.maxPolicies} policies`);
    }
    const id = newRandomId(kind === 'rule' ? 'w' : 'p');
    await tx.query('INSERT INTO alerts_rules (id, subscriber_id, kind, body, created_at) VALUES ($1, $2, $3, $4, $5)', [id, subscriberId, kind, JSON.stringify({ ...spec, id, subscriberId }), now]);
  };
  for (const r of specs.rules) await add('rule', r);
  for (const p of specs.policies) await add('policy', p);
  await bumpRulesVersion(tx);
}

/**
 * removeRulesExcept deletes the subscriber's rules and policies that are not in `specs`, keeping
 * the ids of the rest, so findings the monitor matched under those ids are still delivered.
 */
export async function removeRulesExcept(tx: Queryable, subscriberId: string, specs: RuleSpecs): Promise<void> {
  const keep = new Set([...specs.rules.map((r) => `rule:${specKey(r)}`), ...specs.policies.map((p) => `policy:${specKey(p)}`)]);
  const existing = await tx.query<{ id: string; kind: string; body: unknown }>('SELECT id, kind, body FROM alerts_rules WHERE subscriber_id = $1', [subscriberId]);
  for (const r of existing) {
    if (!keep.has(`${r.kind}:${specKey(parseBody(r.body))}`)) await tx.query('DELETE FROM alerts_rules WHERE id = $1', [r.id]);
  }
}

/** loadRules returns a subscriber's rules and policies as stored (ids included). */
export async function loadRules(db: Queryable, subscriberId: string): Promise<{ rules: WatchRule[]; policies: SignerPolicy[] }> {
  const rows = await db.query<{ kind: string; body: unknown }>('SELECT kind, body FROM alerts_rules WHERE subscriber_id = $1 ORDER BY created_at, id', [subscriberId]);
  return {
    rules: rows.filter((r) => r.kind === 'rule').map((r) => parseBody(r.body) as unknown as WatchRule),
    policies: rows.filter((r) => r.kind === 'policy').map((r) => parseBody(r.body) as unknown as SignerPolicy),
  };
}

/** bumpRulesVersion marks that the active rules changed (alerts/rule-source.ts reloads them). */
export async function bumpRulesVersion(tx: Queryable): Promise<void> {
  await tx.query('UPDATE alerts_rules_version SET version = version + 1 WHERE one = 1');
}

/** issueMailLinks creates the manage and unsubscribe tokens one list mail carries. */
export async function issueMailLinks(ctx: AlertsContext, tx: Queryable, subscriberId: string): Promise<AlertLinks> {
  const now = ctx.clock.nowMs();
  const manage = await issueToken(tx, subscriberId, 'manage', now, ctx.config.manageTokenTtlMs);
  const unsub = await issueToken(tx, subscriberId, 'unsubscribe', now, ctx.config.unsubscribeTokenTtlMs);
  return { manageUrl: linkFor(ctx, 'manage', manage), unsubscribeUrl: linkFor(ctx, 'unsubscribe', unsub) };
}

/** queueMail composes a mail and queues it under a fresh or given dedupe key. */
export async function queueMail(ctx: AlertsContext, tx: Queryable, subscriberId: string, to: string, kind: MessageKind, content: MailContent, links: AlertLinks | undefined, dedupeKey = `${kind}:${newRandomId('m')}`): Promise<boolean> {
  const now = ctx.clock.nowMs();
  const payload = await composeMail(ctx.mail, to, content, { dedupeKey, nowMs: now, ...(links ? { unsubscribeUrl: links.unsubscribeUrl } : {}) });
  return enqueueMessage(tx, { dedupeKey, subscriberId, channel: 'mail', kind, recipient: to, payload }, now);
}

async function ensureSubscriber(tx: Queryable, email: string, nowMs: number): Promise<string> {
  await tx.query(
    `INSERT INTO alerts_subscribers (id, email, email_key, state, delivery, follow_logs, created_at) VALUES ($1, $2, $3, 'pending', 'immediate', '[]', $4)
     ON CONFLICT (email_key) DO NOTHING`,
    [newRandomId('s'), email, emailKey(email), new Date(nowMs)],
  );
  const rows = await tx.query<{ id: string }>('SELECT id FROM alerts_subscribers WHERE email_key = $1', [emailKey(email)]);
  return rows[0]!.id;
}

function specKey(v: unknown): string {
  const { id: _i, subscriberId: _s, ...rest } = v as Record<string, unknown>;
  return canonicalJson(rest);
}

// canonicalJson sorts object keys at every level: jsonb hands objects back in its own key order.
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** parseBody reads a jsonb value that a driver may hand back as text. */
export function parseBody(v: unknown): Record<string, unknown> {
  return (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown>;
}

function jsonArray(v: unknown): string[] {
  const a = typeof v === 'string' ? (JSON.parse(v) as unknown) : v;
  return Array.isArray(a) ? a.filter((x): x is string => typeof x === 'string') : [];
}
