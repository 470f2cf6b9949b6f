// Where mail goes: an SMTP relay through nodemailer (VIGIL_SMTP_URL), or, embedded, .eml files in
// the data folder's outbox. Both take the message exactly as composed (alerts/messages.ts).
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';

/**
 * MailSendError is a failed send, classified: `definite` means the relay stated the message was
 * not taken (an SMTP reply, or no connection at all), so trying again cannot make a second copy;
 * `permanent` means trying again will not help (a 5xx reply).
 */
export class MailSendError extends Error {
  override readonly name = 'MailSendError';

  constructor(message: string, readonly definite: boolean, readonly permanent: boolean, readonly recipientRefused: boolean, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** MailTransport sends one composed message. */
export interface MailTransport {
  /** idempotent is true when sending a message twice leaves one copy (the outbox folder). */
  readonly idempotent: boolean;
  /** send delivers raw to `to`; `key` names the message (the outbox file). Throws MailSendError. */
  send(from: string, to: string, raw: Uint8Array, key: string): Promise<void>;
  close(): void;
}

/**
 * smtpTransport sends through the relay at url (smtp:// or smtps://, credentials in the URL). It
 * keeps a pool of connections open, so an attempt is one MAIL/RCPT/DATA exchange: the window in
 * which a crash leaves a mail's fate unknown is as short as SMTP allows.
 */
export function smtpTransport(url: string, opts: { timeoutMs?: number; maxConnections?: number } = {}): MailTransport {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const t = nodemailer.createTransport(url, { pool: true, maxConnections: opts.maxConnections ?? 4, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs } as never);
  return {
    idempotent: false,
    async send(from, to, raw) {
      try {
        await t.sendMail({ envelope: { from, to: [to] }, raw: Buffer.from(raw) });
      } catch (err) {
        throw classifySmtpError(err);
      }
    },
    close: () => t.close(),
  };
}

/** classifySmtpError tells a stated refusal from an ambiguous failure (see MailSendError). */
export function classifySmtpError(err: unknown): MailSendError {
  const e = err as { message?: string; responseCode?: unknown; command?: unknown; code?: unknown };
  const message = String(e.message ?? err).slice(0, 300);
  if (typeof e.responseCode === 'number') {
    const permanent = e.responseCode >= 500;
    return new MailSendError(message, true, permanent, permanent && e.command === 'RCPT TO', { cause: err });
  }
  // No reply: only failures before any command was sent (no connection, no DNS) are certain.
  const beforeSession = e.command === 'CONN' || e.code === 'EDNS' || /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH/.test(message);
  return new MailSendError(message, beforeSession, false, false, { cause: err });
}

/** outboxTransport writes `<dir>/<key>.eml`; writing a message again replaces the same file. */
export function outboxTransport(dir: string): MailTransport {
  return {
    idempotent: true,
    async send(_from, _to, raw, key) {
      await mkdir(dir, { recursive: true });
      const path = join(dir, `${key}.eml`);
      // Write then rename, so a reader never sees half a message.
      await writeFile(`${path}.tmp`, raw);
      await rename(`${path}.tmp`, path);
    },
    close: () => undefined,
  };
}
