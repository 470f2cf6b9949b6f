// The monitor's tables. Component 'monitor': the findings outbox (monitor/findings.ts) first, then
// the tailer's and workers' state. The search index has its own component, 'monitor-search'
// (monitor/search-index.ts), so each file owns its migration ids.
//
//   monitor_checkpoints  every checkpoint the tailer verified (signature, quorum, consistency),
//                        with the signed note as evidence; workers verify entries against them.
//   monitor_logs         per log: next_index (end of the ranges recorded so far), the leader's
//                        fence token, and when the log last verified.
//   monitor_ranges       ranges of entries to process: pending → done (or failed, retried). A
//                        log's cursor is the start of its first range that is not done.
import type { Db } from '../platform/db.ts';
import { applyMigrations, type Migration } from '../platform/migrate.ts';
import { FINDINGS_MIGRATION } from './findings.ts';

/** MONITOR_MIGRATIONS are the 'monitor' component's migrations, in order. */
export const MONITOR_MIGRATIONS: readonly Migration[] = [
  FINDINGS_MIGRATION,
  {
    id: '0002-monitor-checkpoints',
    sql: `CREATE TABLE monitor_checkpoints (
      origin text NOT NULL,
      size bigint NOT NULL,
      root bytea NOT NULL,
      note text NOT NULL,
      verified_at timestamptz NOT NULL,
      PRIMARY KEY (origin, size))`,
  },
  {
    id: '0003-monitor-logs',
    sql: `CREATE TABLE monitor_logs (
      origin text PRIMARY KEY,
      next_index bigint NOT NULL,
      fence bigint NOT NULL DEFAULT 0,
      last_verified_at timestamptz NOT NULL)`,
  },
  {
    id: '0004-monitor-ranges',
    sql: `CREATE TABLE monitor_ranges (
      origin text NOT NULL,
      start_index bigint NOT NULL,
      end_index bigint NOT NULL,
      checkpoint_size bigint NOT NULL,
      state text NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
      enqueued_at timestamptz NOT NULL,
      requeues integer NOT NULL DEFAULT 0,
      done_at timestamptz,
      entries integer NOT NULL DEFAULT 0,
      unparsed integer NOT NULL DEFAULT 0,
      PRIMARY KEY (origin, start_index))`,
  },
  {
    id: '0005-monitor-ranges-open',
    sql: `CREATE INDEX monitor_ranges_open ON monitor_ranges (origin, start_index) WHERE state <> 'done'`,
  },
];

/** MONITOR_SEARCH_COMPONENT is the migrations component of the search index's tables. */
export const MONITOR_SEARCH_COMPONENT = 'monitor-search';

/**
 * migrateMonitor applies the monitor's migrations, then the search index's (passed in by the
 * caller, from monitor/search-index.ts SEARCH_MIGRATIONS) under their own component.
 */
export async function migrateMonitor(db: Db, searchMigrations: readonly Migration[] = []): Promise<void> {
  await applyMigrations(db, 'monitor', MONITOR_MIGRATIONS);
  if (searchMigrations.length > 0) await applyMigrations(db, MONITOR_SEARCH_COMPONENT, searchMigrations);
}
