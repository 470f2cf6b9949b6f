// Sending one queued message (alerts/messages.ts has the states and the crash points): claim it in
// a transaction, send it, record the result in another. Mail retries after a stated refusal;
// webhook calls retry with the same id; both back off exponentially. A webhook that fails
// `webhookDisableAfterFailures` calls in a row is disabled; a recipient the relay refuses with a
// 5xx reply pauses mail to that address for a day, a week, a month, and is then unsubscribed.
import { createHash } from 'node:crypto';
import type { Queryable } from '../platform/db.ts';
import type { AlertsContext } from './context.ts';
import { verpAddress } from './bounces.ts';
import { errorMessage } from './errors.ts';
import { claimMessage, markFinal, markRetry, markSent, type ClaimedMessage } from './messages.ts';
import { bumpRulesVersion } from './subscriptions.ts';
import { MailSendError, type MailTransport } from './transport.ts';
import { callWebhook } from './webhook.ts';

const DAY_MS = 86_400_000;
/** BOUNCE_PAUSES_MS are the pauses after the 1st, 2nd and 3rd refusal of an address; the 4th unsubscribes it. */
export const BOUNCE_PAUSES_MS = [DAY_MS, 7 * DAY_MS, 30 * DAY_MS];

/** webhookIdFor is the Webhook-Id / Idempotency-Key of a message: the same on every attempt. */
export function webhookIdFor(dedupeKey: string): string {
  return `msg_${createHash('sha256').update(dedupeKey).digest('hex').slice(0, 32)}`;
}

/** sendMessage makes one attempt at message `id` if it is due and unclaimed. */
export async function sendMessage(ctx: AlertsContext, transport: MailTransport, id: bigint): Promise<void> {
  const now = ctx.clock.nowMs();
  const claim = await ctx.db.transaction((tx) => claimMessage(tx, id, now, ctx.config.sendLeaseMs, (m) => m.channel === 'webhook' || transport.idempotent));
  if (claim === undefined) return;
  if (claim === 'abandoned') {
    ctx.metrics.mails.inc({ kind: 'unknown', result: 'unknown' });
    ctx.logger.warn({ message_id: String(id) }, 'a mail was claimed by a sender that stopped; it may have been sent and is not sent again');
    return;
  }
  if (!(await isWanted(ctx, claim))) {
    await ctx.db.transaction((tx) => markFinal(tx, id, 'dropped', 'the subscriber unsubscribed or the address is paused'));
    (claim.channel === 'mail' ? ctx.metrics.mails.labels(claim.kind, 'dropped') : ctx.metrics.webhooks.labels('dropped')).inc();
    return;
  }
  if (claim.channel === 'mail') await sendMail(ctx, transport, claim);
  else await sendWebhook(ctx, claim);
}

async function isWanted(ctx: AlertsContext, m: ClaimedMessage): Promise<boolean> {
  if (m.kind === 'confirm' || m.kind === 'manage-link') return true;
  const rows = await ctx.db.query<{ state: string; mail_paused_until: Date | null }>('SELECT state, mail_paused_until FROM alerts_subscribers WHERE id = $1', [m.subscriberId]);
  const s = rows[0];
  if (s === undefined || s.state !== 'confirmed') return false;
  return m.channel !== 'mail' || s.mail_paused_until === null || s.mail_paused_until.getTime() <= ctx.clock.nowMs();
}

async function sendMail(ctx: AlertsContext, transport: MailTransport, m: ClaimedMessage): Promise<void> {
  const key = webhookIdFor(m.dedupeKey);
  try {
    // With a bounce address, the envelope sender names the message, so a later DSN finds it.
    const envelopeFrom = ctx.config.bounceAddress !== '' ? verpAddress(ctx.config.bounceAddress, m.id, m.bounceToken) : ctx.mail.from.replace(/^.*<([^>]+)>\s*$/, '$1');
    await transport.send(envelopeFrom, m.recipient, m.payload, key);
  } catch (err) {
    const e = err instanceof MailSendError ? err : new MailSendError(errorMessage(err), false, false, false, { cause: err });
    await ctx.db.transaction(async (tx) => {
      if (!e.definite) return markFinal(tx, m.id, 'unknown', e.message);
      if (e.recipientRefused) await recordBounce(ctx, tx, m.subscriberId);
      if (e.permanent || m.attempts >= ctx.config.mailMaxAttempts) return markFinal(tx, m.id, 'failed', e.message);
      return markRetry(tx, m.id, ctx.clock.nowMs() + backoff(ctx.config.mailBackoffMs, m.attempts), e.message);
    });
    const result = !e.definite ? 'unknown' : e.permanent || m.attempts >= ctx.config.mailMaxAttempts ? 'failed' : 'retried';
    ctx.metrics.mails.inc({ kind: m.kind, result });
    ctx.logger.warn({ message_id: String(m.id), kind: m.kind, result, err: e.message }, 'mail not sent');
    return;
  }
  await ctx.db.transaction(async (tx) => {
    await markSent(tx, m.id, ctx.clock.nowMs());
    await tx.query('UPDATE alerts_subscribers SET bounces = 0 WHERE id = $1 AND bounces <> 0', [m.subscriberId]);
  });
  ctx.metrics.mails.inc({ kind: m.kind, result: 'sent' });
}

