// The log's tables (component 'log' in vigil_migrations). One log per database schema. Sizes and
// indices are int8, so a log holds at most 2^63 − 1 entries.
import type { Db } from '../platform/db.ts';
import { applyMigrations, type Migration } from '../platform/migrate.ts';

/**
 * LOG_MIGRATIONS creates the log's storage:
 * - log_state: the single row of the log (origin, size, root, latest signed checkpoint note, and
 *   lock_key, the random advisory-lock key of its sequencer). Its (size, root) is the
 *   compare-and-swap guard of every integration.
 * - log_entries: every entry (body = the exact leaf bytes, leaf_hash unique for deduplication).
 * - log_tiles / log_bundles: one row per tile position holding its widest content: a full tile
 *   (width 256) is written once; the right-edge partial tile is replaced by a wider one with each
 *   checkpoint, in the transaction that signs it. The partial tile of any older checkpointed size
 *   is a prefix of the stored row (the tree only grows), so the read side serves every
 *   checkpointed size (tlog-tiles "Partial Tiles") without storing 255 copies per position.
 * - log_checkpoints: every checkpoint ever signed.
 * - log_pending: entries accepted by a process that is not the sequencer, waiting to be integrated.
 * - log_published: the single row of the checkpoint served at /checkpoint (the log's note plus the
 *   witness cosignatures collected for it); its size never decreases.
 * - log_witness_sizes: per witness (`<key name>+<hex key ID>`), the size it last cosigned or named.
 */
export const LOG_MIGRATIONS: readonly Migration[] = [
  // One statement per migration: PGlite runs a migration as one prepared statement.
  {
    id: '0001-log-state',
    sql: `CREATE TABLE log_state (
      singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
      origin text NOT NULL,
      lock_key bigint NOT NULL,
      size bigint NOT NULL CHECK (size >= 0),
      root bytea NOT NULL CHECK (length(root) = 32),
      checkpoint text NOT NULL,
      updated_at timestamptz NOT NULL)`,
  },
  {
    id: '0002-log-entries',
    sql: `CREATE TABLE log_entries (
      idx bigint PRIMARY KEY CHECK (idx >= 0),
      leaf_hash bytea NOT NULL UNIQUE CHECK (length(leaf_hash) = 32),
      body bytea NOT NULL CHECK (length(body) <= 65535),
      integrated_time bigint NOT NULL)`,
  },
  {
    id: '0003-log-tiles',
    sql: `CREATE TABLE log_tiles (
      level smallint NOT NULL CHECK (level BETWEEN 0 AND 63),
      idx bigint NOT NULL CHECK (idx >= 0),
      width smallint NOT NULL CHECK (width BETWEEN 1 AND 256),
      data bytea NOT NULL CHECK (length(data) = 32 * width),
      PRIMARY KEY (level, idx))`,
  },
  {
    id: '0004-log-bundles',
    sql: `CREATE TABLE log_bundles (
      idx bigint PRIMARY KEY CHECK (idx >= 0),
      width smallint NOT NULL CHECK (width BETWEEN 1 AND 256),
      data bytea NOT NULL)`,
  },
  {
    id: '0005-log-checkpoints',
    sql: `CREATE TABLE log_checkpoints (
      size bigint PRIMARY KEY CHECK (size >= 0),
      root bytea NOT NULL CHECK (length(root) = 32),
      note text NOT NULL,
      created_at timestamptz NOT NULL)`,
  },
  {
    id: '0006-log-pending',
    sql: `CREATE TABLE log_pending (
      id bigserial PRIMARY KEY,
      leaf_hash bytea NOT NULL UNIQUE CHECK (length(leaf_hash) = 32),
      body bytea NOT NULL CHECK (length(body) <= 65535),
      created_at timestamptz NOT NULL)`,
  },
  // Witnessing (publisher.ts): the checkpoint served at /checkpoint, which only grows (the
  // publisher's compare-and-swap), and each witness's last known size, a hint that saves a 409
  // round trip after a restart.
  {
    id: '0007-log-published',
    sql: `CREATE TABLE log_published (
      singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
      size bigint NOT NULL CHECK (size >= 0),
      note text NOT NULL,
      quorum_met boolean NOT NULL,
      cosigners integer NOT NULL CHECK (cosigners >= 0),
      published_at timestamptz NOT NULL)`,
  },
  {
    id: '0008-log-witness-sizes',
    sql: `CREATE TABLE log_witness_sizes (
      witness_key text PRIMARY KEY,
      size bigint NOT NULL CHECK (size >= 0),
      updated_at timestamptz NOT NULL)`,
  },
];

/** applyLogMigrations brings the database up to the log's schema; safe to call at every start. */
export function applyLogMigrations(db: Db): Promise<string[]> {
  return applyMigrations(db, 'log', LOG_MIGRATIONS);
}
