// The BullMQ JobQueue (production): jobs in Redis, consumed by any number of worker processes on
// any machines. A worker that dies mid-job (SIGKILL) stops renewing its lock; BullMQ's stalled-job
// check hands the job to another worker after `lockDurationMs`, so the handler runs again: one
// more reason handlers are idempotent.
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import {
  DEFAULT_JOB_ATTEMPTS,
  DEFAULT_JOB_BACKOFF_MS,
  UnrecoverableJobError,
  type JobHandler,
  type JobQueue,
  type QueueConsumer,
  type QueueOptions,
} from './queue.ts';

/** BullQueueOptions add Redis and lock settings to QueueOptions. */
export interface BullQueueOptions extends QueueOptions {
  redisUrl: string;
  /** prefix is the Redis key prefix (default "vigil"); tests use a fresh one each. */
  prefix?: string;
  /** lockDurationMs is how long a job stays locked without renewal before it counts as stalled; default 30000. */
  lockDurationMs?: number;
}

/** createBullQueue returns a BullMQ-backed queue (see JobQueue for the contract). */
export function createBullQueue<T>(options: BullQueueOptions): JobQueue<T> {
  // BullMQ workers block on Redis; ioredis must not give up on a command (maxRetriesPerRequest null).
  const connect = () => new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const producer = connect();
  const prefix = options.prefix ?? 'vigil';
  const queue = new Queue(options.name, { connection: producer, prefix });
  const attempts = options.attempts ?? DEFAULT_JOB_ATTEMPTS;
  const backoffMs = options.backoffMs ?? DEFAULT_JOB_BACKOFF_MS;
  return {
    name: options.name,
    async add(jobs) {
      if (jobs.length === 0) return;
      // removeOnComplete/removeOnFail: a finished job's id may be added again later (a backfill, a
      // requeue), as with the in-process queue; the caller's database records the outcome.
      await queue.addBulk(
        jobs.map((j) => ({
          name: options.name,
          data: j.data,
          opts: { jobId: j.id, attempts, backoff: { type: 'exponential', delay: backoffMs }, removeOnComplete: true, removeOnFail: true },
        })),
      );
    },
    consume(handler, opts = {}): QueueConsumer {
      return startBullWorker(options, prefix, connect(), handler, opts.concurrency ?? 1);
    },
    async counts() {
      const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
      return { waiting: (c.waiting ?? 0) + (c.prioritized ?? 0), active: c.active ?? 0, delayed: c.delayed ?? 0, failed: c.failed ?? 0 };
    },
    async close() {
      await queue.close();
      producer.disconnect();
    },
  };
}

// startBullWorker runs `handler` on the queue's jobs with its own Redis connection, converting
// UnrecoverableJobError to BullMQ's UnrecoverableError (failed without retries).
function startBullWorker<T>(options: BullQueueOptions, prefix: string, connection: Redis, handler: JobHandler<T>, concurrency: number): QueueConsumer {
  const lockDuration = options.lockDurationMs ?? 30_000;
  const worker = new Worker(
    options.name,
    async (job: Job) => {
      try {
        await handler({ id: job.id ?? '', data: job.data as T, attemptsMade: job.attemptsMade });
      } catch (err) {
        if (err instanceof UnrecoverableJobError) throw new UnrecoverableError(err.message);
        throw err;
      }
    },
    // Check for stalled jobs (their worker died) as often as a lock can expire.
    { connection, prefix, concurrency, lockDuration, stalledInterval: lockDuration },
  );
  // A failed job is reported by the handler's own logs and metrics; the listener keeps an 'error'
  // event (Redis gone) from crashing the process while ioredis reconnects.
  worker.on('error', () => {});
  return {
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}
