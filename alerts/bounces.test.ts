// The VERP address round trip and the RFC 3464 delivery-status reader, on their own; the listener
// runs end to end in test/e2e/alerts-bounce.test.ts.
import { describe, expect, it } from 'vitest';
import { isPermanentFailure, parseDeliveryStatus, parseVerp, verpAddress } from './bounces.ts';

const TOKEN = '0123456789abcdef0123456789abcdef';

describe('VERP addresses', () => {
  it('round-trip the message id and token, and read nothing else', () => {
    const a = verpAddress('bounces@bounce.example', 42n, TOKEN);
    expect(a).toBe(`bounces+42.${TOKEN}@bounce.example`);
    expect(parseVerp('bounces@bounce.example', a)).toEqual({ id: 42n, token: TOKEN });
    expect(parseVerp('bounces@bounce.example', a.replace('bounce.example', 'BOUNCE.Example'))).toEqual({ id: 42n, token: TOKEN });
    for (const other of [
      `bounces+042.${TOKEN}@bounce.example`, // not the canonical id
      `bounces+42.${TOKEN.toUpperCase()}@bounce.example`,
      `bounces+42.${TOKEN}0@bounce.example`,
      `bounces+42.${TOKEN}@other.example`,
      `other+42.${TOKEN}@bounce.example`,
      `bounces+42@bounce.example`,
      `bounces+99999999999999999999.${TOKEN}@bounce.example`,
      'bounces@bounce.example',
      '',
    ]) {
      expect(parseVerp('bounces@bounce.example', other), other).toBeUndefined();
    }
  });
});

describe('parseDeliveryStatus', () => {
  it('reads each recipient block, unfolding continued lines', () => {
    const text = [
      'Reporting-MTA: dns; mx.example.com',
      '',
      'Final-Recipient: rfc822; a@example.com',
      'Action: delayed',
      'Status: 4.4.7',
      '',
      'Final-Recipient: rfc822;',
      '  b@example.com',
      'Action:',
      '  FAILED',
      'Status: 5.1.1 (user unknown)',
      '',
    ].join('\r\n');
    const blocks = parseDeliveryStatus(text);
    expect(blocks).toEqual([{ action: 'delayed', status: '4.4.7' }, { action: 'failed', status: '5.1.1 (user unknown)' }]);
    expect(isPermanentFailure(blocks)).toBe(true);
  });

  it('counts only failed with a 5.x.x status as permanent', () => {
    expect(isPermanentFailure([{ action: 'failed', status: '4.2.2' }])).toBe(false);
    expect(isPermanentFailure([{ action: 'delivered', status: '2.0.0' }])).toBe(false);
    expect(isPermanentFailure([{ action: 'failed', status: '' }])).toBe(false);
    expect(isPermanentFailure([{ action: 'failed', status: '5.7.1' }])).toBe(true);
    expect(isPermanentFailure(parseDeliveryStatus('no fields here at all'))).toBe(false);
  });
});
