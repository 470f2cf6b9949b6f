// The log core's metrics (vigil_log_*), registered on the registry the process passes in.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { LogErrorCode } from './errors.ts';

/** LogMetrics are the sequencer's and pool's instruments. */
export interface LogMetrics {
  /** entriesIntegrated counts new entries committed to the log. */
  entriesIntegrated: Counter;
  /** duplicates counts submissions answered with an existing entry. */
  duplicates: Counter;
  /** batchEntries observes the number of distinct entries per integrated batch. */
  batchEntries: Histogram;
  /** integrationSeconds observes the time from taking a batch to resolving its waiters. */
  integrationSeconds: Histogram;
  /** treeSize is the size of the latest checkpoint this process knows. */
  treeSize: Gauge;
  /** poolEntries is the number of distinct entries waiting for a batch. */
  poolEntries: Gauge;
  /** leader is 1 while this process sequences the log, else 0. */
  leader: Gauge;
  /** sequencerErrors counts failures by LogErrorCode ('batch_failed', 'overloaded', …). */
  sequencerErrors: Counter<'code'>;
}

/** createLogMetrics registers the log core's metrics on `registry` (once per registry). */
export function createLogMetrics(registry: Registry): LogMetrics {
  const registers = [registry];
  return {
    entriesIntegrated: new Counter({
      name: 'vigil_log_entries_integrated_total',
      help: 'Entries committed to the log by this process',
      registers,
    }),
    duplicates: new Counter({
      name: 'vigil_log_duplicates_total',
      help: 'Submissions answered with an entry already in the log',
      registers,
    }),
    batchEntries: new Histogram({
      name: 'vigil_log_batch_entries',
      help: 'Distinct entries per integrated batch',
      buckets: [1, 4, 16, 64, 256, 1024, 4096, 16384],
      registers,
    }),
    integrationSeconds: new Histogram({
      name: 'vigil_log_integration_duration_seconds',
      help: 'Time to integrate one batch: transaction, signing and proofs',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    treeSize: new Gauge({ name: 'vigil_log_tree_size', help: 'Size of the latest checkpoint', registers }),
    poolEntries: new Gauge({ name: 'vigil_log_pool_entries', help: 'Distinct entries waiting for a batch', registers }),
    leader: new Gauge({ name: 'vigil_log_leader', help: '1 while this process sequences the log', registers }),
    sequencerErrors: new Counter({
      name: 'vigil_log_sequencer_errors_total',
      help: 'Sequencer and pool failures by code',
      labelNames: ['code'],
      registers,
    }),
  };
}

/** countError increments sequencerErrors for a code. */
export function countError(m: LogMetrics, code: LogErrorCode): void {
  m.sequencerErrors.inc({ code });
}

/** LogHttpMetrics are the write and read API's instruments (log/http.ts). */
export interface LogHttpMetrics {
  /** rejected counts requests answered with an error, by API ('v1', 'v2', 'read') and LogErrorCode. */
  rejected: Counter<'api' | 'code'>;
  /** submitted counts entries verified and handed to the log, by API and kind. */
  submitted: Counter<'api' | 'kind'>;
}

/** createLogHttpMetrics registers the HTTP layer's metrics on `registry` (once per registry). */
export function createLogHttpMetrics(registry: Registry): LogHttpMetrics {
  const registers = [registry];
  return {
    rejected: new Counter({
      name: 'vigil_log_requests_rejected_total',
      help: 'Requests answered with an error, by API and error code',
      labelNames: ['api', 'code'],
      registers,
    }),
    submitted: new Counter({
      name: 'vigil_log_entries_submitted_total',
      help: 'Entries whose signatures verified and that were handed to the sequencer, by API and kind',
      labelNames: ['api', 'kind'],
      registers,
    }),
  };
}
