// The alerts schema (component 'alerts'), one statement per migration. Every table is prefixed
// `alerts_`; the findings outbox it reads (monitor_findings) belongs to monitor/.
import type { Db } from '../platform/db.ts';
import { applyMigrations, type Migration } from '../platform/migrate.ts';
import { MONITOR_MIGRATIONS } from '../monitor/schema.ts';

/** ALERTS_MIGRATIONS are the alerts tables, in order. */
export const ALERTS_MIGRATIONS: readonly Migration[] = [
  {
    // state: pending (never confirmed) | confirmed | unsubscribed. delivery: immediate | hourly |
    // daily. follow_logs: JSON array of log origins whose log alerts they get, "*" for every log.
    // email_key is the lowercased address: one subscriber per address.
    id: '0001-subscribers',
    sql: `CREATE TABLE alerts_subscribers (
      id text PRIMARY KEY,
      email text NOT NULL,
      email_key text NOT NULL UNIQUE,
      state text NOT NULL,
      delivery text NOT NULL,
      follow_logs jsonb NOT NULL,
      created_at timestamptz NOT NULL,
      confirmed_at timestamptz,
      unsubscribed_at timestamptz,
      bounces integer NOT NULL DEFAULT 0,
      mail_paused_until timestamptz)`,
  },
  {
    // Tokens are selector.verifier: the selector finds the row, the verifier's SHA-256 is compared
    // in constant time. purpose: confirm | manage | unsubscribe. payload: a confirm token's request.
    id: '0002-tokens',
    sql: `CREATE TABLE alerts_tokens (
      selector text PRIMARY KEY,
      verifier_hash bytea NOT NULL,
      purpose text NOT NULL,
      subscriber_id text NOT NULL,
      payload jsonb,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      used_at timestamptz)`,
  },
  {
    // kind: rule | policy; body: the WatchRule or SignerPolicy (monitor/rules.ts), id included.
    id: '0003-rules',
    sql: `CREATE TABLE alerts_rules (
      id text PRIMARY KEY,
      subscriber_id text NOT NULL,
      kind text NOT NULL,
      body jsonb NOT NULL,
      created_at timestamptz NOT NULL)`,
  },
  { id: '0004-rules-by-subscriber', sql: 'CREATE INDEX alerts_rules_subscriber ON alerts_rules (subscriber_id)' },
  {
    // One row; bumped in every transaction that changes which rules are active (rule-source.ts).
    id: '0005-rules-version',
    sql: 'CREATE TABLE alerts_rules_version (one integer PRIMARY KEY CHECK (one = 1), version bigint NOT NULL)',
  },
  { id: '0006-rules-version-row', sql: 'INSERT INTO alerts_rules_version (one, version) VALUES (1, 0)' },
  {
    // The dedupe record: a subscriber is told of a finding once, whatever retries and restarts.
    id: '0007-deliveries',
    sql: `CREATE TABLE alerts_deliveries (
      subscriber_id text NOT NULL,
      finding_key text NOT NULL,
      finding_seq bigint NOT NULL,
      created_at timestamptz NOT NULL,
      PRIMARY KEY (subscriber_id, finding_key))`,
  },
  {
    // Findings waiting for an hourly or daily digest mail.
    id: '0008-digest-items',
    sql: `CREATE TABLE alerts_digest_items (
      subscriber_id text NOT NULL,
      finding_seq bigint NOT NULL,
      created_at timestamptz NOT NULL,
      PRIMARY KEY (subscriber_id, finding_seq))`,
  },
  {
    // Outgoing mail and webhook calls, rendered when queued. state: pending | sending | sent |
    // failed | unknown | dropped (see alerts/messages.ts for the crash points).
    id: '0009-messages',
    sql: `CREATE TABLE alerts_messages (
      id bigserial PRIMARY KEY,
      dedupe_key text NOT NULL UNIQUE,
      subscriber_id text NOT NULL,
      channel text NOT NULL,
      kind text NOT NULL,
      webhook_id text,
      recipient text NOT NULL,
      payload bytea NOT NULL,
      state text NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL,
      lease_until timestamptz,
      last_error text,
      created_at timestamptz NOT NULL,
      sent_at timestamptz)`,
  },
  { id: '0010-messages-due', sql: `CREATE INDEX alerts_messages_due ON alerts_messages (next_attempt_at) WHERE state IN ('pending', 'sending')` },
  { id: '0011-messages-by-subscriber', sql: 'CREATE INDEX alerts_messages_subscriber ON alerts_messages (subscriber_id, id)' },
  {
    id: '0012-webhooks',
    sql: `CREATE TABLE alerts_webhooks (
      id text PRIMARY KEY,
      subscriber_id text NOT NULL,
      url text NOT NULL,
      secret text NOT NULL,
      consecutive_failures integer NOT NULL DEFAULT 0,
      disabled_at timestamptz,
      disabled_reason text,
      created_at timestamptz NOT NULL)`,
  },
  {
    // Fixed-window counters: bucket names the limit and its key (address or client network).
    id: '0013-rate-limits',
    sql: `CREATE TABLE alerts_rate_limits (
      bucket text NOT NULL,
      window_start bigint NOT NULL,
      count integer NOT NULL,
      PRIMARY KEY (bucket, window_start))`,
  },
  {
    // The worker's committed position in monitor_findings.
    id: '0014-cursor',
    sql: 'CREATE TABLE alerts_cursor (consumer text PRIMARY KEY, seq bigint NOT NULL)',
  },
  { id: '0015-tokens-by-expiry', sql: 'CREATE INDEX alerts_tokens_expiry ON alerts_tokens (expires_at)' },
  // One mail per certificate (alerts/fanout.ts): cert_group names (rule, signing key, issuer, SAN)
  // for entry findings about a certificate, so a precertificate and the signatures made with its
  // certificate are recognised as one signing.
  { id: '0016-deliveries-cert-group', sql: 'ALTER TABLE alerts_deliveries ADD COLUMN cert_group text' },
  { id: '0017-deliveries-by-cert-group', sql: 'CREATE INDEX alerts_deliveries_cert_group ON alerts_deliveries (subscriber_id, cert_group) WHERE cert_group IS NOT NULL' },
  {
    // Precertificate alerts waiting (until release_at) for the signature made with the certificate,
    // to go out in one mail with it; released alone when none comes.
    id: '0018-held',
    sql: `CREATE TABLE alerts_held (
      subscriber_id text NOT NULL,
      finding_seq bigint NOT NULL,
      cert_group text NOT NULL,
      release_at timestamptz NOT NULL,
      PRIMARY KEY (subscriber_id, finding_seq))`,
  },
  { id: '0019-held-by-cert-group', sql: 'CREATE INDEX alerts_held_cert_group ON alerts_held (subscriber_id, cert_group)' },
  { id: '0020-held-due', sql: 'CREATE INDEX alerts_held_due ON alerts_held (release_at)' },
  // Late bounces (alerts/bounces.ts): each mail's VERP envelope sender carries its random token
  // (gen_random_uuid draws from the strong random source), and a message bounces at most once.
  { id: '0021-messages-bounce-token', sql: `ALTER TABLE alerts_messages ADD COLUMN bounce_token text NOT NULL DEFAULT replace(gen_random_uuid()::text, '-', '')` },
  { id: '0022-messages-bounced-at', sql: 'ALTER TABLE alerts_messages ADD COLUMN bounced_at timestamptz' },
];

/**
 * migrateAlertsDb applies the alerts migrations, after the monitor's (the worker reads the findings
 * outbox, monitor_findings, so alerts can start before or without a monitor process).
 */
export async function migrateAlertsDb(db: Db): Promise<void> {
  await applyMigrations(db, 'monitor', MONITOR_MIGRATIONS);
  await applyMigrations(db, 'alerts', ALERTS_MIGRATIONS);
}
