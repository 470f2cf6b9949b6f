// A witness node without HTTP: the add-checkpoint core (add-checkpoint.ts) with what a node on
// the network adds around it: a bound on concurrent requests, per-log rate limits (qpd), metrics,
// logs, and the monitoring read side. http.ts maps its answers to responses; pull.ts feeds it the
// checkpoints it fetches itself.
import type { Logger } from '../platform/logger.ts';
import type { Clock } from '../platform/clock.ts';
import type { CosignatureSigner } from '../tlog/cosignature.ts';
import {
  WITNESS_TEXT_CONTENT_TYPE,
  getCosignedCheckpoint,
  processAddCheckpoint,
  type AddCheckpointDeps,
  type AddCheckpointResponse,
} from './add-checkpoint.ts';
import type { WitnessErrorCode } from './errors.ts';
import { formatWitnessVkey } from './key.ts';
import type { WitnessMetrics, WitnessRejectionCode } from './metrics.ts';
import type { LogRateLimiter } from './rate-limit.ts';
import type { WitnessStore } from './store.ts';
import type { FollowedLogs } from './witness-config.ts';

/** WitnessNodeConfig is what a node needs from WitnessConfig. */
export interface WitnessNodeConfig {
  /** maxBodyBytes bounds an add-checkpoint body, in bytes. */
  readonly maxBodyBytes: number;
  /** maxInFlight bounds the add-checkpoint requests processed at once; beyond it, 429. */
  readonly maxInFlight: number;
}

/** WitnessNodeDeps are the node's collaborators; main.ts wires the real ones. */
export interface WitnessNodeDeps {
  readonly logs: FollowedLogs;
  readonly store: WitnessStore;
  readonly signer: CosignatureSigner;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: WitnessMetrics;
  /** rateLimiter enforces per-log qpd on pushed requests; none: no per-log limit. */
  readonly rateLimiter?: LogRateLimiter;
}

/**
 * WitnessAnswer is an add-checkpoint answer to send as is: status, exact Content-Type and body,
 * and for 429 and 503 the seconds to put in Retry-After.
 */
export interface WitnessAnswer extends AddCheckpointResponse {
  retryAfterSeconds?: number;
}

/** WitnessStatus is the node's self-description (GET /). */
export interface WitnessStatus {
  name: string;
  vkey: string;
  origins: string[];
}

/** AddCheckpointSource says who sent a checkpoint: a client (push) or the node's own poller. */
export type AddCheckpointSource = 'push' | 'pull';

// The codes of refusals made before the log's signature verified: they spend no rate budget.
const UNAUTHENTICATED: ReadonlySet<WitnessErrorCode> = new Set([
  'malformed_request', 'unknown_log', 'malformed_note', 'unverified_checkpoint', 'invalid_signature', 'malformed_checkpoint',
]);

// The longest origin line peekCheckpointHead reads; longer ones are not followed logs anyway.
const MAX_PEEKED_LINE_BYTES = 1024;

/**
 * WitnessNode answers add-checkpoint requests and monitoring reads for one witness identity.
 * Concurrency: any number of calls; correctness under races is the core's compare-and-swap, and
 * the node only bounds how many run at once.
 */
export class WitnessNode {
  readonly name: string;
  readonly vkey: string;
  readonly #config: WitnessNodeConfig;
  readonly #deps: WitnessNodeDeps;
  readonly #core: AddCheckpointDeps;
  #inFlight = 0;

  constructor(config: WitnessNodeConfig, deps: WitnessNodeDeps) {
    this.#config = config;
    this.#deps = deps;
    const { logs, store, signer, clock } = deps;
    this.#core = { logs, store, signer, clock: () => clock.nowMs(), maxBodyBytes: config.maxBodyBytes };
    this.name = deps.signer.name;
    this.vkey = formatWitnessVkey(deps.signer);
  }

  /** isOverloaded reports whether a new request would exceed maxInFlight (answer with overloaded()). */
  isOverloaded(): boolean {
    return this.#inFlight >= this.#config.maxInFlight;
  }

  /** overloaded returns (and counts) the 429 for a request refused because the node is busy. */
  overloaded(): WitnessAnswer {
    return this.#refuse(429, 'overloaded', 'too many requests in flight, retry later', 1);
  }

  /** refuseBody returns (and counts) the answer for a body that could not be read. */
  refuseBody(code: 'body_too_large' | 'unreadable_body', message: string): WitnessAnswer {
    return this.#refuse(code === 'body_too_large' ? 413 : 400, code, message);
  }

