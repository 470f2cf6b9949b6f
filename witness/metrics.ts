// The witness's Prometheus metrics, registered on the registry it is given (never prom-client's
// global one). Origin labels are only ever followed origins (or "" for a request whose origin is
// unknown or unreadable), so an attacker cannot grow the label sets.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { WitnessErrorCode } from './errors.ts';

/**
 * WitnessRejectionCode labels a refused add-checkpoint request: a WitnessErrorCode, or one of the
 * node's own refusals before the protocol runs: 'rate_limited' (the log is over its qpd),
 * 'overloaded' (too many requests in flight), 'body_too_large' and 'unreadable_body'.
 */
export type WitnessRejectionCode = WitnessErrorCode | 'rate_limited' | 'overloaded' | 'body_too_large' | 'unreadable_body';

/** PullResult labels one poll of a pulled log; see witness/pull.ts. */
export type PullResult =
  | 'up_to_date'
  | 'cosigned'
  | 'conflict'
  | 'refused'
  | 'stale'
  | 'fetch_failed'
  | 'bad_checkpoint'
  | 'bad_tiles'
  | 'store_failed';

/** WitnessMetrics are the vigil_witness_* metrics of one witness. */
export interface WitnessMetrics {
  /** requests counts add-checkpoint answers by HTTP status and origin. */
  readonly requests: Counter<'status' | 'origin'>;
  /** rejections counts non-200 add-checkpoint answers by code. */
  readonly rejections: Counter<'code'>;
  /** conflicts counts 409 answers (the client's old size was not the witness's) by origin. */
  readonly conflicts: Counter<'origin'>;
  /** cosignDuration times successful add-checkpoint calls, body in hand to state committed. */
  readonly cosignDuration: Histogram<'decision'>;
  /** lastCosignedSize is the size of the latest checkpoint cosigned per origin. */
  readonly lastCosignedSize: Gauge<'origin'>;
  /** inFlight is the number of add-checkpoint requests being processed. */
  readonly inFlight: Gauge;
  /** pulls counts polls of pulled logs by origin and result. */
  readonly pulls: Counter<'origin' | 'result'>;
}

/** newWitnessMetrics registers the witness metrics on `registry` (one witness per registry). */
export function newWitnessMetrics(registry: Registry): WitnessMetrics {
  const registers = [registry];
  return {
    requests: new Counter({
      name: 'vigil_witness_add_checkpoint_requests_total',
      help: 'add-checkpoint answers by HTTP status and origin ("" when the origin is not followed).',
      labelNames: ['status', 'origin'],
      registers,
    }),
    rejections: new Counter({
      name: 'vigil_witness_add_checkpoint_rejections_total',
      help: 'add-checkpoint requests refused, by code.',
      labelNames: ['code'],
      registers,
    }),
    conflicts: new Counter({
      name: 'vigil_witness_add_checkpoint_conflicts_total',
      help: 'add-checkpoint 409 answers: the old size was not the latest cosigned size.',
      labelNames: ['origin'],
      registers,
    }),
    cosignDuration: new Histogram({
      name: 'vigil_witness_cosign_duration_seconds',
      help: 'Time to verify, decide, cosign and commit a checkpoint, by decision (append or refresh).',
      labelNames: ['decision'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    lastCosignedSize: new Gauge({
      name: 'vigil_witness_last_cosigned_size_entries',
      help: 'Tree size of the latest checkpoint this witness cosigned, per origin.',
      labelNames: ['origin'],
      registers,
    }),
    inFlight: new Gauge({
      name: 'vigil_witness_add_checkpoint_in_flight',
      help: 'add-checkpoint requests being processed now.',
      registers,
    }),
    pulls: new Counter({
      name: 'vigil_witness_pull_polls_total',
      help: 'Polls of pulled logs by origin and result.',
      labelNames: ['origin', 'result'],
      registers,
    }),
  };
}
