// Webhook signing against the Standard Webhooks specification's own example, and the address
// checks that keep webhooks off loopback, private, link-local and reserved networks.
import { describe, expect, it } from 'vitest';
import { isAlertsError } from './errors.ts';
import { isPublicAddress, parseWebhookUrl, resolveWebhookAddress, signWebhook } from './webhook.ts';

describe('signWebhook', () => {
  it('matches the Standard Webhooks example (standard-webhooks/standard-webhooks, spec/standard-webhooks.md)', () => {
    const sig = signWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    expect(sig).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });
});

describe('isPublicAddress', () => {
  it.each([
    ['8.8.8.8', true], ['1.1.1.1', true], ['2606:4700:4700::1111', true],
    ['127.0.0.1', false], ['127.255.0.9', false], ['10.0.0.1', false], ['172.16.5.4', false], ['172.32.0.1', true], ['192.168.0.1', false],
    ['169.254.169.254', false], ['100.64.0.1', false], ['0.0.0.0', false], ['224.0.0.1', false], ['255.255.255.255', false],
    ['::1', false], ['::', false], ['fe80::1', false], ['fd00::1', false], ['ff02::1', false],
    ['::ffff:127.0.0.1', false], ['::ffff:7f00:1', false], ['::ffff:8.8.8.8', true], ['64:ff9b::a00:1', false], ['not an ip', false],
  ])('%s → %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });
});

describe('parseWebhookUrl and resolveWebhookAddress', () => {
  it('refuses other schemes, credentials and overlong URLs', () => {
    for (const bad of ['ftp://example.com/', 'file:///etc/passwd', 'https://user:pw@example.com/', `https://example.com/${'a'.repeat(3000)}`, 'not a url', 42]) {
      expect(() => parseWebhookUrl(bad)).toThrowError(expect.objectContaining({ code: 'invalid_webhook' }) as Error);
    }
  });

  it('refuses a host whose addresses include a private one unless allowed', async () => {
    const err = await resolveWebhookAddress(new URL('http://localhost:9/'), false).catch((e: unknown) => e);
    expect(isAlertsError(err, 'webhook_refused')).toBe(true);
    await expect(resolveWebhookAddress(new URL('http://[::1]:9/'), true)).resolves.toEqual({ address: '::1', family: 6 });
    await expect(resolveWebhookAddress(new URL('http://93.184.216.34/'), false)).resolves.toEqual({ address: '93.184.216.34', family: 4 });
  });
});