/** recordBounce counts a bounce of the subscriber's address: pause for a day, a week, a month, then unsubscribe. */
export async function recordBounce(ctx: AlertsContext, tx: Queryable, subscriberId: string): Promise<void> {
  const rows = await tx.query<{ bounces: number }>('UPDATE alerts_subscribers SET bounces = bounces + 1 WHERE id = $1 RETURNING bounces', [subscriberId]);
  const n = Number(rows[0]?.bounces ?? 0);
  const pause = BOUNCE_PAUSES_MS[n - 1];
  if (pause !== undefined) await tx.query('UPDATE alerts_subscribers SET mail_paused_until = $2 WHERE id = $1', [subscriberId, new Date(ctx.clock.nowMs() + pause)]);
  else if (n > BOUNCE_PAUSES_MS.length) {
    await tx.query(`UPDATE alerts_subscribers SET state = 'unsubscribed', unsubscribed_at = $2 WHERE id = $1`, [subscriberId, new Date(ctx.clock.nowMs())]);
    await bumpRulesVersion(tx); // the monitor stops matching the address's rules
  }
}

async function sendWebhook(ctx: AlertsContext, m: ClaimedMessage): Promise<void> {
  const hooks = await ctx.db.query<{ url: string; secret: string; disabled_at: Date | null }>('SELECT url, secret, disabled_at FROM alerts_webhooks WHERE id = $1', [m.webhookId]);
  const hook = hooks[0];
  if (hook === undefined || hook.disabled_at !== null) {
    await ctx.db.transaction((tx) => markFinal(tx, m.id, 'dropped', 'the webhook was removed or disabled'));
    ctx.metrics.webhooks.inc({ result: 'dropped' });
    return;
  }
  const body = new TextDecoder().decode(m.payload);
  const outcome = await callWebhook(hook.url, hook.secret, webhookIdFor(m.dedupeKey), body, {
    nowMs: ctx.clock.nowMs(), timeoutMs: ctx.config.webhookTimeoutMs, allowPrivate: ctx.config.allowPrivateWebhooks,
  });
  if (outcome.ok) {
    await ctx.db.transaction(async (tx) => {
      await markSent(tx, m.id, ctx.clock.nowMs());
      await tx.query('UPDATE alerts_webhooks SET consecutive_failures = 0 WHERE id = $1', [m.webhookId]);
    });
    ctx.metrics.webhooks.inc({ result: 'sent' });
    return;
  }
  const result = await ctx.db.transaction(async (tx) => {
    const rows = await tx.query<{ consecutive_failures: number }>('UPDATE alerts_webhooks SET consecutive_failures = consecutive_failures + 1 WHERE id = $1 RETURNING consecutive_failures', [m.webhookId]);
    if (Number(rows[0]?.consecutive_failures ?? 0) >= ctx.config.webhookDisableAfterFailures) {
      await tx.query('UPDATE alerts_webhooks SET disabled_at = $2, disabled_reason = $3 WHERE id = $1 AND disabled_at IS NULL', [m.webhookId, new Date(ctx.clock.nowMs()), `disabled after ${ctx.config.webhookDisableAfterFailures} failed calls in a row; last: ${outcome.error}`.slice(0, 500)]);
      await markFinal(tx, m.id, 'failed', outcome.error);
      return 'disabled' as const;
    }
    if (outcome.refused || m.attempts >= ctx.config.webhookMaxAttempts) {
      await markFinal(tx, m.id, 'failed', outcome.error);
      return outcome.refused ? ('refused' as const) : ('failed' as const);
    }
    await markRetry(tx, m.id, ctx.clock.nowMs() + backoff(ctx.config.webhookBackoffMs, m.attempts), outcome.error);
    return 'retried' as const;
  });
  if (result === 'disabled') {
    ctx.metrics.webhooksDisabled.inc();
    ctx.metrics.webhooks.inc({ result: 'failed' });
  } else ctx.metrics.webhooks.inc({ result });
  ctx.logger.warn({ message_id: String(m.id), result, err: outcome.error }, 'webhook call failed');
}

function backoff(baseMs: number, attempts: number): number {
  return baseMs * 2 ** Math.max(0, Math.min(attempts - 1, 20));
}
