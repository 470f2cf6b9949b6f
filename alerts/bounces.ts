// Late bounces. A relay that accepted a mail can still fail to deliver it and say so later, in a
// delivery status notification (DSN, RFC 3464) sent to the mail's envelope sender. With
// `bounceAddress` set, every mail leaves with a VERP envelope sender naming the message,
// `<local>+<id>.<token>@<domain>` (token: the message's random bounce_token), and
// `bounceListen` runs an SMTP listener for the DSNs that come back:
//
// - RCPT TO is accepted only for such an address whose message exists and whose token matches
//   (compared in constant time), so nobody can make another subscriber's mail count as bounced;
// - DATA is read up to MAX_BOUNCE_BYTES and parsed with mailparser; a message/delivery-status (or
//   message/global-delivery-status, RFC 6533) part counts as a bounce when a recipient block says
//   `Action: failed` with a 5.x.x `Status` (RFC 3463 permanent failure);
// - a bounce counts once per message (bounced_at) on the same ladder as a refusal during the SMTP
//   session (sender.ts): pauses of a day, a week, a month, then unsubscribed;
// - anything else sent there (delayed or delivered notices, auto-replies, non-standard bounces) is
//   accepted and ignored, and counted.
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { AlertsContext } from './context.ts';
import { errorMessage } from './errors.ts';
import { recordBounce } from './sender.ts';

/** MAX_BOUNCE_BYTES bounds one DSN (they quote at most the headers of the mail, usually). */
export const MAX_BOUNCE_BYTES = 256 * 1024;
/** MAX_BOUNCE_RECIPIENTS bounds the RCPT TO of one DSN transaction. */
const MAX_BOUNCE_RECIPIENTS = 10;
/** MAX_STATUS_BLOCKS bounds the recipient blocks read from one delivery-status part. */
const MAX_STATUS_BLOCKS = 100;

/** BounceResult labels what a DSN did: counted a bounce, or was ignored (not a permanent failure). */
export type BounceResult = 'bounce' | 'ignored' | 'duplicate';

/** splitAddress splits `local@domain` at its last @; undefined when either side is empty. */
function splitAddress(address: string): { local: string; domain: string } | undefined {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return undefined;
  return { local: address.slice(0, at), domain: address.slice(at + 1) };
}

/** verpAddress is the envelope sender of message `id`: `<local>+<id>.<token>@<domain>` of bounceAddress. */
export function verpAddress(bounceAddress: string, id: bigint, token: string): string {
  const a = splitAddress(bounceAddress);
  if (a === undefined) throw new Error(`bounceAddress ${JSON.stringify(bounceAddress)} is not local@domain`);
  return `${a.local}+${id}.${token}@${a.domain}`;
}

/** parseVerp reads the message id and token from a VERP address of bounceAddress; undefined for any other address. */
export function parseVerp(bounceAddress: string, address: string): { id: bigint; token: string } | undefined {
  const want = splitAddress(bounceAddress);
  const got = splitAddress(address);
  if (want === undefined || got === undefined || got.domain.toLowerCase() !== want.domain.toLowerCase()) return undefined;
  const prefix = `${want.local}+`;
  if (!got.local.startsWith(prefix)) return undefined;
  const m = /^([1-9][0-9]{0,18})\.([0-9a-f]{32})$/.exec(got.local.slice(prefix.length));
  return m ? { id: BigInt(m[1]!), token: m[2]! } : undefined;
}

/** StatusBlock is one recipient block of a delivery-status part: its Action and Status, lowercased. */
export interface StatusBlock {
  action: string;
  status: string;
}

/**
 * parseDeliveryStatus reads the recipient blocks of a message/delivery-status body (RFC 3464
 * section 2: a per-message block, then per-recipient blocks, separated by blank lines; header-style
 * fields, folded lines continue with white space). Blocks without an Action are skipped.
 */
