// The publisher: it sends each new checkpoint of the log to every witness of the policy (one
// WitnessClient per witness, all at once, one submission per witness at a time), collects their
// verified cosignatures per checkpoint, and publishes the log's note with those cosignature lines
// once the policy's quorum is met (tlog/policy.ts isQuorumSatisfied, the one evaluator). The
// published checkpoint is what GET /api/v2/checkpoint serves; it is persisted (log_published) and
// never goes back in size. Fail-closed by default: while the quorum fails, the last cosigned
// checkpoint stays published and the log keeps accepting and sequencing entries. Fail-open, by
// option, publishes the log-signed checkpoint once it has waited failOpenAfterMs.
//
// Only the process that sequences the log (log.isLeader()) submits to witnesses; every process
// serves the published checkpoint from the database (cached for publishedCacheMs). A policy
// without witnesses whose quorum is `none` publishes every checkpoint: the log's latest is served
// at once (the timer still records it in log_published, so adding witnesses later starts from it).
import type { Registry } from 'prom-client';
import type { Clock } from '../platform/clock.ts';
import type { Queryable } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import { isQuorumSatisfied } from '../tlog/policy.ts';
import { LogError } from './errors.ts';
import type { Log } from './log.ts';
import { readWitnessSizes, writeWitnessSize, type PublishedCheckpoint } from './published-store.ts';
import { PublishedView } from './published-view.ts';
import { WitnessClient, abortableWait, defaultWitnessClientConfig, type WitnessClientConfig, type WitnessOutcome } from './witness-client.ts';
import { createWitnessMetrics, type WitnessMetrics } from './witness-metrics.ts';
import { loadWitnessPolicy, type LogPublicKey, type LogWitnessPolicy } from './witness-policy.ts';
import { formatPublication, newRound, type Round } from './witness-round.ts';

/** DEFAULT_PUBLISH_INTERVAL_MS is the default of intervalMs. */
export const DEFAULT_PUBLISH_INTERVAL_MS = 1000;
/** DEFAULT_WITNESS_BACKOFF_BASE_MS is the default of witnessBackoffBaseMs. */
export const DEFAULT_WITNESS_BACKOFF_BASE_MS = 1000;
/** DEFAULT_WITNESS_BACKOFF_MAX_MS is the default of witnessBackoffMaxMs. */
export const DEFAULT_WITNESS_BACKOFF_MAX_MS = 60_000;
/** DEFAULT_PUBLISHED_CACHE_MS is the default of publishedCacheMs. */
export const DEFAULT_PUBLISHED_CACHE_MS = 1000;

/** PublisherConfig configures the publisher; the WitnessClientConfig fields tune every witness client. */
export interface PublisherConfig extends Partial<WitnessClientConfig> {
  /** policyText is the tlog-policy text naming the witnesses (with submission URLs) and the quorum. */
  policyText: string;
  /** logKey is the log's checkpoint key (the Ed25519Signer fits): published notes are checked with it. */
  logKey: LogPublicKey;
  /** failOpenAfterMs, when set, publishes a checkpoint without quorum once it waited this long (unset: fail-closed). */
  failOpenAfterMs?: number;
  /** intervalMs: how often the timer looks for a new checkpoint and retries witnesses that are due (1000). */
  intervalMs?: number;
  /** witnessBackoffBaseMs: the pause after a witness's first failed submission, doubled per failure (1000). */
  witnessBackoffBaseMs?: number;
  /** witnessBackoffMaxMs caps that pause (60000). */
  witnessBackoffMaxMs?: number;
  /** publishedCacheMs: how long a process serves the published checkpoint it read before reading again (1000). */
  publishedCacheMs?: number;
}

