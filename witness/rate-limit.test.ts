import { describe, expect, it } from 'vitest';
import { manualClock } from '../platform/clock.ts';
import { DEFAULT_MIN_BURST, LogRateLimiter } from './rate-limit.ts';

describe('LogRateLimiter', () => {
  it('allows a burst, then qpd/86400 requests per second, with Retry-After until the next token', () => {
    const clock = manualClock(1_000_000);
    const rl = new LogRateLimiter(new Map([['a', 8640]]), clock); // one request per 10 s
    for (let i = 0; i < DEFAULT_MIN_BURST; i++) {
      expect(rl.check('a')).toEqual({ allowed: true });
      rl.take('a');
    }
    expect(rl.check('a')).toEqual({ allowed: false, retryAfterSeconds: 10 });
    clock.advance(4_000);
    expect(rl.check('a')).toEqual({ allowed: false, retryAfterSeconds: 6 });
    clock.advance(6_000);
    expect(rl.check('a')).toEqual({ allowed: true });
  });

  it('never limits origins without a qpd, and checking alone spends nothing', () => {
    const rl = new LogRateLimiter(new Map([['a', 1]]), manualClock(0));
    for (let i = 0; i < 100; i++) {
      rl.take('b');
      expect(rl.check('a').allowed).toBe(true);
    }
    expect(rl.isLimited('a')).toBe(true);
    expect(rl.isLimited('b')).toBe(false);
  });

  it('makes concurrent overdraft wait: a bucket driven below zero refills before the next pass', () => {
    const clock = manualClock(0);
    const rl = new LogRateLimiter(new Map([['a', 86_400]]), clock, 1); // 1/s, burst 1
    rl.take('a');
    rl.take('a'); // two requests passed one check
    expect(rl.check('a')).toEqual({ allowed: false, retryAfterSeconds: 2 });
    clock.advance(2_000);
    expect(rl.check('a').allowed).toBe(true);
  });

  it('sizes the bucket to at least one second of rate and survives a clock stepping back', () => {
    const clock = manualClock(10_000);
    const rl = new LogRateLimiter(new Map([['fast', 86_400 * 100]]), clock); // 100/s
    for (let i = 0; i < 100; i++) rl.take('fast');
    expect(rl.check('fast').allowed).toBe(false);
    clock.set(0);
    expect(rl.check('fast').allowed).toBe(false);
    clock.set(10_010);
    expect(rl.check('fast').allowed).toBe(true);
  });

  it('refuses a qpd that is not a positive number', () => {
    for (const qpd of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new LogRateLimiter(new Map([['a', qpd]]), manualClock(0))).toThrow(
        expect.objectContaining({ code: 'invalid_config' }),
      );
    }
  });
});
