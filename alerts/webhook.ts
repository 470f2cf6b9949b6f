// Webhook calls: a JSON POST signed per Standard Webhooks (HMAC-SHA256 over
// "<webhook-id>.<timestamp>.<body>", header `webhook-signature: v1,<base64>`), with the id also as
// `Idempotency-Key`, so a receiver can drop a repeat. Server-side request forgery is refused: the
// host name is resolved, EVERY address is checked against the loopback, private, link-local,
// shared and reserved ranges, and the connection goes to the checked address (no second lookup a
// DNS-rebinding attacker could answer differently). Redirects are not followed.
import { createHmac, randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { Agent, request } from 'undici';
import { AlertsError } from './errors.ts';

/** MAX_WEBHOOK_URL_LENGTH bounds a webhook URL. */
export const MAX_WEBHOOK_URL_LENGTH = 2048;

const BLOCKED = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) BLOCKED.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128], ['::1', 128], ['64:ff9b:1::', 48], ['100::', 64], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8],
  ['2002::', 16], ['2001::', 32],
] as const) BLOCKED.addSubnet(net, bits, 'ipv6');

/** isPublicAddress reports whether an IP address is globally routable (not loopback, private, link-local, reserved). */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !BLOCKED.check(address, 'ipv4');
  if (family !== 6) return false;
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible and NAT64 (64:ff9b::/96) addresses carry an IPv4 address: check that.
  const embedded = /^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (embedded) return isPublicAddress(embedded[1]!);
  const mappedHex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (mappedHex) {
    const n = (parseInt(mappedHex[1]!, 16) << 16) | parseInt(mappedHex[2]!, 16);
    return isPublicAddress([24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.'));
  }
  return !BLOCKED.check(address, 'ipv6');
}

/** parseWebhookUrl validates a webhook URL (attacker-controlled): http(s), no credentials, bounded. */
export function parseWebhookUrl(value: unknown): URL {
  if (typeof value !== 'string' || value.length > MAX_WEBHOOK_URL_LENGTH || !URL.canParse(value)) throw new AlertsError('invalid_webhook', 'url: want an http(s) URL');
  const url = new URL(value);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AlertsError('invalid_webhook', 'url: want an http(s) URL');
  if (url.username !== '' || url.password !== '') throw new AlertsError('invalid_webhook', 'url: credentials in the URL are not accepted; verify the signature instead');
  return url;
}

/**
 * resolveWebhookAddress resolves the URL's host and returns the address to connect to. Unless
 * `allowPrivate`, it throws webhook_refused when ANY address of the host is not public, so a name
 * that resolves to both a public and a private address is refused.
 */
export async function resolveWebhookAddress(url: URL, allowPrivate: boolean): Promise<{ address: string; family: 4 | 6 }> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const literal = isIP(host);
  const addresses = literal !== 0 ? [{ address: host, family: literal }] : await lookup(host, { all: true, verbatim: true }).catch((err: unknown) => {
    throw new AlertsError('invalid_webhook', `couldn't resolve the webhook host: ${(err as Error).message}`, { cause: err });
  });
  if (addresses.length === 0) throw new AlertsError('invalid_webhook', 'the webhook host has no address');
  if (!allowPrivate) {
    const bad = addresses.find((a) => !isPublicAddress(a.address));
    if (bad !== undefined) throw new AlertsError('webhook_refused', `the webhook host resolves to ${bad.address}, a loopback, private or reserved address; the operator has not allowed those`);
  }
  const first = addresses[0]!;
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}

/** newWebhookSecret returns a Standard Webhooks secret: "whsec_" + base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** signWebhook returns the `webhook-signature` value for id, timestamp (seconds) and body. */
export function signWebhook(secret: string, id: string, timestampSec: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSec}.${body}`).digest('base64')}`;
}

/** WebhookOutcome is one call's result: delivered, refused by status, or failed before an answer. */
export type WebhookOutcome = { ok: true; status: number } | { ok: false; status: number | undefined; error: string; refused?: boolean };

/** callWebhook POSTs body to url, connecting only to a checked address; it never throws. */
export async function callWebhook(urlText: string, secret: string, id: string, body: string, opts: { nowMs: number; timeoutMs: number; allowPrivate: boolean }): Promise<WebhookOutcome> {
  let agent: Agent | undefined;
  try {
    const url = parseWebhookUrl(urlText);
    const target = await resolveWebhookAddress(url, opts.allowPrivate);
    agent = new Agent({
      connect: {
        // Connect to the address that was checked, whatever a second lookup would say.
        lookup: (_host, o, cb) => (o.all ? cb(null, [target] as never, undefined as never) : cb(null, target.address, target.family)),
        timeout: opts.timeoutMs,
      },
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
    const ts = Math.floor(opts.nowMs / 1000);
    const res = await request(url, {
      method: 'POST', dispatcher: agent, signal: AbortSignal.timeout(opts.timeoutMs), body,
      headers: {
        'content-type': 'application/json', 'user-agent': 'vigil-alerts', 'webhook-id': id, 'idempotency-key': id,
        'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(secret, id, ts, body),
      },
    } as Parameters<typeof request>[1]);
    await res.body.dump({ limit: 65536 }).catch(() => undefined);
    if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, status: res.statusCode };
    return { ok: false, status: res.statusCode, error: `the receiver answered ${res.statusCode}` };
  } catch (err) {
    const refused = err instanceof AlertsError && err.code === 'webhook_refused';
    return { ok: false, status: undefined, error: (err as Error).message.slice(0, 300), refused };
  } finally {
    await agent?.close().catch(() => undefined);
  }
}
