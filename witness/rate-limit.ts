// Per-log rate limits for add-checkpoint. A witness-network log list gives each log a `qpd`, the
// add-checkpoint requests per day it may send (transparency-dev/witness-network
// log-list-format.md); the witness enforces it as a token bucket refilled at qpd/86400 tokens per
// second, answering 429 with Retry-After when a log is over its rate (TD-witness's ErrPushback,
// which sigsum-go's client understands).
import type { Clock } from '../platform/clock.ts';
import { WitnessError } from './errors.ts';

/** SECONDS_PER_DAY turns a per-day quota into a per-second rate. */
export const SECONDS_PER_DAY = 86_400;

/**
 * DEFAULT_MIN_BURST is the smallest bucket, in requests: a log may send this many at once (a
 * checkpoint, a 409 and its retry, a few logs' worth of catch-up) before the rate applies. A
 * bucket is never smaller than one second of the log's rate either.
 */
export const DEFAULT_MIN_BURST = 10;

/** RateDecision is the answer of LogRateLimiter.check. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

interface Bucket {
  readonly perMs: number;
  readonly burst: number;
  tokens: number;
  atMs: number;
}

/**
 * LogRateLimiter keeps one token bucket per rate-limited origin; origins without a qpd are not
 * limited. `check` only looks and `take` spends, so that the witness spends a log's budget only on
 * requests that log really signed: a stranger who names the log in unsigned bodies cannot use up
 * its quota. Several requests checked at once may all pass and drive a bucket below zero; the debt
 * is paid back before the next one passes. Not thread-safe, and needs none: Node runs it on one
 * thread, with no await inside a call.
 */
export class LogRateLimiter {
  readonly #clock: Clock;
  readonly #buckets = new Map<string, Bucket>();

  /** qpdByOrigin gives each limited origin its requests per day (a positive number). */
  constructor(qpdByOrigin: ReadonlyMap<string, number>, clock: Clock, minBurst = DEFAULT_MIN_BURST) {
    this.#clock = clock;
    const now = clock.nowMs();
    for (const [origin, qpd] of qpdByOrigin) {
      if (!(qpd > 0) || !Number.isFinite(qpd)) {
        throw new WitnessError('invalid_config', `qpd for ${JSON.stringify(origin)} must be a positive number`);
      }
      const perMs = qpd / SECONDS_PER_DAY / 1000;
      const burst = Math.max(minBurst, perMs * 1000);
      this.#buckets.set(origin, { perMs, burst, tokens: burst, atMs: now });
    }
  }

  /** isLimited reports whether an origin has a rate limit. */
  isLimited(origin: string): boolean {
    return this.#buckets.has(origin);
  }

  /** check reports whether `origin` may send a request now, and if not, when to retry. */
  check(origin: string): RateDecision {
    const b = this.#refilled(origin);
    if (b === undefined || b.tokens >= 1) return { allowed: true };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / b.perMs / 1000)) };
  }

  /** take spends one request of `origin`'s budget (nothing for an origin without a limit). */
  take(origin: string): void {
    const b = this.#refilled(origin);
    if (b !== undefined) b.tokens -= 1;
  }

  #refilled(origin: string): Bucket | undefined {
    const b = this.#buckets.get(origin);
    if (b === undefined) return undefined;
    const now = this.#clock.nowMs();
    // A clock that steps back refills nothing rather than draining the bucket.
    if (now > b.atMs) b.tokens = Math.min(b.burst, b.tokens + (now - b.atMs) * b.perMs);
    b.atMs = Math.max(b.atMs, now);
    return b;
  }
}
