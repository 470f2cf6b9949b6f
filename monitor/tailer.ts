// The tailer of one log: poll its checkpoint, verify the log's signature and the witness quorum,
// prove consistency with the last verified checkpoint from the log's tiles, compare with what the
// log's witnesses cosigned (split view), then record the checkpoint and the new ranges of entries
// in one transaction and enqueue them for workers.
//
// It never skips a gap: when a check fails it records the evidence as a finding and does not
// advance, and the next poll checks again (the finding's key makes a persisting condition one
// finding). Only the leader of a log tails it (monitor/leader.ts); its writes carry the leader's
// fence token, so a tailer that lost its lease without noticing cannot write over the new one's.
import type { Clock } from '../platform/clock.ts';
import type { Db } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import type { JobQueue } from '../platform/queue.ts';
import type { Checkpoint } from '../tlog/checkpoint.ts';
import { isTlogError } from '../tlog/errors.ts';
import { checkCheckpoint, checkConsistent, type CheckedCheckpoint, type TreeHead } from './checkpoint-check.ts';
import type { FollowedLog } from './config.ts';
import { insertFindings, type Finding } from './findings.ts';
import type { LogClient } from './log-client.ts';
import { badSignatureFinding, badTreeFinding, inconsistentFinding, noQuorumFinding, unreachableFinding } from './log-findings.ts';
import { countFindings, type MonitorMetrics, type PollResult, type VerificationFailure } from './metrics.ts';
import {
  claimStaleRanges,
  insertRanges,
  latestVerifiedCheckpoint,
  logProgress,
  monitorCursor,
  rangeJobId,
  splitRanges,
  toRangeJob,
  type RangeJob,
} from './state.ts';

export { latestVerifiedCheckpoint };

/** TailerSettings are the tailer's part of MonitorConfig. */
export interface TailerSettings {
  entriesPerJob: number;
  requeueAfterMs: number;
  unreachableAfterMs: number;
}

/** TailerDeps are what a tailer needs; main.ts wires them. */
export interface TailerDeps {
  db: Db;
  queue: JobQueue<RangeJob>;
  client: LogClient;
  metrics: MonitorMetrics;
  logger: Logger;
  clock: Clock;
}

/** PollOutcome is what one poll did. `findings` are those it recorded (new or already known). */
export interface PollOutcome {
  result: PollResult;
  message: string;
  size?: bigint;
  findings: Finding[];
  /** enqueued counts the range jobs enqueued (new ranges and requeued ones). */
  enqueued: number;
}

/** FencedOut means a newer leader has written: this tailer must stop. */
export class FencedOut extends Error {
  override readonly name = 'FencedOut';
}

// MAX_REQUEUE_PER_POLL bounds the stale ranges requeued by one poll.
const MAX_REQUEUE_PER_POLL = 1000;

/** LogTailer tails one log; call poll() on a timer while leader. Not safe for concurrent polls. */
export class LogTailer {
  private readonly startedAtMs: number;
  private firstPoll = true;

  constructor(
    readonly log: FollowedLog,
    private readonly settings: TailerSettings,
    private readonly deps: TailerDeps,
  ) {
    this.startedAtMs = deps.clock.nowMs();
  }

  /**
   * poll runs one poll under fence token `fence` and never throws except FencedOut; failures are
   * outcomes (counted, logged, and findings where they are evidence).
   */
  async poll(fence: bigint): Promise<PollOutcome> {
    const origin = this.log.origin;
    let outcome: PollOutcome;
    // Requeue before polling, so that ranges this poll records are not enqueued twice at once.
    let requeued = 0;
    try {
      requeued = await this.requeueStale();
    } catch (err) {
      this.deps.logger.warn({ origin, err: (err as Error).message }, "couldn't requeue stale ranges");
    }
    try {
      outcome = await this.pollOnce(fence);
    } catch (err) {
      if (err instanceof FencedOut) {
        this.deps.metrics.polls.inc({ origin, result: 'fenced' });
        throw err;
      }
      // A tile that cannot be fetched, or the database: the same clock as an unanswered checkpoint.
      outcome = await this.unreachable(`poll failed: ${(err as Error).message}`);
    }
    outcome.enqueued += requeued;
    try {
      await this.updateLag();
    } catch (err) {
      this.deps.logger.warn({ origin, err: (err as Error).message }, "couldn't read the lag");
    }
    this.deps.metrics.polls.inc({ origin, result: outcome.result });
    const fields = { origin, result: outcome.result, size: outcome.size?.toString(), reason: outcome.message };
    if (outcome.result === 'halted') this.deps.logger.error(fields, 'log failed verification; not advancing');
    else if (outcome.result === 'unreachable') this.deps.logger.warn(fields, 'log poll failed');
    else this.deps.logger.debug(fields, 'polled log');
    return outcome;
  }