  /**
   * addCheckpoint answers an add-checkpoint body (attacker-controlled). A pushed request is
   * refused with 429 when the node is full or its log is over its qpd; a pulled one (the node's
   * own poller) is not. Never rejects.
   */
  async addCheckpoint(body: Uint8Array, source: AddCheckpointSource = 'push'): Promise<WitnessAnswer> {
    const { logs, rateLimiter, metrics } = this.#deps;
    if (source === 'push') {
      if (this.isOverloaded()) return this.overloaded();
      const origin = peekCheckpointHead(body)?.origin;
      const decision = origin !== undefined && logs.get(origin) !== undefined ? rateLimiter?.check(origin) : undefined;
      if (decision?.allowed === false) {
        return this.#refuse(429, 'rate_limited', `log ${JSON.stringify(origin)} is over its request rate`, decision.retryAfterSeconds, origin);
      }
    }
    this.#inFlight++;
    metrics.inFlight.inc();
    const end = metrics.cosignDuration.startTimer();
    let res: AddCheckpointResponse;
    try {
      res = await processAddCheckpoint(body, this.#core);
    } finally {
      this.#inFlight--;
      metrics.inFlight.dec();
    }
    if (source === 'push' && res.origin !== undefined && (res.error === undefined || !UNAUTHENTICATED.has(res.error.code))) {
      rateLimiter?.take(res.origin);
    }
    if (res.status === 200) end({ decision: res.decision ?? 'append' });
    this.#record(res, body);
    return res.error?.code === 'store_contention' ? { ...res, retryAfterSeconds: 1 } : res;
  }

  /**
   * cosignedCheckpoint returns the latest cosigned checkpoint note of the followed log whose origin
   * hashes to `originHash` (attacker-controlled), or undefined. Throws WitnessError 'store_failed'.
   */
  async cosignedCheckpoint(originHash: string): Promise<string | undefined> {
    const log = this.#deps.logs.getByOriginHash(originHash);
    return log === undefined ? undefined : getCosignedCheckpoint(log.origin, this.#deps.store);
  }

  /** status describes the node: its name, its cosigner vkey and the origins it follows. */
  status(): WitnessStatus {
    return { name: this.name, vkey: this.vkey, origins: this.#deps.logs.origins() };
  }

  /** primeMetrics sets the last-cosigned-size gauge of every followed log from the store. */
  async primeMetrics(): Promise<void> {
    for (const origin of this.#deps.logs.origins()) {
      const latest = await this.#deps.store.getLatest(origin);
      if (latest !== undefined) this.#deps.metrics.lastCosignedSize.set({ origin }, Number(latest.size));
    }
  }

  #refuse(status: number, code: WitnessRejectionCode, message: string, retryAfterSeconds?: number, origin?: string): WitnessAnswer {
    this.#deps.metrics.requests.inc({ status: String(status), origin: origin ?? '' });
    this.#deps.metrics.rejections.inc({ code });
    const answer: WitnessAnswer = { status, contentType: WITNESS_TEXT_CONTENT_TYPE, body: `${message}\n` };
    return retryAfterSeconds === undefined ? answer : { ...answer, retryAfterSeconds };
  }

  #record(res: AddCheckpointResponse, body: Uint8Array): void {
    const { metrics, logger } = this.#deps;
    const origin = res.origin ?? '';
    metrics.requests.inc({ status: String(res.status), origin });
    if (res.status === 200) {
      const size = peekCheckpointHead(body)?.size;
      if (size !== undefined) metrics.lastCosignedSize.set({ origin }, Number(size));
      return;
    }
    const code = res.error?.code ?? 'internal_error';
    metrics.rejections.inc({ code });
    if (res.status === 409) metrics.conflicts.inc({ origin });
    if (res.status >= 500) {
      logger.error({ err: res.error, code, origin }, 'add-checkpoint failed');
    } else if (code === 'invalid_proof' || code === 'root_mismatch') {
      // tlog-witness: the witness MAY log requests that fail the consistency checks, as evidence.
      logger.warn({ code, origin, reason: res.error?.message }, 'refused a checkpoint inconsistent with the cosigned one');
    }
  }
}

/**
 * peekCheckpointHead reads the origin and size lines of the checkpoint inside an add-checkpoint
 * body (attacker-controlled) without parsing or verifying anything: for choosing a rate limit and
 * a metrics label before, and after, the core parses the body properly. Undefined when absent.
 */
export function peekCheckpointHead(body: Uint8Array): { origin: string; size: bigint | undefined } | undefined {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const blank = buf.indexOf('\n\n');
  if (blank < 0) return undefined;
  const start = blank + 2;
  const end = buf.indexOf('\n', start);
  if (end < 0 || end - start > MAX_PEEKED_LINE_BYTES) return undefined;
  const origin = buf.toString('utf8', start, end);
  const sizeEnd = buf.indexOf('\n', end + 1);
  const sizeText = sizeEnd < 0 || sizeEnd - end > 21 ? '' : buf.toString('latin1', end + 1, sizeEnd);
  return { origin, size: /^(0|[1-9][0-9]*)$/.test(sizeText) ? BigInt(sizeText) : undefined };
}
