// The log's client of one witness (C2SP tlog-witness, `POST <prefix>/add-checkpoint`): it keeps the
// size the witness last cosigned, sends each checkpoint with the consistency proof from that size,
// follows 409 answers to the witness's real size, retries 429/5xx with backoff (Retry-After wins),
// and returns a cosignature only after verifying it over the exact checkpoint text. Every answer is
// attacker-controlled: a witness can lie, stall or babble, and costs us at most one failed
// submission. The publisher (publisher.ts) runs one submission per witness at a time.
import type { Clock } from '../platform/clock.ts';
import { readBodyBounded } from '../platform/http-body.ts';
import type { Logger } from '../platform/logger.ts';
import { verifyCosignature } from '../tlog/cosignature.ts';
import type { Hash } from '../tlog/merkle.ts';
import type { NoteSignature } from '../tlog/note.ts';
import {
  DEFAULT_MAX_WITNESS_BODY_BYTES,
  formatAddCheckpointRequest,
  parseAddCheckpointResponse,
  parseConflictResponse,
} from '../tlog/witness-request.ts';
import { errorMessage } from './errors.ts';
import type { WitnessFailure, WitnessMetrics } from './witness-metrics.ts';
import type { WitnessEndpoint } from './witness-policy.ts';

/** DEFAULT_WITNESS_TIMEOUT_MS is the default of timeoutMs: one HTTP request to a witness. */
export const DEFAULT_WITNESS_TIMEOUT_MS = 10_000;
/** DEFAULT_WITNESS_MAX_ATTEMPTS is the default of maxAttempts: requests per size for 429/5xx. */
export const DEFAULT_WITNESS_MAX_ATTEMPTS = 3;
/** DEFAULT_WITNESS_RETRY_BASE_MS is the default of retryBaseMs: the first retry delay, doubled each time. */
export const DEFAULT_WITNESS_RETRY_BASE_MS = 250;
/** DEFAULT_WITNESS_MAX_RETRY_DELAY_MS is the default of maxRetryDelayMs: a longer Retry-After ends the submission. */
export const DEFAULT_WITNESS_MAX_RETRY_DELAY_MS = 5_000;
/** DEFAULT_WITNESS_MAX_CONFLICTS is the default of maxConflicts: 409 answers followed per submission. */
export const DEFAULT_WITNESS_MAX_CONFLICTS = 3;

/** WitnessClientConfig tunes a WitnessClient; every field has a named default. */
export interface WitnessClientConfig {
  /** timeoutMs bounds one HTTP request, answer body included (10000). */
  timeoutMs: number;
  /** maxAttempts bounds the requests for one old size when the witness answers 429 or 5xx (3). */
  maxAttempts: number;
  /** retryBaseMs is the delay before the first retry without Retry-After, doubled per retry (250). */
  retryBaseMs: number;
  /** maxRetryDelayMs: a retry that would wait longer (Retry-After included) ends the submission (5000). */
  maxRetryDelayMs: number;
  /** maxConflicts bounds the 409 answers followed in one submission (3). */
  maxConflicts: number;
  /** maxResponseBytes bounds an answer body (128 KiB, Sunlight's witness limit). */
  maxResponseBytes: number;
}

/** defaultWitnessClientConfig fills the unset fields of a partial config with the defaults. */
export function defaultWitnessClientConfig(c: Partial<WitnessClientConfig> = {}): WitnessClientConfig {
  return {
    timeoutMs: c.timeoutMs ?? DEFAULT_WITNESS_TIMEOUT_MS,
    maxAttempts: c.maxAttempts ?? DEFAULT_WITNESS_MAX_ATTEMPTS,
    retryBaseMs: c.retryBaseMs ?? DEFAULT_WITNESS_RETRY_BASE_MS,
    maxRetryDelayMs: c.maxRetryDelayMs ?? DEFAULT_WITNESS_MAX_RETRY_DELAY_MS,
    maxConflicts: c.maxConflicts ?? DEFAULT_WITNESS_MAX_CONFLICTS,
    maxResponseBytes: c.maxResponseBytes ?? DEFAULT_MAX_WITNESS_BODY_BYTES,
  };
}