  private async pollOnce(fence: bigint): Promise<PollOutcome> {
    const { log, deps } = this;
    const now = new Date(deps.clock.nowMs());
    const last = await latestVerifiedCheckpoint(deps.db, log.origin);
    let note: string;
    try {
      note = await deps.client.fetchCheckpoint();
    } catch (err) {
      return this.unreachable((err as Error).message);
    }
    let checked: CheckedCheckpoint;
    try {
      checked = checkCheckpoint(log, note);
    } catch (err) {
      const reason = (err as Error).message;
      return this.halt('bad_signature', [badSignatureFinding(log.origin, { source: log.url, note }, reason, now)], reason);
    }
    const cp = checked.checkpoint;
    if (!checked.quorum) {
      return this.halt('no_quorum', [noQuorumFinding(log.origin, cp.size, { source: log.url, note }, checked.cosignedBy, now)], 'no witness quorum', cp.size);
    }
    if (last !== undefined) {
      const conflict = await this.compare(last, { source: last.note === note ? log.url : 'monitor store', note: last.note }, cp, { source: log.url, note }, 'inconsistent');
      if (conflict !== undefined) return conflict;
      if (cp.size < last.size) {
        return { result: 'stale', message: `log serves size ${cp.size}, older than the verified ${last.size}`, size: cp.size, findings: [], enqueued: 0 };
      }
    }
    const split = await this.compareWitnesses(cp, note);
    if (split !== undefined) return split;
    const ranges = await this.commit(cp, note, fence, now);
    await deps.queue.add(ranges.map((r) => ({ id: rangeJobId(log.origin, r.start, 0), data: toRangeJob(log.origin, { ...r, checkpointSize: cp.size }) })));
    const grew = last === undefined || cp.size > last.size;
    return { result: grew ? 'advanced' : 'up_to_date', message: `verified size ${cp.size}`, size: cp.size, findings: [], enqueued: ranges.length };
  }

  // compare checks two signed checkpoints for one history; a conflict or a tile that does not
  // authenticate halts with evidence, a fetch failure counts as unreachable.
  private async compare(
    a: TreeHead,
    aEvidence: { source: string; note: string },
    b: Checkpoint,
    bEvidence: { source: string; note: string },
    check: 'inconsistent' | 'split_view',
  ): Promise<PollOutcome | undefined> {
    const now = new Date(this.deps.clock.nowMs());
    const origin = this.log.origin;
    let conflict: string | undefined;
    try {
      conflict = await checkConsistent(a, b, this.deps.client.fetchTile);
    } catch (err) {
      if (!isTlogError(err)) throw err;
      const larger = a.size > b.size ? aEvidence : bEvidence;
      const where = `tiles of size ${a.size > b.size ? a.size : b.size}`;
      return this.halt('bad_tile', [badTreeFinding(origin, 'bad_tile', where, larger, err.message, now)], err.message);
    }
    if (conflict === undefined) return undefined;
    return this.halt(check, [inconsistentFinding(origin, check, aEvidence, bEvidence, conflict, now)], conflict, b.size);
  }

  // compareWitnesses fetches each witness's latest cosigned checkpoint of this log and checks it
  // against ours. A witness that is down, or serves a note the log did not sign, is skipped: only
  // two notes both signed by the log are evidence against it.
  private async compareWitnesses(cp: Checkpoint, note: string): Promise<PollOutcome | undefined> {
    for (const url of this.log.witnessUrls) {
      let theirs: string | undefined;
      let checked: CheckedCheckpoint;
      try {
        theirs = await this.deps.client.fetchWitnessCheckpoint(url);
        if (theirs === undefined) continue;
        checked = checkCheckpoint(this.log, theirs);
      } catch (err) {
        this.deps.logger.warn({ origin: this.log.origin, witness: url, err: (err as Error).message }, "couldn't use a witness's checkpoint");
        continue;
      }
      try {
        const out = await this.compare(cp, { source: this.log.url, note }, checked.checkpoint, { source: url, note: theirs }, 'split_view');
        if (out !== undefined) return out;
      } catch (err) {
        // A newer witness checkpoint whose tiles the log does not serve yet: check next poll.
        this.deps.logger.warn({ origin: this.log.origin, witness: url, err: (err as Error).message }, "couldn't compare with a witness's checkpoint");
      }
    }
    return undefined;
  }

  private async halt(check: VerificationFailure, findings: Finding[], message: string, size?: bigint): Promise<PollOutcome> {
    await this.record(findings);
    this.deps.metrics.verificationFailures.inc({ origin: this.log.origin, check });
    return { result: 'halted', message, size, findings, enqueued: 0 };
  }

