// The outbox of outgoing messages (alerts_messages): every mail and webhook call is a row,
// rendered in full when it is queued, in the transaction that decided to send it (the fan-out of a
// finding, a confirmation request, a digest). Senders then move each row through
//
//   pending ──claim (commit)──▶ sending ──send──▶ sent | pending (retry later) | failed
//
// Crash points, and why a retry never sends a message twice:
// - before the queuing transaction commits: nothing exists; the finding is read again after the
//   cursor, and the delivery key (subscriber, finding) makes the fan-out insert it once.
// - after the claim commits, before or while sending: the row stays 'sending' until its lease
//   ends. A webhook call is then sent again with the same Webhook-Id / Idempotency-Key, which
//   receivers use to drop a repeat. A mail cannot carry such a promise (SMTP has no idempotency),
//   so a mail whose lease ended is marked 'unknown' and never sent again: at most once, counted in
//   vigil_alerts_mails_total{result="unknown"} and shown on the manage page. Mail written to the
//   outbox folder is the exception: the file name is the message id, so writing it again replaces
//   it, and an outbox mail is simply written again.
// - after sending, before the result commits: the same as above (the lease ends).
// - a refusal the relay or receiver stated (an SMTP reply code, an HTTP status, a connection that
//   was never made) is not ambiguous: the row goes back to 'pending' with exponential backoff.
import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { Queryable } from '../platform/db.ts';
import type { MailContent } from './mail-render.ts';

/** MessageChannel is how a message leaves: a mail or a webhook call. */
export type MessageChannel = 'mail' | 'webhook';
/** MessageKind is what a message is, the `kind` label of the metrics. */
export type MessageKind = 'confirm' | 'manage-link' | 'alert' | 'digest' | 'test';

/** MailSettings are what every mail shares. */
export interface MailSettings {
  from: string;
  /** domain is the From domain: Message-IDs and List-Id are under it. */
  domain: string;
  dkim?: { domainName: string; keySelector: string; privateKey: string };
}

/** NewMessage is a message to queue. */
export interface NewMessage {
  /** dedupeKey makes queuing idempotent: a second message with the key is not queued. */
  dedupeKey: string;
  subscriberId: string;
  channel: MessageChannel;
  kind: MessageKind;
  webhookId?: string;
  /** recipient is the address, or the webhook URL at the time of queuing (the row's URL is used to send). */
  recipient: string;
  payload: Uint8Array;
}

/** messageIdFor is the Message-ID of the mail with this dedupe key: stable, so a resend would be recognisable. */
export function messageIdFor(dedupeKey: string, domain: string): string {
  return `<${createHash('sha256').update(dedupeKey).digest('hex').slice(0, 32)}@${domain}>`;
}

/**
 * composeMail renders a complete RFC 5322 message: text and HTML parts, Auto-Submitted (RFC 3834),
 * List-Id (RFC 2919) and, for list mail, List-Unsubscribe with List-Unsubscribe-Post (RFC 8058),
 * DKIM-signed when configured (the signature covers the List-* headers).
 */
export async function composeMail(s: MailSettings, to: string, content: MailContent, opts: { dedupeKey: string; unsubscribeUrl?: string; nowMs: number }): Promise<Uint8Array> {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows', ...(s.dkim ? { dkim: s.dkim } : {}) });
  const headers: Record<string, string | { prepared: boolean; value: string }> = {
    'Auto-Submitted': 'auto-generated',
    'X-Auto-Response-Suppress': 'All',
    'List-Id': { prepared: true, value: `Vigil alerts <alerts.${s.domain}>` },
  };
  if (opts.unsubscribeUrl !== undefined) {
    headers['List-Unsubscribe'] = { prepared: true, value: `<${opts.unsubscribeUrl}>` };
    headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
  }
  const info = await transport.sendMail({
    from: s.from, to, subject: content.subject, text: content.text, html: content.html, headers,
    messageId: messageIdFor(opts.dedupeKey, s.domain), date: new Date(opts.nowMs),
  });
  return new Uint8Array(info.message as Buffer);
}