/**
 * WitnessClientDeps are the client's collaborators. `wait` sleeps between retries and rejects when
 * the signal aborts (tests pass one that records the delay and returns at once).
 */
export interface WitnessClientDeps {
  clock: Clock;
  logger: Logger;
  metrics: WitnessMetrics;
  wait(ms: number, signal: AbortSignal): Promise<void>;
}

/** CheckpointSubmission is a log-signed checkpoint to submit, and how to prove it from an older size. */
export interface CheckpointSubmission {
  /** note is the log's signed checkpoint note, sent as is. */
  readonly note: string;
  /** text is the note's checkpoint text: what cosignatures sign. */
  readonly text: string;
  readonly size: bigint;
  /** proof returns the RFC 6962 consistency proof from oldSize (0 < oldSize < size) to size. */
  proof(oldSize: bigint): Promise<Hash[]>;
}

/** WitnessOutcome is the end of one submission. */
export type WitnessOutcome =
  | { readonly result: 'cosigned'; readonly cosignature: NoteSignature; readonly timestamp: bigint }
  | { readonly result: WitnessFailure; readonly message: string; readonly retryAfterMs?: number };

// A request's end: an answer with a status and its bounded body, or a failure before one arrived.
type Answer = { status: number; contentType: string | null; body: Uint8Array } | Extract<WitnessOutcome, { message: string }>;

/**
 * WitnessClient submits checkpoints to one witness. Concurrency: one submission at a time (the
 * caller's duty), since the size it keeps is the witness's state as the last answer showed it.
 * It never throws for anything the witness does: every end is a WitnessOutcome.
 */
export class WitnessClient {
  readonly endpoint: WitnessEndpoint;
  readonly #config: WitnessClientConfig;
  readonly #deps: WitnessClientDeps;
  #size: bigint | undefined;
  #cosignedSize: bigint | undefined;

  /** The client starts from `knownSize`, a persisted hint of the witness's size (undefined: send 0). */
  constructor(endpoint: WitnessEndpoint, config: WitnessClientConfig, deps: WitnessClientDeps, knownSize?: bigint) {
    this.endpoint = endpoint;
    this.#config = config;
    this.#deps = deps;
    this.#size = knownSize;
  }

  /** knownSize is the witness's latest cosigned size as its last answer showed it, if known. */
  get knownSize(): bigint | undefined {
    return this.#size;
  }

  /** cosignedSize is the size of the latest checkpoint this client saw the witness cosign. */
  get cosignedSize(): bigint | undefined {
    return this.#cosignedSize;
  }

