// composeMail: the headers every list mail carries, a Message-ID that is stable per dedupe key, and
// a DKIM signature that covers the List-Unsubscribe headers (RFC 8058 section 4) when configured.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseMail } from '../test/e2e/alerts-harness.ts';
import { composeMail, messageIdFor } from './messages.ts';

const content = { subject: 'Unexpected signer\r\nBcc: evil@example.com', text: 'plain', html: '<p>html</p>' };

describe('composeMail', () => {
  it('writes the list headers, a stable Message-ID and both parts; a subject cannot add a header', async () => {
    const raw = new TextDecoder().decode(await composeMail({ from: 'Vigil <alerts@vigil.test>', domain: 'vigil.test' }, 'a@example.com', content, { dedupeKey: 'alert:s:k', unsubscribeUrl: 'https://vigil.test/unsubscribe?token=a.b', nowMs: 0 }));
    const mail = parseMail(raw, []);
    expect(mail.headers.get('list-unsubscribe')).toBe('<https://vigil.test/unsubscribe?token=a.b>');
    expect(mail.headers.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(mail.headers.get('list-id')).toBe('Vigil alerts <alerts.vigil.test>');
    expect(mail.headers.get('auto-submitted')).toBe('auto-generated');
    expect(mail.headers.get('message-id')).toBe(messageIdFor('alert:s:k', 'vigil.test'));
    expect(mail.headers.has('bcc')).toBe(false);
    expect([mail.text.trim(), mail.html.trim()]).toEqual(['plain', '<p>html</p>']);
  });

  it('DKIM-signs the List-Unsubscribe headers when a key is configured', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const dkim = { domainName: 'vigil.test', keySelector: 'mail', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
    const raw = new TextDecoder().decode(await composeMail({ from: 'alerts@vigil.test', domain: 'vigil.test', dkim }, 'a@example.com', content, { dedupeKey: 'k', unsubscribeUrl: 'https://vigil.test/u?token=a.b', nowMs: 0 }));
    const sig = parseMail(raw, []).headers.get('dkim-signature') ?? '';
    expect(sig).toMatch(/d=vigil\.test/);
    const signed = (/;\s*h=([^;]+)/.exec(sig)?.[1] ?? '').replace(/\s+/g, '').toLowerCase().split(':');
    expect(signed).toEqual(expect.arrayContaining(['list-unsubscribe', 'list-unsubscribe-post', 'from', 'subject']));
  });
});