/** enqueueMessage queues a message unless its dedupe key is queued already; returns whether it was queued. */
export async function enqueueMessage(tx: Queryable, m: NewMessage, nowMs: number): Promise<boolean> {
  const rows = await tx.query(
    `INSERT INTO alerts_messages (dedupe_key, subscriber_id, channel, kind, webhook_id, recipient, payload, state, next_attempt_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $8) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
    [m.dedupeKey, m.subscriberId, m.channel, m.kind, m.webhookId ?? null, m.recipient, m.payload, new Date(nowMs)],
  );
  return rows.length > 0;
}

/** ClaimedMessage is a message a sender holds for one attempt. */
export interface ClaimedMessage {
  id: bigint;
  dedupeKey: string;
  subscriberId: string;
  channel: MessageChannel;
  kind: MessageKind;
  webhookId: string | null;
  recipient: string;
  payload: Uint8Array;
  /** attempts counts this attempt too. */
  attempts: number;
  /** bounceToken is the secret part of the message's VERP envelope sender (alerts/bounces.ts). */
  bounceToken: string;
}

/** dueMessageIds lists messages due now: pending ones past next_attempt_at and sending ones past their lease. */
export async function dueMessageIds(db: Queryable, nowMs: number, limit: number): Promise<bigint[]> {
  const rows = await db.query<{ id: bigint }>(
    `SELECT id FROM alerts_messages WHERE (state = 'pending' AND next_attempt_at <= $1) OR (state = 'sending' AND lease_until <= $1)
     ORDER BY next_attempt_at LIMIT $2`,
    [new Date(nowMs), limit],
  );
  return rows.map((r) => r.id);
}

/**
 * claimMessage takes message `id` for one attempt when it is due, in its own transaction, and
 * returns it; undefined when another sender has it or it is not due. A mail whose previous claim's
 * lease ended (its sender died mid-send) is marked 'unknown' instead, unless `resendable` says a
 * second copy is harmless; returned as `abandoned` so the caller can count it.
 */
export async function claimMessage(tx: Queryable, id: bigint, nowMs: number, leaseMs: number, resendable: (m: { channel: MessageChannel }) => boolean): Promise<ClaimedMessage | 'abandoned' | undefined> {
  const now = new Date(nowMs);
  const rows = await tx.query<{ state: string; channel: MessageChannel; lease_until: Date | null; next_attempt_at: Date }>(
    'SELECT state, channel, lease_until, next_attempt_at FROM alerts_messages WHERE id = $1 FOR UPDATE SKIP LOCKED', [id],
  );
  const row = rows[0];
  if (row === undefined) return undefined;
  const abandoned = row.state === 'sending' && row.lease_until !== null && row.lease_until <= now;
  if (!(row.state === 'pending' && row.next_attempt_at <= now) && !abandoned) return undefined;
  if (abandoned && !resendable(row)) {
    await tx.query(`UPDATE alerts_messages SET state = 'unknown', lease_until = NULL, last_error = $2 WHERE id = $1`, [id, 'the sender stopped during the attempt; it may have been sent, so it is not sent again']);
    return 'abandoned';
  }
  const claimed = await tx.query<{ dedupe_key: string; subscriber_id: string; kind: MessageKind; webhook_id: string | null; recipient: string; payload: Uint8Array; attempts: number; bounce_token: string }>(
    `UPDATE alerts_messages SET state = 'sending', attempts = attempts + 1, lease_until = $2 WHERE id = $1
     RETURNING dedupe_key, subscriber_id, kind, webhook_id, recipient, payload, attempts, bounce_token`,
    [id, new Date(nowMs + leaseMs)],
  );
  const c = claimed[0]!;
  return { id, dedupeKey: c.dedupe_key, subscriberId: c.subscriber_id, channel: row.channel, kind: c.kind, webhookId: c.webhook_id, recipient: c.recipient, payload: c.payload, attempts: c.attempts, bounceToken: c.bounce_token };
}

/** markSent records a delivered message. */
export async function markSent(tx: Queryable, id: bigint, nowMs: number): Promise<void> {
  await tx.query(`UPDATE alerts_messages SET state = 'sent', sent_at = $2, lease_until = NULL, last_error = NULL WHERE id = $1`, [id, new Date(nowMs)]);
}

/** markRetry puts a message back to pending until retryAtMs, with the error that stopped it. */
export async function markRetry(tx: Queryable, id: bigint, retryAtMs: number, error: string): Promise<void> {
  await tx.query(`UPDATE alerts_messages SET state = 'pending', next_attempt_at = $2, lease_until = NULL, last_error = $3 WHERE id = $1`, [id, new Date(retryAtMs), error.slice(0, 500)]);
}

/** markFinal ends a message as failed (attempts used up, permanent refusal), dropped (no longer wanted) or unknown (may have been sent). */
export async function markFinal(tx: Queryable, id: bigint, state: 'failed' | 'dropped' | 'unknown', error: string): Promise<void> {
  await tx.query('UPDATE alerts_messages SET state = $2, lease_until = NULL, last_error = $3 WHERE id = $1', [id, state, error.slice(0, 500)]);
}