  /**
   * submit sends `cp` from the size the witness is believed to hold (0 when unknown: a 409 tells
   * the real one, tlog-witness "MAY initially make a request with an old size of zero") and returns
   * the witness's verified cosignature or why there is none. `signal` aborts it ('closed').
   */
  async submit(cp: CheckpointSubmission, signal: AbortSignal): Promise<WitnessOutcome> {
    const started = this.#deps.clock.nowMs();
    const outcome = await this.#submit(cp, signal).catch((err: unknown): WitnessOutcome => {
      // Only our own side can throw here (the proof, a bug); the witness's answers are outcomes.
      if (signal.aborted) return { result: 'closed', message: 'the publisher is shutting down' };
      this.#deps.logger.error({ err, witness: this.endpoint.name }, "couldn't submit a checkpoint to a witness");
      return { result: 'internal', message: `couldn't submit: ${errorMessage(err)}` };
    });
    const name = this.endpoint.name;
    this.#deps.metrics.submissions.inc({ witness: name, result: outcome.result });
    if (outcome.result === 'cosigned') {
      this.#deps.metrics.cosignSeconds.observe({ witness: name }, (this.#deps.clock.nowMs() - started) / 1000);
      this.#deps.metrics.cosignedSize.set({ witness: name }, Number(cp.size));
    }
    return outcome;
  }

  async #submit(cp: CheckpointSubmission, signal: AbortSignal): Promise<WitnessOutcome> {
    let old = this.#size !== undefined && this.#size <= cp.size ? this.#size : 0n;
    for (let conflicts = 0; ; conflicts++) {
      const answer = await this.#post(cp, old, signal);
      if (!('status' in answer)) return answer;
      if (answer.status === 200) return this.#accept(cp, answer.body);
      if (answer.status !== 409) return this.#refused(cp, old, answer.status);
      let theirs: bigint;
      try {
        // The Content-Type and body are attacker-controlled; parsed as strictly as sigsum-go.
        theirs = parseConflictResponse(answer.contentType, answer.body);
      } catch (err) {
        return { result: 'bad_response', message: `409 answer is malformed: ${errorMessage(err)}` };
      }
      this.#deps.metrics.conflicts.inc({ witness: this.endpoint.name });
      if (theirs > cp.size) {
        return this.#misbehaved('ahead', `the witness says it cosigned size ${theirs} of this log, beyond the checkpoint of size ${cp.size}`);
      }
      if (theirs === old) {
        // tlog-witness v1.0.0 (and transparency-dev/witness today) answer 409 for the same size
        // with another root: the witness holds another tree of this size.
        if (old === cp.size) return this.#misbehaved('inconsistent', `the witness holds another root for size ${old} (409)`);
        return { result: 'bad_response', message: `409 answer names size ${old}, the size that was sent` };
      }
      this.#size = theirs;
      if (conflicts + 1 >= this.#config.maxConflicts) {
        return { result: 'conflict', message: `${conflicts + 1} conflicts in a row; the witness now says size ${theirs}` };
      }
      this.#deps.logger.info({ witness: this.endpoint.name, old_size: String(old), witness_size: String(theirs) }, 'witness holds another size; resending');
      old = theirs;
    }
  }

  // accept verifies the 200 answer: signature lines, one or more from the witness's key, each of
  // which must verify over the exact checkpoint text (lines of other keys are ignored, tlog-witness).
  #accept(cp: CheckpointSubmission, body: Uint8Array): WitnessOutcome {
    let lines: NoteSignature[];
    try {
      lines = parseAddCheckpointResponse(body, this.#config.maxResponseBytes);
    } catch (err) {
      return { result: 'bad_response', message: `200 answer is not signature lines: ${errorMessage(err)}` };
    }
    const v = this.endpoint.verifier;
    const mine = lines.filter((s) => s.name === v.name && s.keyId === v.keyId);
    if (mine.length === 0) return { result: 'bad_response', message: `200 answer holds no cosignature from ${this.endpoint.keyRef}` };
    let timestamp = 0n;
    for (const sig of mine) {
      try {
        timestamp = verifyCosignature(v, cp.text, sig);
      } catch (err) {
        return { result: 'bad_cosignature', message: `cosignature from ${this.endpoint.keyRef} does not verify: ${errorMessage(err)}` };
      }
    }
    this.#size = cp.size;
    this.#cosignedSize = cp.size;
    return { result: 'cosigned', cosignature: mine[0]!, timestamp };
  }

  // refused maps the statuses other than 200 and 409 that survived the retries.
  #refused(cp: CheckpointSubmission, old: bigint, status: number): WitnessOutcome {
    if (status === 422) {
      // The witness found the proof from `old` bad, or holds another root at size `old`: its view
      // of this log's history differs from the log's. Forget its size so the next try asks again.
      this.#size = undefined;
      return this.#misbehaved('inconsistent', `the witness refused the consistency proof from size ${old} to ${cp.size} (422)`);
    }
    const why: Record<number, string> = { 400: 'malformed request', 403: 'no trusted log signature', 404: 'unknown origin' };
    return { result: 'rejected', message: `the witness answered ${status}${why[status] ? ` (${why[status]})` : ''}` };
  }

  #misbehaved(reason: 'ahead' | 'inconsistent', message: string): WitnessOutcome {
    this.#deps.metrics.misbehaviour.inc({ witness: this.endpoint.name, reason });
    this.#deps.logger.error({ witness: this.endpoint.name, url: this.endpoint.url, reason }, `witness misbehaviour: ${message}`);
    return { result: 'misbehaviour', message };
  }

  // post sends the checkpoint from `old`, retrying 429 and 5xx answers with backoff. Other answers,
  // and failures before an answer (which the publisher's per-witness backoff handles), return.
  async #post(cp: CheckpointSubmission, old: bigint, signal: AbortSignal): Promise<Answer> {
    const proof = old === 0n || old === cp.size ? [] : await cp.proof(old);
    const body = formatAddCheckpointRequest({ oldSize: old, proof, checkpointNote: cp.note });
    for (let attempt = 1; ; attempt++) {
      const answer = await this.#request(body, signal);
      if (!('status' in answer) || (answer.status !== 429 && answer.status < 500)) return answer;
      const retryAfterMs = parseRetryAfter(answer.retryAfter, this.#deps.clock.nowMs());
      const delayMs = retryAfterMs ?? this.#config.retryBaseMs * 2 ** (attempt - 1);
      if (attempt >= this.#config.maxAttempts || delayMs > this.#config.maxRetryDelayMs) {
        const out: Answer = { result: 'overloaded', message: `the witness answered ${answer.status} (attempt ${attempt})` };
        return retryAfterMs === undefined ? out : { ...out, retryAfterMs };
      }
      await this.#deps.wait(delayMs, signal);
    }
  }

  async #request(body: string, signal: AbortSignal): Promise<Answer & { retryAfter?: string | null }> {
    const name = this.endpoint.name;
    const timeout = AbortSignal.timeout(this.#config.timeoutMs);
    try {
      const res = await fetch(`${this.endpoint.url}/add-checkpoint`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        signal: AbortSignal.any([signal, timeout]),
      });
      this.#deps.metrics.requests.inc({ witness: name, status: String(res.status) });
      const answerBody = await readBodyBounded(res, this.#config.maxResponseBytes);
      if (answerBody === undefined) return { result: 'bad_response', message: `answer ${res.status} is over ${this.#config.maxResponseBytes} bytes` };
      return { status: res.status, contentType: res.headers.get('content-type'), body: answerBody, retryAfter: res.headers.get('retry-after') };
    } catch (err) {
      if (signal.aborted) return { result: 'closed', message: 'the publisher is shutting down' };
      if (timeout.aborted) {
        this.#deps.metrics.requests.inc({ witness: name, status: 'timeout' });
        return { result: 'timeout', message: `no answer within ${this.#config.timeoutMs} ms` };
      }
      this.#deps.metrics.requests.inc({ witness: name, status: 'network_error' });
      return { result: 'unreachable', message: `couldn't reach ${this.endpoint.url}: ${errorMessage(err)}${causeMessage(err)}` };
    }
  }
}

const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT$/;

/**
 * parseRetryAfter reads a Retry-After header (RFC 9110 §10.2.3: delay-seconds or an IMF-fixdate HTTP-date) as
 * milliseconds from `nowMs`; undefined when absent or unreadable. The header is attacker-controlled:
 * at most 9 digits are read, so the result stays a safe integer.
 */
export function parseRetryAfter(header: string | null | undefined, nowMs: number): number | undefined {
  if (header === null || header === undefined) return undefined;
  const v = header.trim();
  if (/^[0-9]{1,9}$/.test(v)) return Number(v) * 1000;
  // Only IMF-fixdate, the form senders must generate: Date.parse alone accepts "1.5" or "-1".
  if (!IMF_FIXDATE.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

function causeMessage(err: unknown): string {
  const cause = err instanceof Error ? err.cause : undefined;
  return cause === undefined ? '' : ` (${errorMessage(cause)})`;
}

/** abortableWait is the default WitnessClientDeps.wait: setTimeout that rejects when `signal` aborts. */
export function abortableWait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
