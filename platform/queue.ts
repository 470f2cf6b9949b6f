// queue.ts: the one job-queue interface of Vigil, with two implementations that run the same
// handler code: BullMQ on Redis for production (platform/queue-bullmq.ts: workers on any number
// of machines) and an in-process queue for the embedded mode (platform/queue-memory.ts, no Redis).
//
// Delivery is at least once in both: a handler may run twice for one job (a worker killed after
// its commit, a lock that expired), so handlers are idempotent, keyed by what the job names, and
// commit their effects in one transaction.

/** QueueJob is one job as a handler sees it. `data` is JSON (no bigint: write decimal strings). */
export interface QueueJob<T> {
  /** id is the caller's job id: adding a job whose id is already queued or running adds nothing. */
  readonly id: string;
  readonly data: T;
  /** attemptsMade counts the earlier attempts that threw (0 on the first run). */
  readonly attemptsMade: number;
}

/**
 * JobHandler runs one job. Contract: resolve when the job's effects are durable; throw to retry
 * with backoff (a transient failure: network, database); throw UnrecoverableJobError for a job
 * that can never succeed (it is failed at once, without retries).
 */
export type JobHandler<T> = (job: QueueJob<T>) => Promise<void>;

/** QueueCounts is how many jobs are in each state. */
export interface QueueCounts {
  waiting: number;
  active: number;
  /** delayed are jobs waiting for a retry's backoff. */
  delayed: number;
  /** failed are failed jobs still kept: the in-process queue keeps them; BullMQ removes them (handlers count failures). */
  failed: number;
}

/** QueueConsumer is a running set of handlers; close() stops taking jobs and waits for those running. */
export interface QueueConsumer {
  close(): Promise<void>;
}

/**
 * JobQueue is a named queue of jobs of one shape. Concurrency: any number of producers and
 * consumers (BullMQ: across processes and machines; in-process: within this process). Durability:
 * BullMQ keeps jobs in Redis (AOF as configured there); the in-process queue loses them when the
 * process ends, so callers keep their own durable record of what to enqueue again (the monitor's
 * ranges table) and re-add on start.
 */
export interface JobQueue<T> {
  readonly name: string;
  /** add enqueues jobs; a job whose id is waiting, delayed or active is not added again. */
  add(jobs: readonly { id: string; data: T }[]): Promise<void>;
  /** consume runs `handler` on jobs, at most `concurrency` at once in this process. */
  consume(handler: JobHandler<T>, options?: { concurrency?: number }): QueueConsumer;
  counts(): Promise<QueueCounts>;
  /** close releases connections (consumers are closed by their own close()). */
  close(): Promise<void>;
}

/** QueueOptions configure retries, the same for both implementations. */
export interface QueueOptions {
  /** name is the queue's name, unique per deployment (and per test). */
  name: string;
  /** attempts is how many times a job runs before it is failed; default DEFAULT_JOB_ATTEMPTS. */
  attempts?: number;
  /** backoffMs is the first retry delay, doubled each retry, in milliseconds; default DEFAULT_JOB_BACKOFF_MS. */
  backoffMs?: number;
}

/** DEFAULT_JOB_ATTEMPTS is the default number of runs of a job before it is failed. */
export const DEFAULT_JOB_ATTEMPTS = 5;
/** DEFAULT_JOB_BACKOFF_MS is the default first retry delay. */
export const DEFAULT_JOB_BACKOFF_MS = 1000;

/**
 * UnrecoverableJobError marks a job that can never succeed: both queues fail it without retries.
 * The BullMQ queue converts it to BullMQ's UnrecoverableError.
 */
export class UnrecoverableJobError extends Error {
  override readonly name = 'UnrecoverableJobError';
}

/** isUnrecoverable reports whether a handler's error means "do not retry". */
export function isUnrecoverable(err: unknown): boolean {
  return err instanceof UnrecoverableJobError || (err instanceof Error && err.name === 'UnrecoverableError');
}

/** retryDelayMs is the delay before attempt `attemptsMade + 1`: exponential from backoffMs. */
export function retryDelayMs(backoffMs: number, attemptsMade: number): number {
  return backoffMs * 2 ** Math.max(0, attemptsMade - 1);
}

/**
 * openQueue opens the BullMQ queue when `redisUrl` is given (with `prefix` as its Redis key
 * prefix), else an in-process queue. The BullMQ module is loaded only when used.
 */
export async function openQueue<T>(options: QueueOptions & { redisUrl?: string; prefix?: string }): Promise<JobQueue<T>> {
  if (options.redisUrl) {
    const { createBullQueue } = await import('./queue-bullmq.ts');
    return createBullQueue<T>({ ...options, redisUrl: options.redisUrl });
  }
  const { createMemoryQueue } = await import('./queue-memory.ts');
  return createMemoryQueue<T>(options);
}
