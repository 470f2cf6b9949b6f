// The in-process JobQueue (embedded mode): jobs live in this process's memory and run on its event
// loop, through the same handlers as BullMQ workers. Retries, backoff and "unrecoverable" behave
// as in platform/queue-bullmq.ts, so a handler cannot tell which queue runs it.
import {
  DEFAULT_JOB_ATTEMPTS,
  DEFAULT_JOB_BACKOFF_MS,
  isUnrecoverable,
  retryDelayMs,
  type JobHandler,
  type JobQueue,
  type QueueConsumer,
  type QueueCounts,
  type QueueOptions,
} from './queue.ts';

interface MemoryJob<T> {
  id: string;
  data: T;
  attemptsMade: number;
}

interface Consumer<T> {
  handler: JobHandler<T>;
  concurrency: number;
  running: number;
  closed: boolean;
  inFlight: Set<Promise<void>>;
}

/** MemoryQueue is the in-process queue; idle() resolves when no job waits, runs or is delayed. */
export interface MemoryQueue<T> extends JobQueue<T> {
  idle(): Promise<void>;
  /** failedJobs are the ids of jobs that were failed (attempts used up, or unrecoverable). */
  readonly failedJobs: readonly string[];
}

/** createMemoryQueue returns an in-process queue (see JobQueue for the contract). */
export function createMemoryQueue<T>(options: QueueOptions): MemoryQueue<T> {
  return new InProcessQueue<T>(options);
}

class InProcessQueue<T> implements MemoryQueue<T> {
  readonly name: string;
  readonly failedJobs: string[] = [];
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly waiting: MemoryJob<T>[] = [];
  private readonly live = new Set<string>(); // ids waiting, delayed or active
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly consumers: Consumer<T>[] = [];
  private active = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(options: QueueOptions) {
    this.name = options.name;
    this.attempts = options.attempts ?? DEFAULT_JOB_ATTEMPTS;
    this.backoffMs = options.backoffMs ?? DEFAULT_JOB_BACKOFF_MS;
  }

  async add(jobs: readonly { id: string; data: T }[]): Promise<void> {
    for (const j of jobs) {
      if (this.live.has(j.id)) continue;
      this.live.add(j.id);
      // A copy through JSON, so that a handler sees what a BullMQ worker would: JSON data, not the
      // producer's live object.
      this.waiting.push({ id: j.id, data: JSON.parse(JSON.stringify(j.data)) as T, attemptsMade: 0 });
    }
    this.pump();
  }

  consume(handler: JobHandler<T>, opts: { concurrency?: number } = {}): QueueConsumer {
    const c: Consumer<T> = { handler, concurrency: opts.concurrency ?? 1, running: 0, closed: false, inFlight: new Set() };
    this.consumers.push(c);
    queueMicrotask(() => this.pump());
    return {
      close: async () => {
        c.closed = true;
        await Promise.all([...c.inFlight]);
        this.consumers.splice(this.consumers.indexOf(c), 1);
      },
    };
  }

  async counts(): Promise<QueueCounts> {
    return { waiting: this.waiting.length, active: this.active, delayed: this.timers.size, failed: this.failedJobs.length };
  }

  idle(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.idleWaiters.push(resolve);
      this.checkIdle();
    });
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.waiting.length = 0;
    this.checkIdle();
  }

  private pump(): void {
    for (const c of this.consumers) {
      while (!c.closed && c.running < c.concurrency && this.waiting.length > 0) {
        const job = this.waiting.shift()!;
        c.running++;
        this.active++;
        const p = this.run(c.handler, job).finally(() => {
          c.running--;
          this.active--;
          c.inFlight.delete(p);
          this.pump();
          this.checkIdle();
        });
        c.inFlight.add(p);
      }
    }
  }

  private async run(handler: JobHandler<T>, job: MemoryJob<T>): Promise<void> {
    try {
      await handler({ id: job.id, data: job.data, attemptsMade: job.attemptsMade });
      this.live.delete(job.id);
    } catch (err) {
      job.attemptsMade++;
      if (isUnrecoverable(err) || job.attemptsMade >= this.attempts) {
        this.live.delete(job.id);
        this.failedJobs.push(job.id);
        return;
      }
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.waiting.push(job);
        this.pump();
      }, retryDelayMs(this.backoffMs, job.attemptsMade));
      this.timers.add(timer);
    }
  }

  private checkIdle(): void {
    if (this.waiting.length > 0 || this.active > 0 || this.timers.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of waiters) f();
  }
}