  private async unreachable(reason: string): Promise<PollOutcome> {
    const last = await latestVerifiedCheckpoint(this.deps.db, this.log.origin);
    const progress = await logProgress(this.deps.db, this.log.origin);
    const sinceMs = progress?.lastVerifiedAt.getTime() ?? this.startedAtMs;
    const nowMs = this.deps.clock.nowMs();
    const findings: Finding[] = [];
    if (nowMs - sinceMs >= this.settings.unreachableAfterMs) {
      findings.push(unreachableFinding(this.log.origin, last?.size, sinceMs, reason, new Date(nowMs)));
      await this.record(findings);
    }
    return { result: 'unreachable', message: reason, findings, enqueued: 0 };
  }

  private async record(findings: Finding[]): Promise<void> {
    const origin = this.log.origin;
    const fresh = await this.deps.db.transaction(async (tx) => {
      // insertFindings reports how many were new; count by kind only when all were (one kind per poll).
      const n = await insertFindings(tx, findings);
      return n === findings.length ? findings : [];
    });
    countFindings(this.deps.metrics, origin, fresh.map((f) => f.kind));
  }

  // commit records the verified checkpoint, the ranges it adds and the log's progress in one
  // transaction, fenced. If we crash after it and before enqueueing, requeueStale finds the ranges.
  private async commit(cp: Checkpoint, note: string, fence: bigint, now: Date): Promise<{ start: bigint; end: bigint }[]> {
    const { origin, startIndex } = this.log;
    return this.deps.db.transaction(async (tx) => {
      const progress = await logProgress(tx, origin, true);
      if (progress !== undefined && progress.fence > fence) throw new FencedOut(`fence ${fence} is older than ${progress.fence}`);
      const from = progress?.nextIndex ?? (startIndex === 'head' ? cp.size : startIndex);
      const ranges = cp.size > from ? splitRanges(from, cp.size, this.settings.entriesPerJob) : [];
      await tx.query(
        `INSERT INTO monitor_checkpoints (origin, size, root, note, verified_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (origin, size) DO NOTHING`,
        [origin, cp.size, cp.root, note, now],
      );
      await insertRanges(tx, origin, cp.size, ranges, now);
      const next = cp.size > from ? cp.size : from;
      await tx.query(
        `INSERT INTO monitor_logs (origin, next_index, fence, last_verified_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (origin) DO UPDATE SET next_index = $2, fence = $3, last_verified_at = $4`,
        [origin, next, fence, now],
      );
      return ranges;
    });
  }

  // requeueStale enqueues again the ranges that are not done long after they were enqueued (a
  // lost job, a failed range to retry, a crash between commit and enqueue). The first poll after
  // start requeues every open range: an in-process queue starts empty.
  private async requeueStale(): Promise<number> {
    const nowMs = this.deps.clock.nowMs();
    const before = new Date(this.firstPoll ? nowMs + 1 : nowMs - this.settings.requeueAfterMs);
    this.firstPoll = false;
    const origin = this.log.origin;
    const stale = await claimStaleRanges(this.deps.db, origin, before, new Date(nowMs), MAX_REQUEUE_PER_POLL);
    await this.deps.queue.add(stale.map((r) => ({ id: rangeJobId(origin, r.start, r.requeues), data: toRangeJob(origin, r) })));
    return stale.length;
  }

  private async updateLag(): Promise<void> {
    const { db, metrics, clock } = this.deps;
    const origin = this.log.origin;
    const head = await latestVerifiedCheckpoint(db, origin);
    const cursor = await monitorCursor(db, origin);
    if (head === undefined || cursor === undefined) return;
    metrics.headSize.set({ origin }, Number(head.size));
    metrics.cursor.set({ origin }, Number(cursor));
    metrics.lagEntries.set({ origin }, Number(head.size > cursor ? head.size - cursor : 0n));
    const rows = await db.query<{ first_seen: Date | null }>(
      'SELECT min(verified_at) AS first_seen FROM monitor_checkpoints WHERE origin = $1 AND size > $2',
      [origin, cursor],
    );
    const seen = rows[0]?.first_seen;
    metrics.lagSeconds.set({ origin }, seen ? Math.max(0, (clock.nowMs() - seen.getTime()) / 1000) : 0);
    const open = await db.query<{ n: bigint | null }>(
      `SELECT sum(end_index - start_index)::bigint AS n FROM monitor_ranges WHERE origin = $1 AND state <> 'done'`,
      [origin],
    );
    metrics.backfillRemaining.set({ origin }, Number(open[0]?.n ?? 0n));
  }
}