/** PublisherDeps are the publisher's collaborators; `log` is the open log (createLog). */
export interface PublisherDeps {
  log: Pick<Log, 'origin' | 'getCheckpoint' | 'getConsistencyProof' | 'isLeader'>;
  db: Queryable;
  clock: Clock;
  logger: Logger;
  /** metrics is the registry the vigil_log_witness_* metrics are registered on. */
  metrics: Registry;
  /** wait sleeps between retries of one submission (default: setTimeout); tests pass an instant one. */
  wait?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** PublishStatus is where publishing stands after runOnce. */
export interface PublishStatus {
  /** logSize is the size of the log's latest checkpoint. */
  logSize: bigint;
  published: PublishedCheckpoint;
}

/** WitnessStatus is the publisher's view of one witness. */
export interface WitnessStatus {
  name: string;
  url: string;
  /** knownSize is the witness's latest cosigned size as its last answer showed it. */
  knownSize: bigint | undefined;
  /** last is the outcome of the latest submission ('cosigned' or a WitnessFailure) and its message. */
  last: { result: string; message?: string } | undefined;
  /** nextAttemptAtMs is when a failing witness is tried again (clock milliseconds). */
  nextAttemptAtMs: number;
}

/**
 * Publisher witnesses and publishes the log's checkpoints. Contract: runOnce looks at the log's
 * latest checkpoint, submits it to every witness that has not cosigned it and is not backing off,
 * and resolves once those submissions ended and what they allow is published. A witness's failure
 * is an outcome (witnesses()), never a rejection; runOnce rejects only when the log or the database
 * cannot be read, and a failed publication write is logged and counted (storeErrors). start() does
 * the same every intervalMs, logging what it cannot do.
 * publishedCheckpoint() is the note for GET /checkpoint: the published checkpoint, or the log's
 * size-0 checkpoint before any publication.
 */
export interface Publisher {
  /** policy is the checked policy; policy.text (with this log's `log` line) is trusted-root material. */
  readonly policy: LogWitnessPolicy;
  publishedCheckpoint(): Promise<string>;
  published(): Promise<PublishedCheckpoint>;
  runOnce(): Promise<PublishStatus>;
  witnesses(): WitnessStatus[];
  start(): void;
  close(): Promise<void>;
}

/**
 * createPublisher checks the policy against the log key (LogError 'invalid_config') and reads the
 * witness size hints. The log's migrations must have run (createLog does it).
 */
export async function createPublisher(config: PublisherConfig, deps: PublisherDeps): Promise<Publisher> {
  const policy = loadWitnessPolicy(config.policyText, config.logKey);
  const hints = await readWitnessSizes(deps.db);
  return new LogPublisher(config, deps, policy, createWitnessMetrics(deps.metrics), hints);
}

interface Slot {
  readonly client: WitnessClient;
  inFlight: Promise<void> | undefined;
  failures: number;
  nextAttemptAtMs: number;
  last: WitnessOutcome | undefined;
  storedSize: bigint | undefined;
}

class LogPublisher implements Publisher {
  readonly policy: LogWitnessPolicy;
  readonly #config: PublisherConfig;
  readonly #deps: PublisherDeps;
  readonly #metrics: WitnessMetrics;
  readonly #slots = new Map<string, Slot>();
  readonly #abort = new AbortController();
  #round: Round | undefined;
  #behindSinceMs: number | undefined;
  readonly #published: PublishedView;
  #publishing: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  // everyCheckpoint: no witnesses and `quorum none`, so the log's latest checkpoint is published.
  readonly #everyCheckpoint: boolean;

  constructor(config: PublisherConfig, deps: PublisherDeps, policy: LogWitnessPolicy, metrics: WitnessMetrics, hints: Map<string, bigint>) {
    this.#config = config;
    this.#deps = deps;
    this.policy = policy;
    this.#metrics = metrics;
    this.#everyCheckpoint = policy.witnesses.length === 0 && isQuorumSatisfied(policy.policy, []);
    const cacheMs = config.publishedCacheMs ?? DEFAULT_PUBLISHED_CACHE_MS;
    this.#published = new PublishedView(deps.db, deps.clock, cacheMs, (p) => metrics.publishedSize.set(Number(p.size)));
    const clientDeps = { clock: deps.clock, logger: deps.logger, metrics, wait: deps.wait ?? abortableWait };
    for (const w of policy.witnesses) {
      const hint = hints.get(w.keyRef);
      const client = new WitnessClient(w, defaultWitnessClientConfig(config), clientDeps, hint);
      this.#slots.set(w.name, { client, inFlight: undefined, failures: 0, nextAttemptAtMs: 0, last: undefined, storedSize: hint });
    }
  }

