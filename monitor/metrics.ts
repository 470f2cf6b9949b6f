// The monitor's Prometheus metrics, registered on the registry it is given (never prom-client's
// global one). The origin label only ever holds configured origins, so log content cannot grow
// the label sets.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { FindingKind } from './findings.ts';

/** PollResult labels one poll of a log by the tailer; see monitor/tailer.ts. */
export type PollResult = 'advanced' | 'up_to_date' | 'stale' | 'unreachable' | 'halted' | 'fenced';

/**
 * VerificationFailure labels a failed check: bad_signature (checkpoint note), no_quorum,
 * inconsistent (consistency proof or older checkpoint), split_view (a witness's checkpoint),
 * bad_tile (a tile that does not authenticate), bad_entries (an entry that does not hash into the tree).
 */
export type VerificationFailure = 'bad_signature' | 'no_quorum' | 'inconsistent' | 'split_view' | 'bad_tile' | 'bad_entries';

/** MonitorMetrics are the vigil_monitor_* metrics of one process (tailer, worker or both). */
export interface MonitorMetrics {
  /** headSize is the size of the latest verified checkpoint per log. */
  readonly headSize: Gauge<'origin'>;
  /** cursor is the index below which every entry is processed, per log. */
  readonly cursor: Gauge<'origin'>;
  /** lagEntries is headSize − cursor per log. */
  readonly lagEntries: Gauge<'origin'>;
  /** lagSeconds is how long ago the oldest unprocessed entry was first seen in a verified checkpoint. */
  readonly lagSeconds: Gauge<'origin'>;
  /** entriesVerified counts entries checked against the tree (rate() gives entries per second). */
  readonly entriesVerified: Counter<'origin'>;
  /** entriesUnparsed counts verified entries the parser could not read (not indexed, not matched). */
  readonly entriesUnparsed: Counter<'origin'>;
  /** rangesDone counts ranges committed by this process's workers. */
  readonly rangesDone: Counter<'origin'>;
  /** findings counts new findings (not duplicates) by kind. */
  readonly findings: Counter<'origin' | 'kind'>;
  /** verificationFailures counts failed checks by what failed. */
  readonly verificationFailures: Counter<'origin' | 'check'>;
  /** polls counts tailer polls by result. */
  readonly polls: Counter<'origin' | 'result'>;
  /** jobErrors counts range jobs that threw (and will be retried) by error code. */
  readonly jobErrors: Counter<'origin' | 'code'>;
  /** backfillRemaining is the number of entries in ranges not done yet: a backfill's (or the lag's) remaining work. */
  readonly backfillRemaining: Gauge<'origin'>;
  /** isLeader is 1 while this process is the tailer of a log. */
  readonly isLeader: Gauge<'origin'>;
}

/** newMonitorMetrics registers the monitor metrics on `registry` (once per registry). */
export function newMonitorMetrics(registry: Registry): MonitorMetrics {
  const registers = [registry];
  const gauge = <L extends string>(name: string, help: string, labelNames: L[]) => new Gauge<L>({ name, help, labelNames, registers });
  const counter = <L extends string>(name: string, help: string, labelNames: L[]) => new Counter<L>({ name, help, labelNames, registers });
  return {
    headSize: gauge('vigil_monitor_head_size_entries', 'Size of the latest verified checkpoint.', ['origin']),
    cursor: gauge('vigil_monitor_cursor_entries', 'Index below which every entry is processed.', ['origin']),
    lagEntries: gauge('vigil_monitor_lag_entries', 'Entries behind the latest verified checkpoint.', ['origin']),
    lagSeconds: gauge('vigil_monitor_lag_seconds', 'Age of the oldest unprocessed entry, from when it was first verified.', ['origin']),
    entriesVerified: counter('vigil_monitor_entries_verified_total', 'Entries checked against the authenticated tree.', ['origin']),
    entriesUnparsed: counter('vigil_monitor_entries_unparsed_total', 'Verified entries that could not be parsed.', ['origin']),
    rangesDone: counter('vigil_monitor_ranges_done_total', 'Ranges whose findings and index rows committed.', ['origin']),
    findings: counter('vigil_monitor_findings_total', 'New findings by kind.', ['origin', 'kind']),
    verificationFailures: counter('vigil_monitor_verification_failures_total', 'Failed verifications by check.', ['origin', 'check']),
    polls: counter('vigil_monitor_polls_total', 'Checkpoint polls by result.', ['origin', 'result']),
    jobErrors: counter('vigil_monitor_job_errors_total', 'Range jobs that threw, by error code.', ['origin', 'code']),
    backfillRemaining: gauge('vigil_monitor_backfill_remaining_entries', 'Entries in ranges not done yet (a backfill, or the lag).', ['origin']),
    isLeader: gauge('vigil_monitor_tailer_leader', '1 while this process tails the log.', ['origin']),
  };
}

/** countFindings adds new findings to the findings counter. */
export function countFindings(metrics: MonitorMetrics, origin: string, kinds: readonly FindingKind[]): void {
  for (const kind of kinds) metrics.findings.inc({ origin, kind });
}