export function parseDeliveryStatus(text: string): StatusBlock[] {
  const blocks: StatusBlock[] = [];
  const unfolded = text.replace(/\r\n/g, '\n').replace(/\n[ \t]+/g, ' ');
  for (const block of unfolded.split(/\n\s*\n/).slice(0, MAX_STATUS_BLOCKS + 1)) {
    const fields = new Map<string, string>();
    for (const line of block.split('\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) fields.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim().toLowerCase());
    }
    const action = fields.get('action');
    if (action !== undefined) blocks.push({ action, status: fields.get('status') ?? '' });
  }
  return blocks;
}

/** isPermanentFailure is true when some recipient block reports a failed delivery with a 5.x.x status. */
export function isPermanentFailure(blocks: readonly StatusBlock[]): boolean {
  return blocks.some((b) => b.action === 'failed' && /^5\.\d{1,3}\.\d{1,3}\b/.test(b.status));
}

/** dsnBlocks parses a received mail and returns the recipient blocks of its delivery-status parts. */
export async function dsnBlocks(raw: Buffer): Promise<StatusBlock[]> {
  // keepDeliveryStatus: mailparser otherwise folds message/delivery-status parts into the text.
  const mail = await simpleParser(raw, { keepDeliveryStatus: true, skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true, skipTextLinks: true });
  const blocks: StatusBlock[] = [];
  for (const a of mail.attachments) {
    const type = a.contentType.toLowerCase();
    if (type === 'message/delivery-status' || type === 'message/global-delivery-status') blocks.push(...parseDeliveryStatus(a.content.toString('utf8')));
  }
  return blocks;
}

/**
 * recordLateBounce counts a DSN's permanent failure for message `id`, once per message: returns
 * 'duplicate' when the message had bounced already.
 */
export async function recordLateBounce(ctx: AlertsContext, id: bigint): Promise<'bounce' | 'duplicate'> {
  return ctx.db.transaction(async (tx) => {
    const rows = await tx.query<{ subscriber_id: string }>(
      `UPDATE alerts_messages SET bounced_at = $2 WHERE id = $1 AND channel = 'mail' AND bounced_at IS NULL RETURNING subscriber_id`,
      [id, new Date(ctx.clock.nowMs())],
    );
    if (rows.length === 0) return 'duplicate';
    await recordBounce(ctx, tx, rows[0]!.subscriber_id);
    return 'bounce';
  });
}

/** tokenMatches compares two bounce tokens in constant time. */
function tokenMatches(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** smtpError is an error smtp-server answers with `code`. */
function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/** BounceListener is a running DSN listener. */
export interface BounceListener {
  /** url is smtp://host:port of the listener. */
  readonly url: string;
  close(): Promise<void>;
}

/** startBounceListener listens for DSNs on host:port (port 0: any free port). Needs ctx.config.bounceAddress. */
export async function startBounceListener(ctx: AlertsContext, host: string, port: number): Promise<BounceListener> {
  const bounceAddress = ctx.config.bounceAddress;
  if (bounceAddress === '') throw new Error('a bounce listener needs bounceAddress');
  const messageOf = new WeakMap<SMTPServerSession, bigint[]>();

  async function acceptRecipient(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const verp = parseVerp(bounceAddress, address.address);
    if (verp === undefined) throw smtpError(550, 'no such bounce address');
    const rows = await ctx.db.query<{ bounce_token: string }>(`SELECT bounce_token FROM alerts_messages WHERE id = $1 AND channel = 'mail'`, [verp.id]);
    if (rows[0] === undefined || !tokenMatches(rows[0].bounce_token, verp.token)) throw smtpError(550, 'no such bounce address');
    const ids = messageOf.get(session) ?? [];
    if (ids.length >= MAX_BOUNCE_RECIPIENTS) throw smtpError(452, 'too many recipients');
    ids.push(verp.id);
    messageOf.set(session, ids);
  }

  async function readDsn(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    if (stream.sizeExceeded) throw smtpError(552, `a bounce is at most ${MAX_BOUNCE_BYTES} bytes`);
    const ids = messageOf.get(session) ?? [];
    messageOf.delete(session);
    // A mail mailparser cannot read is not a DSN: ignored, like any other non-DSN.
    const blocks = await dsnBlocks(Buffer.concat(chunks)).catch(() => []);
    const permanent = isPermanentFailure(blocks);
    for (const id of ids) {
      const result: BounceResult = permanent ? await recordLateBounce(ctx, id) : 'ignored';
      ctx.metrics.lateBounces.inc({ result });
      if (result === 'bounce') ctx.logger.info({ message_id: String(id) }, 'a delivery status notification reported a permanent failure');
    }
  }

  // refusal answers a failed check: its own SMTP code when it has one, else 451 (the sending MTA
  // tries again later: a database error must not lose a bounce).
  const refusal = (cb: (err?: Error) => void, what: string) => (err: unknown): void => {
    if (typeof (err as { responseCode?: unknown }).responseCode === 'number') return cb(err as Error);
    ctx.logger.warn({ err: errorMessage(err) }, `bounce listener: could not ${what}`);
    cb(smtpError(451, 'try again later'));
  };

  const server = new SMTPServer({
    name: splitAddress(bounceAddress)!.domain,
    banner: 'Vigil bounce listener',
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    size: MAX_BOUNCE_BYTES,
    maxClients: 50,
    socketTimeout: 60_000,
    onRcptTo(address, session, cb) {
      acceptRecipient(address, session).then(() => cb(), refusal(cb, 'check a recipient'));
    },
    onData(stream, session, cb) {
      const refuse = refusal(cb, 'process a notification');
      readDsn(stream, session).then(() => cb(), (err: unknown) => {
        stream.resume(); // drain what is left, so the session can answer
        refuse(err);
      });
    },
  });
  server.on('error', (err) => ctx.logger.warn({ err: errorMessage(err) }, 'bounce listener error'));
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const bound = server.server.address() as AddressInfo;
  const shownHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return { url: `smtp://${shownHost}:${bound.port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}
