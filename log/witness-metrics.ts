// The log's witnessing metrics (vigil_log_witness_*): what the witness client and the publisher do.
// Labels are only the names of the policy's witnesses and fixed strings, so the label sets are
// bounded by the operator's configuration, never by what a witness answers.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * WitnessFailure names why a submission to a witness did not yield a cosignature; it is the
 * `result` label of vigil_log_witness_submissions_total (beside 'cosigned').
 * - unreachable: the connection failed. timeout: no answer within the timeout.
 * - overloaded: 429 or 5xx after the retries, or a Retry-After beyond the retry limit.
 * - rejected: 400, 403, 404 or another status (the witness does not follow or trust this log).
 * - conflict: 409 answers kept coming (more than the allowed resends).
 * - bad_response: the answer did not parse (a 409 body or Content-Type, a 200 body), or held no
 *   cosignature from the witness's key.
 * - bad_cosignature: a cosignature line from the witness's key did not verify.
 * - misbehaviour: the witness claims a tree larger than the log's, or finds the log's history
 *   inconsistent with what it cosigned (422); logged as evidence, never counted towards quorum.
 * - closed: the publisher is shutting down.
 * - internal: the log's side failed (the consistency proof could not be read); not the witness's doing.
 */
export type WitnessFailure =
  | 'unreachable'
  | 'timeout'
  | 'overloaded'
  | 'rejected'
  | 'conflict'
  | 'bad_response'
  | 'bad_cosignature'
  | 'misbehaviour'
  | 'closed'
  | 'internal';

/** QuorumResult labels vigil_log_witness_quorum_total: see WitnessMetrics.quorum. */
export type QuorumResult = 'met' | 'failed' | 'failed_open';

/** WitnessMetrics are the witness client's and the publisher's instruments. */
export interface WitnessMetrics {
  /** requests counts HTTP requests by witness and status (a number, 'timeout' or 'network_error'). */
  readonly requests: Counter<'witness' | 'status'>;
  /** submissions counts checkpoint submissions by witness and result ('cosigned' or a WitnessFailure). */
  readonly submissions: Counter<'witness' | 'result'>;
  /** conflicts counts 409 answers by witness (the witness's size was not the one sent). */
  readonly conflicts: Counter<'witness'>;
  /** misbehaviour counts findings against a witness (or the log) by witness and reason. */
  readonly misbehaviour: Counter<'witness' | 'reason'>;
  /** cosignSeconds observes the time from starting a submission to holding a verified cosignature. */
  readonly cosignSeconds: Histogram<'witness'>;
  /** cosignedSize is the size of the latest checkpoint each witness cosigned for this log. */
  readonly cosignedSize: Gauge<'witness'>;
  /**
   * quorum counts checkpoints by outcome: 'met' when the policy's quorum is first reached,
   * 'failed' when every witness answered (or was backing off) without reaching it, 'failed_open'
   * when fail-open published the checkpoint without quorum.
   */
  readonly quorum: Counter<'result'>;
  /** quorumMet is 1 once the log's latest checkpoint met the quorum, 0 once it failed to. */
  readonly quorumMet: Gauge;
  /** publishedSize is the size of the checkpoint served at /checkpoint. */
  readonly publishedSize: Gauge;
  /** storeErrors counts failed writes of the witness-size hints (they do not stop witnessing). */
  readonly storeErrors: Counter;
}

/** createWitnessMetrics registers the vigil_log_witness_* metrics on `registry` (once per registry). */
export function createWitnessMetrics(registry: Registry): WitnessMetrics {
  const registers = [registry];
  return {
    requests: new Counter({
      name: 'vigil_log_witness_requests_total',
      help: 'add-checkpoint requests to witnesses, by witness and HTTP status (or timeout, network_error)',
      labelNames: ['witness', 'status'],
      registers,
    }),
    submissions: new Counter({
      name: 'vigil_log_witness_submissions_total',
      help: 'Checkpoint submissions to witnesses, by witness and result',
      labelNames: ['witness', 'result'],
      registers,
    }),
    conflicts: new Counter({
      name: 'vigil_log_witness_conflicts_total',
      help: '409 answers from witnesses, by witness',
      labelNames: ['witness'],
      registers,
    }),
    misbehaviour: new Counter({
      name: 'vigil_log_witness_misbehaviour_total',
      help: 'Witness answers that contradict the log (a larger tree, an inconsistent history), by witness and reason',
      labelNames: ['witness', 'reason'],
      registers,
    }),
    cosignSeconds: new Histogram({
      name: 'vigil_log_witness_cosign_duration_seconds',
      help: 'Time from starting a submission to holding a verified cosignature, by witness',
      labelNames: ['witness'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    cosignedSize: new Gauge({
      name: 'vigil_log_witness_cosigned_size',
      help: 'Size of the latest checkpoint of this log each witness cosigned',
      labelNames: ['witness'],
      registers,
    }),
    quorum: new Counter({
      name: 'vigil_log_witness_quorum_total',
      help: 'Checkpoints by witness quorum outcome (met, failed, failed_open)',
      labelNames: ['result'],
      registers,
    }),
    quorumMet: new Gauge({ name: 'vigil_log_witness_quorum_met', help: '1 once the latest checkpoint met the witness quorum, 0 once it failed to', registers }),
    publishedSize: new Gauge({ name: 'vigil_log_witness_published_size', help: 'Size of the checkpoint published at /checkpoint', registers }),
    storeErrors: new Counter({
      name: 'vigil_log_witness_store_errors_total',
      help: 'Failed writes of the per-witness size hints',
      registers,
    }),
  };
}