  async publishedCheckpoint(): Promise<string> {
    return (await this.published()).note;
  }

  async published(): Promise<PublishedCheckpoint> {
    if (!this.#everyCheckpoint) return this.#published.get();
    const latest = await this.#deps.log.getCheckpoint();
    this.#metrics.publishedSize.set(Number(latest.size));
    return { size: latest.size, note: latest.checkpoint, quorumMet: true, cosigners: 0 };
  }

  async runOnce(): Promise<PublishStatus> {
    await this.#runTick();
    await Promise.all([...this.#slots.values()].map((s) => s.inFlight));
    await this.#failOpenIfDue();
    await this.#publishing;
    return { logSize: this.#round?.submission.size ?? (await this.#deps.log.getCheckpoint()).size, published: await this.published() };
  }

  start(): void {
    if (this.#timer !== undefined || this.#abort.signal.aborted) return;
    const run = () => void this.#runTick().catch((err: unknown) => this.#deps.logger.error({ err }, 'witnessing round failed'));
    this.#timer = setInterval(run, this.#config.intervalMs ?? DEFAULT_PUBLISH_INTERVAL_MS).unref();
    run();
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#abort.abort(new LogError('closed', 'the publisher is shutting down'));
    await this.#ticking?.catch(() => {});
    await Promise.all([...this.#slots.values()].map((s) => s.inFlight));
    await this.#publishing;
  }

  witnesses(): WitnessStatus[] {
    return [...this.#slots.values()].map((s) => ({
      name: s.client.endpoint.name,
      url: s.client.endpoint.url,
      knownSize: s.client.knownSize,
      last: s.last === undefined ? undefined : 'message' in s.last ? { result: s.last.result, message: s.last.message } : { result: s.last.result },
      nextAttemptAtMs: s.nextAttemptAtMs,
    }));
  }

  // runTick runs one tick at a time: the timer's and runOnce's share it.
  #runTick(): Promise<void> {
    this.#ticking ??= this.#tick()
      .then(() => this.#failOpenIfDue())
      .finally(() => (this.#ticking = undefined));
    return this.#ticking;
  }

  // tick starts the submissions of the log's latest checkpoint to the witnesses that are due. The
  // submissions run on; runOnce and close wait for them.
  async #tick(): Promise<void> {
    if (this.#abort.signal.aborted || !this.#deps.log.isLeader()) return;
    const round = await this.#currentRound();
    const now = this.#deps.clock.nowMs();
    const published = await this.published();
    if (round.submission.size > published.size) this.#behindSinceMs ??= now;
    else this.#behindSinceMs = undefined;
    if (!round.met) this.#evaluate(round); // `quorum none` needs no witness
    for (const [name, slot] of this.#slots) {
      if (round.cosignatures.has(name) || slot.inFlight !== undefined) continue;
      if (now < slot.nextAttemptAtMs) {
        round.settled.add(name);
        continue;
      }
      slot.inFlight = this.#submit(slot, round).finally(() => (slot.inFlight = undefined));
    }
    this.#countFailure(round);
  }

  // currentRound returns the round of the log's latest checkpoint, starting a new one when the log
  // signed a new checkpoint.
  async #currentRound(): Promise<Round> {
    const latest = await this.#deps.log.getCheckpoint();
    if (this.#round?.submission.size !== latest.size) this.#round = newRound(latest.checkpoint, this.#config.logKey, this.#deps.log);
    return this.#round;
  }

  async #submit(slot: Slot, round: Round): Promise<void> {
    const name = slot.client.endpoint.name;
    const out = await slot.client.submit(round.submission, this.#abort.signal);
    slot.last = out;
    if (out.result === 'cosigned') {
      slot.failures = 0;
      slot.nextAttemptAtMs = 0;
      round.cosignatures.set(name, out.cosignature);
      // Once met, each further cosignature republishes the same size with one more line.
      if (round.met) this.#schedulePublish(round, true);
      else this.#evaluate(round);
    } else if (out.result !== 'closed') {
      slot.failures++;
      const base = this.#config.witnessBackoffBaseMs ?? DEFAULT_WITNESS_BACKOFF_BASE_MS;
      const backoffMs = Math.min(base * 2 ** (slot.failures - 1), this.#config.witnessBackoffMaxMs ?? DEFAULT_WITNESS_BACKOFF_MAX_MS);
      slot.nextAttemptAtMs = this.#deps.clock.nowMs() + Math.max(backoffMs, out.retryAfterMs ?? 0);
      this.#deps.logger.warn({ witness: name, result: out.result, size: String(round.submission.size), failures: slot.failures }, `witness did not cosign: ${out.message}`);
    }
    round.settled.add(name);
    this.#countFailure(round);
    await this.#storeHint(slot);
  }

  #evaluate(round: Round): void {
    if (!isQuorumSatisfied(this.policy.policy, round.cosignatures.keys())) return;
    round.met = true;
    this.#metrics.quorum.inc({ result: 'met' });
    this.#metrics.quorumMet.set(1);
    this.#schedulePublish(round, true);
  }

  // countFailure counts a round once when every witness has had its say without reaching quorum.
  #countFailure(round: Round): void {
    if (round.met || round.failureCounted || round.settled.size < this.#slots.size) return;
    round.failureCounted = true;
    this.#metrics.quorum.inc({ result: 'failed' });
    this.#metrics.quorumMet.set(0);
    this.#deps.logger.warn(
      { size: String(round.submission.size), cosigned_by: [...round.cosignatures.keys()] },
      'witness quorum not met; the published checkpoint stays where it is',
    );
  }

  // failOpenIfDue publishes the log-signed checkpoint without quorum once the log has been ahead
  // of the published checkpoint for failOpenAfterMs (fail-open mode only).
  async #failOpenIfDue(): Promise<void> {
    const after = this.#config.failOpenAfterMs;
    const round = this.#round;
    if (after === undefined || round === undefined || round.met || this.#behindSinceMs === undefined) return;
    if (this.#deps.clock.nowMs() - this.#behindSinceMs < after) return;
    if ((await this.published()).size >= round.submission.size) return;
    this.#metrics.quorum.inc({ result: 'failed_open' });
    this.#deps.logger.warn({ size: String(round.submission.size), cosigned_by: [...round.cosignatures.keys()] }, 'publishing a checkpoint without witness quorum (fail-open)');
    this.#behindSinceMs = undefined;
    this.#schedulePublish(round, false);
    await this.#publishing;
  }

  // schedulePublish queues a publication; publications run one at a time, in order.
  #schedulePublish(round: Round, quorumMet: boolean): void {
    this.#publishing = this.#publishing.then(() => this.#publish(round, quorumMet)).catch((err: unknown) => {
      this.#metrics.storeErrors.inc();
      this.#deps.logger.error({ err, size: String(round.submission.size) }, "couldn't publish the checkpoint");
    });
  }

  async #publish(round: Round, quorumMet: boolean): Promise<void> {
    const next = formatPublication(round, this.policy.witnesses, quorumMet);
    if (!(await this.#published.offer(next))) return;
    if (this.#round === round) this.#behindSinceMs = undefined;
    this.#deps.logger.info({ size: String(next.size), cosigners: next.cosigners, quorum_met: quorumMet }, 'published checkpoint');
  }

  // storeHint persists the witness's size when it changed; a failure only costs a 409 later.
  async #storeHint(slot: Slot): Promise<void> {
    const size = slot.client.knownSize;
    if (size === undefined || size === slot.storedSize) return;
    try {
      await writeWitnessSize(this.#deps.db, slot.client.endpoint.keyRef, size, new Date(this.#deps.clock.nowMs()));
      slot.storedSize = size;
    } catch (err) {
      this.#metrics.storeErrors.inc();
      this.#deps.logger.warn({ err, witness: slot.client.endpoint.name }, "couldn't store the witness's size");
    }
  }
}
