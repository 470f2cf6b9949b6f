// Unguessable tokens for the links in mail: confirm, manage and unsubscribe. A token is
// `<selector>.<verifier>`, both random (96 and 256 bits, base64url). The database keeps the
// selector and SHA-256(verifier) only, so a copy of the database opens no link; the verifier is
// compared in constant time, so response timing says nothing about it.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Queryable } from '../platform/db.ts';
import { AlertsError } from './errors.ts';

/** TokenPurpose is what a token may do. */
export type TokenPurpose = 'confirm' | 'manage' | 'unsubscribe';

/** StoredToken is a verified token's row. */
export interface StoredToken {
  selector: string;
  purpose: TokenPurpose;
  subscriberId: string;
  payload: unknown;
  usedAt: Date | null;
}

const TOKEN = /^([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$/;

/** newRandomId returns a random id with a prefix, e.g. "s_3vQ…" (128 bits, base64url). */
export function newRandomId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}

/**
 * issueToken creates a token for subscriber and purpose, valid until now + ttlMs, and returns its
 * text (the only copy). Call it in the transaction that also stores whatever sends the token.
 */
export async function issueToken(tx: Queryable, subscriberId: string, purpose: TokenPurpose, nowMs: number, ttlMs: number, payload?: unknown): Promise<string> {
  const selector = randomBytes(12).toString('base64url');
  const verifier = randomBytes(32).toString('base64url');
  await tx.query(
    `INSERT INTO alerts_tokens (selector, verifier_hash, purpose, subscriber_id, payload, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [selector, sha256(verifier), purpose, subscriberId, payload === undefined ? null : JSON.stringify(payload), new Date(nowMs), new Date(nowMs + ttlMs)],
  );
  return `${selector}.${verifier}`;
}

/**
 * verifyToken returns the token's row when `token` (attacker-controlled) is a live token of
 * `purpose`, locking the row when `forUpdate`; otherwise it throws invalid_token, with one message
 * for every reason so that an answer reveals nothing. A used token is returned (usedAt set): the
 * caller decides whether a second use is harmless.
 */
export async function verifyToken(tx: Queryable, token: unknown, purpose: TokenPurpose, nowMs: number, forUpdate = false): Promise<StoredToken> {
  const invalid = () => new AlertsError('invalid_token', 'this link is not valid: it may have expired or been replaced by a newer one');
  const m = typeof token === 'string' ? TOKEN.exec(token) : null;
  if (m === null) throw invalid();
  const rows = await tx.query<{ verifier_hash: Uint8Array; purpose: string; subscriber_id: string; payload: unknown; expires_at: Date; used_at: Date | null }>(
    `SELECT verifier_hash, purpose, subscriber_id, payload, expires_at, used_at FROM alerts_tokens WHERE selector = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [m[1]!],
  );
  const row = rows[0];
  // Hash and compare even when the row is missing, so both paths cost the same.
  const expected = row?.verifier_hash ?? new Uint8Array(32);
  const same = timingSafeEqual(Buffer.from(expected), sha256(m[2]!));
  if (row === undefined || !same || row.purpose !== purpose || row.expires_at.getTime() <= nowMs) throw invalid();
  const payload = typeof row.payload === 'string' ? (JSON.parse(row.payload) as unknown) : row.payload;
  return { selector: m[1]!, purpose, subscriberId: row.subscriber_id, payload, usedAt: row.used_at };
}

/** markTokenUsed records that a token was used (confirm tokens work once). */
export async function markTokenUsed(tx: Queryable, selector: string, nowMs: number): Promise<void> {
  await tx.query('UPDATE alerts_tokens SET used_at = $2 WHERE selector = $1 AND used_at IS NULL', [selector, new Date(nowMs)]);
}

/** pruneTokens deletes tokens that expired before now. */
export async function pruneTokens(db: Queryable, nowMs: number): Promise<void> {
  await db.query('DELETE FROM alerts_tokens WHERE expires_at < $1', [new Date(nowMs)]);
}

function sha256(text: string): Uint8Array {
  return createHash('sha256').update(text).digest();
}
