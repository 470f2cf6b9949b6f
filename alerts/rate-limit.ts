// Fixed-window rate limits kept in SQL (alerts_rate_limits), so every API process shares them.
// They guard against subscription bombing: a bot that submits a victim's address to flood the
// inbox with confirmation mail (research note section 3).
import { isIP } from 'node:net';
import type { Queryable } from '../platform/db.ts';

/**
 * takeToken counts one event in the current window of `bucket` and reports whether it is within
 * `limit`. Run it in the transaction of the action it limits, so a rolled-back action costs nothing.
 */
export async function takeToken(tx: Queryable, bucket: string, windowMs: number, limit: number, nowMs: number): Promise<boolean> {
  const windowStart = Math.floor(nowMs / windowMs) * windowMs;
  const rows = await tx.query<{ count: number }>(
    `INSERT INTO alerts_rate_limits (bucket, window_start, count) VALUES ($1, $2, 1)
     ON CONFLICT (bucket, window_start) DO UPDATE SET count = alerts_rate_limits.count + 1 RETURNING count`,
    [bucket, windowStart],
  );
  return Number(rows[0]!.count) <= limit;
}

/** pruneRateLimits drops windows that started more than two days ago. */
export async function pruneRateLimits(db: Queryable, nowMs: number): Promise<void> {
  await db.query('DELETE FROM alerts_rate_limits WHERE window_start < $1', [nowMs - 2 * 86_400_000]);
}

/**
 * clientKey is the unit a per-client limit counts: an IPv4 address, or the /64 of an IPv6 address
 * (one subscriber line gets a whole /64, so counting single IPv6 addresses would limit nothing).
 */
export function clientKey(ip: string | undefined): string {
  if (ip === undefined) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIP(ip) !== 6) return ip;
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}
