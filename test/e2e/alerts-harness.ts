// Helpers for the alerts end-to-end tests: a real SMTP server on loopback (smtp-server) that keeps
// every message it accepts, a minimal MIME reader for the messages nodemailer writes, and a
// subscriber driven through the real HTTP pages.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { SMTPServer } from 'smtp-server';

/** AlertsHttp is an HTTP server on loopback that serves whichever alerts router is mounted under /alerts. */
export interface AlertsHttp {
  /** base is the URL of /alerts, the alerts' publicUrl. */
  base: string;
  /** mount serves `router` from now on (a restarted alerts instance brings a new one). */
  mount(router: express.Router): void;
  close(): void;
}

/** startAlertsHttp listens on 127.0.0.1 (any port) before the alerts start, since their config needs the URL. */
export async function startAlertsHttp(): Promise<AlertsHttp> {
  const app = express();
  let router: express.Router | undefined;
  app.use('/alerts', (req, res, next) => (router ? router(req, res, next) : res.status(503).end()));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`,
    mount: (r) => (router = r),
    close: () => server.close(),
  };
}

/** ReceivedMail is one accepted message: envelope, unfolded headers (lowercase names) and decoded parts. */
export interface ReceivedMail {
  to: string[];
  /** from is the envelope sender (MAIL FROM); empty for a mail read from a file. */
  from: string;
  raw: string;
  headers: Map<string, string>;
  text: string;
  html: string;
}

/** TestSmtp is a running SMTP server. */
export interface TestSmtp {
  url: string;
  mails: ReceivedMail[];
  /** refuse makes RCPT TO for an address fail with 550 (a bounce). */
  refuse: Set<string>;
  close(): Promise<void>;
}

/** startTestSmtp starts an SMTP server on 127.0.0.1 (no TLS, no auth). */
export async function startTestSmtp(): Promise<TestSmtp> {
  const mails: ReceivedMail[] = [];
  const refuse = new Set<string>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onRcptTo(address, _session, cb) {
      if (refuse.has(address.address)) {
        const err = new Error('no such user') as Error & { responseCode: number };
        err.responseCode = 550;
        return cb(err);
      }
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const mailFrom = session.envelope.mailFrom;
        mails.push({ ...parseMail(Buffer.concat(chunks).toString('utf8'), (session.envelope.rcptTo || []).map((a) => a.address)), from: mailFrom ? mailFrom.address : '' });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { url: `smtp://127.0.0.1:${port}`, mails, refuse, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** parseMail reads the headers and the text/html parts of a nodemailer message. */
export function parseMail(raw: string, to: string[]): ReceivedMail {
  const [head, body] = splitHead(raw);
  const headers = parseHeaders(head);
  let text = '';
  let html = '';
  const boundary = /boundary="?([^";]+)"?/.exec(headers.get('content-type') ?? '')?.[1];
  const parts = boundary ? body.split(`--${boundary}`).slice(1, -1) : [raw];
  for (const part of parts) {
    const [ph, pb] = splitHead(part.replace(/^\r\n/, ''));
    const h = parseHeaders(ph);
    const decoded = decode(pb, h.get('content-transfer-encoding') ?? '7bit');
    if ((h.get('content-type') ?? '').startsWith('text/plain')) text = decoded;
    if ((h.get('content-type') ?? '').startsWith('text/html')) html = decoded;
  }
  return { to, from: '', raw, headers, text, html };
}

function splitHead(s: string): [string, string] {
  const i = s.indexOf('\r\n\r\n');
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 4)];
}

function parseHeaders(head: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const c = line.indexOf(':');
    if (c > 0) out.set(line.slice(0, c).toLowerCase(), line.slice(c + 1).trim());
  }
  return out;
}

function decode(body: string, encoding: string): string {
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') {
    const bytes = body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

/** linkIn returns the first URL in text that contains `path` (e.g. "/confirm?token="). */
export function linkIn(text: string, path: string): string {
  const m = new RegExp(`https?://\\S*${path.replace(/[?]/g, '\\?')}[A-Za-z0-9._%-]+`).exec(text);
  if (!m) throw new Error(`no ${path} link in:\n${text}`);
  return m[0];
}

/** tokenOf returns the token query parameter of a link. */
export function tokenOf(link: string): string {
  return new URL(link).searchParams.get('token') ?? '';
}

/** postForm POSTs an urlencoded form and returns status and body text. */
export async function postForm(url: string, fields: Record<string, string>): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
  return { status: res.status, body: await res.text() };
}

/** postJson POSTs JSON and returns status and parsed body. */
export async function postJson(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
